"""Retrieval through a Chroma server (`chroma run` on 127.0.0.1) against the embedded store, for the
questions of bench/eval/questions.yaml. Target (issue 8): the server's latency ≤ 2× the embedded one.

    python -m bench.chroma_server [--rounds 5]

Both indexes are ingested from knowledge/ into fresh folders; each round asks every question once
through `Retriever.search` (vector and BM25 search, fusion, heading ranking: what a chat turn does
before it writes an answer), first embedded, then through the server. The embedder's cache is warm
for both. Also checked: both return the same top-3 passages for every question.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bot.answering import AnswerService
from bot.settings import Settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        str(Path(sys.executable).parent / "chroma"),
        "run",
        "--path",
        str(folder),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise SystemExit("`chroma run` did not start") from None
            time.sleep(0.2)


def service(settings: Settings) -> AnswerService:
    index = KnowledgeIndex(settings)
    report = ingest(index, [settings.knowledge_dir], progress=False)
    assert not report.failed, report.failed
    answers = AnswerService(settings, index)
    answers.retriever.keep = False  # every round searches: a kept result would measure neither store
    return answers


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = [
        (q["question"], q["lang"]) for q in yaml.safe_load((ROOT / "bench/eval/questions.yaml").read_text("utf-8"))
    ]
    folder = Path(tempfile.mkdtemp(prefix="lotse-bench-chroma-"))
    server, url = start_server(folder / "server")
    try:
        embedded = service(Settings(data_dir=folder / "embedded", knowledge_dir=ROOT / "knowledge"))
        remote = service(Settings(data_dir=folder / "remote", knowledge_dir=ROOT / "knowledge", chroma_url=url))
        same = sum(
            [p.chunk_id for p in embedded.retriever.search(q, lang, 3).passages]
            == [p.chunk_id for p in remote.retriever.search(q, lang, 3).passages]
            for q, lang in questions
        )
        times: dict[str, list[float]] = {"embedded": [], "server": []}
        for _ in range(args.rounds):
            for name, svc in (("embedded", embedded), ("server", remote)):
                for question, lang in questions:
                    started = time.perf_counter()
                    svc.retriever.search(question, lang, 5)
                    times[name].append((time.perf_counter() - started) * 1000)
        print(f"{len(questions)} questions × {args.rounds} rounds; same top-3 passages for {same}/{len(questions)}\n")
        print("| store | p50 ms | p95 ms | mean ms |")
        print("|---|---|---|---|")
        for name, values in times.items():
            print(
                f"| {name} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} | "
                f"{statistics.mean(values):.1f} |"
            )
        ratio = statistics.median(times["server"]) / statistics.median(times["embedded"])
        verdict = "met" if ratio <= 2 else "MISSED"
        print(f"\nserver / embedded (p50): {ratio:.2f}× — target ≤ 2×: {verdict}")
        return 0 if verdict == "met" else 1
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
