"""Retrieval and answer quality on bench/eval/questions.yaml, side by side with the plain LangChain
tutorial retriever (RecursiveCharacterTextSplitter 1000/200 + Chroma vector search, same embedder).

    python -m bench.evaluate [--questions FILE] [--knowledge DIR] [--verbose]

A hit: one passage contains every expected fact (after normalising case, dashes and thousands
separators). Prints a table; `--verbose` lists the misses.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def normalise(text: str) -> str:
    text = text.lower().replace("\u00a0", " ")
    text = re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", text)
    return re.sub(r"[\u2010-\u2015\u2212]", "-", text)


def has_facts(text: str, expect: list) -> bool:
    norm = normalise(text)
    for item in expect:
        options = item if isinstance(item, list) else [item]
        if not any(normalise(str(o)) in norm for o in options):
            return False
    return True


def first_hit(texts: list[str], expect: list) -> int | None:
    for rank, text in enumerate(texts, 1):
        if has_facts(text, expect):
            return rank
    return None


def tutorial_retriever(knowledge: Path, embedder):
    """The LangChain tutorial set-up: blind 1000/200 chunks, Chroma vector search, nothing else."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = [t for f in sorted(knowledge.rglob("*.md")) for t in splitter.split_text(f.read_text("utf-8"))]
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    col = client.create_collection("tutorial", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    col.add(ids=[str(i) for i in range(len(texts))], embeddings=embedder.embed(texts), documents=texts)

    def search(question: str, k: int = 5) -> list[str]:
        return col.query(query_embeddings=embedder.embed([question]), n_results=k)["documents"][0]

    return search, len(texts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "eval" / "questions.yaml")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    from bot.answering import AnswerService
    from bot.settings import Settings
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest

    questions = yaml.safe_load(args.questions.read_text("utf-8"))
    data_dir = Path(tempfile.mkdtemp(prefix="lotse-eval-"))
    settings = Settings(data_dir=data_dir, knowledge_dir=args.knowledge)
    index = KnowledgeIndex(settings)
    report = ingest(index, [args.knowledge], progress=False)
    service = AnswerService(settings, index)
    tutorial, tutorial_chunks = tutorial_retriever(args.knowledge, index.embedder)

    rows = {"lotse": [], "tutorial": []}
    refusals = {"offtopic_refused": 0, "offtopic": 0, "ontopic_refused": 0}
    sims: dict[str, list[float]] = {"on": [], "off": []}
    latencies = []
    for q in questions:
        started = time.perf_counter()
        answer = service.ask(q["question"])
        latencies.append((time.perf_counter() - started) * 1000)
        retrieval = service.retriever.search(q["question"], answer.language, 5)
        sims["off" if q.get("offtopic") else "on"].append(retrieval.best_similarity)
        if q.get("offtopic"):
            refusals["offtopic"] += 1
            refusals["offtopic_refused"] += not answer.answered
            if args.verbose and answer.answered:
                print(
                    f"NOT REFUSED {q['id']}: {q['question']} (sim {retrieval.best_similarity:.2f}, "
                    f"cov {retrieval.coverage:.2f}, bm25 {retrieval.best_lexical:.1f})"
                )
            continue
        refusals["ontopic_refused"] += not answer.answered
        passages = [p.text if not p.section else f"{p.section}\n{p.text}" for p in retrieval.passages]
        rank = first_hit(passages, q["expect"])
        answer_hit = answer.answered and has_facts(answer.answer, q["expect"])
        rows["lotse"].append((q, rank, answer_hit))
        t_rank = first_hit(tutorial(q["question"]), q["expect"])
        rows["tutorial"].append((q, t_rank, None))
        if args.verbose and (rank is None or rank > 1 or not answer_hit):
            print(
                f"{'MISS' if rank is None else f'rank {rank}'} answer={'ok' if answer_hit else 'NO'} "
                f"{q['id']}: {q['question']}  expect={q['expect']} (sim {retrieval.best_similarity:.2f})"
            )
            if not answer_hit:
                print("    top:", retrieval.passages[0].section if retrieval.passages else None)
                print("    answer:", answer.answer[:300].replace("\n", " "))

    def metrics(items):
        n = len(items)
        ranks = [r for _, r, _ in items]
        return {
            "n": n,
            "hit@1": sum(r == 1 for r in ranks) / n,
            "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
            "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr": sum(1 / r for r in ranks if r) / n,
        }

    print(
        f"\nKnowledge: {args.knowledge} — {report.chunks} chunks (tutorial splitter: {tutorial_chunks} chunks); "
        f"{len(questions)} questions, {refusals['offtopic']} off-topic\n"
    )
    print(
        "| retriever | subset | n | hit@1 | hit@3 | hit@5 | MRR | answer-hit | off-topic refused | on-topic refused |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in ("lotse", "tutorial"):
        for subset, pred in (
            ("all", lambda q: True),
            ("de", lambda q: q["lang"] == "de"),
            ("en", lambda q: q["lang"] == "en"),
        ):
            items = [row for row in rows[name] if pred(row[0])]
            if not items:
                continue
            m = metrics(items)
            if name == "lotse":
                ah = f"{sum(1 for _, _, a in items if a) / len(items):.2f}"
                off = f"{refusals['offtopic_refused']}/{refusals['offtopic']}" if subset == "all" else ""
                onr = f"{refusals['ontopic_refused']}" if subset == "all" else ""
            else:
                ah, off, onr = "—", f"0/{refusals['offtopic']}" if subset == "all" else "", ""
            print(
                f"| {name} | {subset} | {m['n']} | {m['hit@1']:.2f} | {m['hit@3']:.2f} | {m['hit@5']:.2f} "
                f"| {m['mrr']:.2f} | {ah} | {off} | {onr} |"
            )
    print(
        f"\nLotse ask latency over the set (warm, extractive): p50 {statistics.median(latencies):.1f} ms, "
        f"max {max(latencies):.1f} ms"
    )
    print(
        f"best cosine similarity — on-topic: min {min(sims['on']):.2f} p10 "
        f"{statistics.quantiles(sims['on'], n=10)[0]:.2f}; off-topic: max {max(sims['off']):.2f} "
        f"median {statistics.median(sims['off']):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
