"""Latency and throughput: warm `ask` at 1k, 10k and 100k chunks, cold `lotse ask`, ingest speed.

    python -m bench.latency [--sizes 1000 10000 100000] [--queries 200]

Synthetic indexes (the real knowledge base plus filler chunks) are built once under bench/.cache and
reused. Filler text is made from the knowledge base's own words, so BM25 sees a realistic vocabulary;
filler vectors are mixtures of real USE embeddings of filler texts (embedding 100k passages would take
~15 minutes on two cores and measures the embedder, not the query path).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def build_synthetic(size: int, knowledge: Path) -> Path:
    from bot.settings import Settings
    from bot.storage import ChunkRow, DocumentRow
    from ingest.analysis import words
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest

    data_dir = CACHE / f"synthetic-{size}"
    if (data_dir / "READY").exists():
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    index = KnowledgeIndex(Settings(data_dir=data_dir, knowledge_dir=knowledge))
    real = ingest(index, [knowledge], progress=False).chunks
    filler = max(size - real, 0)
    rng = random.Random(size)
    vocabulary = sorted({w for f in knowledge.rglob("*.md") for w in words(f.read_text("utf-8")) if len(w) > 3})
    pool_texts = [" ".join(rng.choices(vocabulary, k=rng.randint(50, 110))) for _ in range(min(filler, 1500))]
    pool = index.embedder.embed(pool_texts) if pool_texts else np.zeros((0, 512), np.float32)
    batch = 5000
    for start in range(0, filler, batch):
        n = min(batch, filler - start)
        doc_id = f"synthetic-{start:07d}"
        a, b = rng.choices(range(len(pool)), k=n), rng.choices(range(len(pool)), k=n)
        vectors = pool[a] + pool[b] + np.random.default_rng(start).normal(0, 0.02, (n, 512)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"{doc_id}-{i}" for i in range(n)]
        texts = [" ".join(rng.choices(vocabulary, k=rng.randint(50, 110))) for _ in range(n)]
        language = "de" if (start // batch) % 2 == 0 else "en"
        with index.db.session() as s:
            s.add(
                DocumentRow(
                    id=doc_id,
                    path=f"/synthetic/{doc_id}.md",
                    root="/synthetic",
                    source=f"{doc_id}.md",
                    title=f"Filler {start}",
                    language=language,
                    sha256="-",
                    chunk_count=n,
                )
            )
            s.flush()
            s.add_all(
                ChunkRow(
                    id=cid,
                    document_id=doc_id,
                    position=i,
                    language=language,
                    title=f"Filler {start}",
                    section=f"Abschnitt {i}",
                    source=f"{doc_id}.md",
                    text=t,
                    heading_vector=pool[rng.randrange(len(pool))].tobytes(),
                )
                for i, (cid, t) in enumerate(zip(ids, texts, strict=True))
            )
        index.vectors.add(ids, vectors, [{"document_id": doc_id, "language": language}] * n)
        print(f"  synthetic-{size}: {start + n}/{filler} filler chunks", file=sys.stderr)
    index.mark_vectors_current()  # the fillers' vectors were written here, not by an ingest
    index.rebuild_lexical()
    (data_dir / "READY").write_text(str(index.chunk_count()))
    return data_dir


def warm_latency(data_dir: Path, questions: list[str], queries: int) -> tuple[int, list[float]]:
    from bot.answering import AnswerService
    from bot.settings import Settings

    service = AnswerService(Settings(data_dir=data_dir))
    service.retriever.keep = False  # the questions repeat: kept query vectors and results would skip the work
    service.retriever.warm_up()
    for q in questions[:10]:
        service.ask(q)
    timings = []
    for i in range(queries):
        started = time.perf_counter()
        service.ask(questions[i % len(questions)])
        timings.append((time.perf_counter() - started) * 1000)
    return service.index.chunk_count(), timings


def cold_start(data_dir: Path, runs: int = 5) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_"))}
    env["LOTSE_DATA_DIR"] = str(data_dir)
    lotse = Path(sys.executable).with_name("lotse")
    command = [str(lotse)] if lotse.exists() else [sys.executable, "-m", "bot.app.cli"]
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [*command, "ask", "Wie viel Budget brauchen wir pro Person?", "--json"],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        timings.append(time.perf_counter() - started)
    return timings


def ingest_throughput(knowledge: Path) -> tuple[int, int, float]:
    from bot.settings import Settings
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest

    with tempfile.TemporaryDirectory() as tmp:
        index = KnowledgeIndex(Settings(data_dir=Path(tmp)))
        index.embedder.embed_one("load")  # the model load is start-up, not throughput
        report = ingest(index, [knowledge], progress=False)
    return len(report.added), report.chunks, report.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    args = parser.parse_args(argv)
    questions = [q["question"] for q in yaml.safe_load((ROOT / "bench/eval/questions.yaml").read_text("utf-8"))]

    print("| index | chunks | warm ask p50 (ms) | p95 (ms) | max (ms) |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        data_dir = build_synthetic(size, args.knowledge)
        chunks, timings = warm_latency(data_dir, questions, args.queries)
        print(
            f"| synthetic-{size} | {chunks} | {statistics.median(timings):.1f} | {percentile(timings, 95):.1f} "
            f"| {max(timings):.1f} |",
            flush=True,
        )

    small = build_synthetic(args.sizes[0], args.knowledge)
    cold_start(small, 1)  # first run writes the tokenizer cache
    cold = cold_start(small)
    print(
        f"\nCold `lotse ask --json` (new process, {args.sizes[0]}-chunk index): "
        f"median {statistics.median(cold):.2f} s, max {max(cold):.2f} s over {len(cold)} runs"
    )
    files, chunks, seconds = ingest_throughput(args.knowledge)
    print(
        f"Ingest of {args.knowledge.name}/: {files} files, {chunks} chunks in {seconds:.1f} s "
        f"({chunks / seconds:.0f} chunks/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
