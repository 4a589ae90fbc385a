"""Retrieval and answer quality on the evaluation sets, side by side with three baselines over the same
documents: the LangChain tutorial retriever (RecursiveCharacterTextSplitter 1000/200 + Chroma vector
search, same embedder), plain BM25 with German/English Snowball stemming, and USE + BM25 by
reciprocal-rank fusion (both on the tutorial's chunks).

    python -m bench.evaluate [--set NAME ...] [--knowledge DIR] [--verbose]

Sets (bench/eval/): `questions` (the first set, tuned on), `realistic-dev` (tuned on) and
`realistic-heldout` (never tuned on: `--verbose` prints no item of it). Default: all three.

Grading, per question (bench/README.md):
- `expect`: a passage or answer hits when each item (a list of alternatives) occurs in it, after
  lowercasing, removing thousands separators and unifying dashes.
- `parts` (two-part questions): each part must be hit; a part's rank is its first hitting passage,
  and hit@k means every part within the first k + (parts − 1) passages (an answer cites one passage
  per part). The answer must carry every part's facts.
- `answer_expect`: facts only the answer must carry as well (a figure computed from the question).
- `offtopic`: the knowledge base does not cover it; the right reply is a refusal. `class: near_miss`
  are the company-specific or detailed ones that sound on-topic.
- `turns` (follow-up conversations): each turn goes through the chat core as one person's
  conversation; a turn is right when its answer carries its facts.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "bench" / "eval"
SETS = ("questions", "realistic-dev", "realistic-dev2", "realistic-dev3", "realistic-heldout")


def normalise(text: str) -> str:
    text = text.lower().replace("\u00a0", " ").replace("\u202f", " ")
    text = re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=\d) (?=\d{3}\b)", "", text)
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


def rank_of(texts: list[str], q: dict) -> int | None:
    """The rank at which `q` counts as found: for a two-part question the worst part's, less the
    extra passages an answer of several parts needs (see the module's docstring)."""
    parts = q.get("parts")
    if not parts:
        return first_hit(texts, q["expect"])
    ranks = [first_hit(texts, part) for part in parts]
    if any(r is None for r in ranks):
        return None
    return max(1, max(ranks) - (len(parts) - 1))  # type: ignore[type-var]


def answer_facts(q: dict) -> list:
    facts = [f for part in q["parts"] for f in part] if q.get("parts") else list(q["expect"])
    return facts + list(q.get("answer_expect") or [])


# -- baselines ------------------------------------------------------------------------------------------


def tutorial_chunks(knowledge: Path) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = []
    for f in sorted(knowledge.rglob("*.md")):
        text = re.sub(r"<!--.*?-->\n?", "", f.read_text("utf-8"), flags=re.DOTALL)  # metadata is no text
        texts.extend(splitter.split_text(text))
    return texts


class Baselines:
    """The three reference retrievers, over the tutorial splitter's chunks of the same files."""

    def __init__(self, knowledge: Path, embedder) -> None:
        import bm25s
        import chromadb
        import Stemmer
        from chromadb.config import Settings as ChromaSettings

        self.texts = tutorial_chunks(knowledge)
        self.embedder = embedder
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        name = f"tutorial-{time.monotonic_ns()}"
        self.col = client.create_collection(name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        ids = [str(i) for i in range(len(self.texts))]
        self.col.add(ids=ids, embeddings=embedder.embed(self.texts), documents=self.texts)
        self.stemmers = {"de": Stemmer.Stemmer("german"), "en": Stemmer.Stemmer("english")}
        self.bm25 = {}
        for lang, stemmer in self.stemmers.items():
            retriever = bm25s.BM25()
            retriever.index(
                bm25s.tokenize(self.texts, stopwords=lang, stemmer=stemmer, show_progress=False), show_progress=False
            )
            self.bm25[lang] = retriever

    def vector(self, question: str, k: int) -> list[int]:
        found = self.col.query(query_embeddings=self.embedder.embed([question]), n_results=k)
        return [int(i) for i in found["ids"][0]]

    def lexical(self, question: str, lang: str, k: int) -> list[int]:
        import bm25s

        tokens = bm25s.tokenize([question], stopwords=lang, stemmer=self.stemmers[lang], show_progress=False)
        if not tokens.vocab:
            return []
        ids, scores = self.bm25[lang].retrieve(tokens, k=min(k, len(self.texts)), show_progress=False)
        return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def rankings(self, question: str, lang: str, k: int = 5) -> dict[str, list[str]]:
        vector = self.vector(question, 20)
        lexical = self.lexical(question, lang, 20)
        fused: dict[int, float] = {}
        for hits in (vector, lexical):
            for rank, i in enumerate(hits, 1):
                fused[i] = fused.get(i, 0.0) + 1 / (60 + rank)
        fusion = sorted(fused, key=lambda i: -fused[i])
        return {
            "tutorial": [self.texts[i] for i in vector[:k]],
            "bm25": [self.texts[i] for i in lexical[:k]],
            "use+bm25": [self.texts[i] for i in fusion[:k]],
        }


# -- one set --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    ranks: dict[str, list[int | None]] = field(
        default_factory=lambda: {"lotse": [], "tutorial": [], "bm25": [], "use+bm25": []}
    )
    answer_hits: list[bool] = field(default_factory=list)
    coverable_refused: int = 0
    near_miss: list[bool] = field(default_factory=list)  # refused?
    offtopic: list[bool] = field(default_factory=list)
    turns: list[bool] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def _passage_texts(answer) -> list[str]:
    return [f"{p.section}\n{p.text}" if p.section else p.text for p in answer.sources]


def evaluate_set(items: list[dict], service, core_factory, baselines: Baselines | None, verbose: bool) -> Tally:
    from bot.core.messages import Incoming

    tally = Tally()
    for q in items:
        if q.get("turns"):
            core = core_factory()
            user = f"eval-{q['id']}"
            for number, turn in enumerate(q["turns"], 1):
                reply = core.handle(Incoming(text=turn["question"], user=user))
                right = reply.answered and has_facts(reply.text, turn["expect"])
                tally.turns.append(right)
                if verbose and not right:
                    print(f"TURN {q['id']}#{number} NO: {turn['question']!r} expect={turn['expect']}")
                    print("    reply:", reply.text[:240].replace("\n", " "))
            continue
        started = time.perf_counter()
        answer = service.ask(q["question"])
        tally.latencies.append((time.perf_counter() - started) * 1000)
        if q.get("offtopic"):
            (tally.near_miss if q.get("class") == "near_miss" else tally.offtopic).append(not answer.answered)
            if verbose and answer.answered:
                print(f"NOT REFUSED {q['id']} ({q.get('class')}): {q['question']}")
                print("    answer:", answer.answer[:200].replace("\n", " "))
            continue
        tally.coverable_refused += not answer.answered
        rank = rank_of(_passage_texts(answer), q)
        tally.ranks["lotse"].append(rank)
        hit = answer.answered and has_facts(answer.answer, answer_facts(q))
        tally.answer_hits.append(hit)
        if baselines is not None:
            for name, texts in baselines.rankings(q["question"], q.get("lang", "de")).items():
                tally.ranks[name].append(rank_of(texts, q))
        if verbose and (rank is None or rank > 1 or not hit):
            print(
                f"{'MISS' if rank is None else f'rank {rank}'} answer={'ok' if hit else 'NO'} {q['id']} "
                f"({q.get('class', '')}): {q['question']}  expect={q.get('parts') or q['expect']}"
            )
            print("    top:", " | ".join(p.section for p in answer.sources[:3]))
            print("    answer:", answer.answer[:300].replace("\n", " "))
    return tally


def _share(ranks: list[int | None], k: int) -> str:
    return f"{sum(r is not None and r <= k for r in ranks) / len(ranks):.2f}" if ranks else "–"


def print_table(results: dict[str, Tally]) -> None:
    print(
        "| set | retriever | n | hit@1 | hit@3 | answer-hit | coverable refused | near misses refused "
        "| off-topic refused | follow-up turns right |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, t in results.items():
        n = len(t.ranks["lotse"])
        for retriever, ranks in t.ranks.items():
            if not ranks:
                continue
            if retriever == "lotse":
                extra = [
                    f"{sum(t.answer_hits) / n:.3f} ({sum(t.answer_hits)})",
                    f"{t.coverable_refused / n:.1%} ({t.coverable_refused})",
                    f"{sum(t.near_miss)}/{len(t.near_miss)}" if t.near_miss else "–",
                    f"{sum(t.offtopic)}/{len(t.offtopic)}" if t.offtopic else "–",
                    f"{sum(t.turns)}/{len(t.turns)} ({sum(t.turns) / len(t.turns):.0%})" if t.turns else "–",
                ]
            else:
                extra = [
                    "–",
                    "–",
                    f"0/{len(t.near_miss)}" if t.near_miss else "–",
                    f"0/{len(t.offtopic)}" if t.offtopic else "–",
                    "–",
                ]
            print(
                f"| {name} | {retriever} | {n} | {_share(ranks, 1)} | {_share(ranks, 3)} | " + " | ".join(extra) + " |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="sets", action="append", choices=SETS, help="a set to run (repeatable)")
    parser.add_argument("--questions", type=Path, help="another question file")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--no-baselines", action="store_true", help="Lotse only (faster)")
    parser.add_argument("--verbose", action="store_true", help="list the misses (never of the held-out set)")
    args = parser.parse_args(argv)

    from bot.answering import AnswerService
    from bot.app.services import build_core
    from bot.settings import Settings
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest

    files = {name: EVAL / f"{name}.yaml" for name in (args.sets or SETS)}
    if args.questions:
        files = {args.questions.stem: args.questions}
    data_dir = Path(tempfile.mkdtemp(prefix="lotse-eval-"))
    settings = Settings(data_dir=data_dir, knowledge_dir=args.knowledge)
    index = KnowledgeIndex(settings)
    report = ingest(index, [args.knowledge], progress=False)
    service = AnswerService(settings, index)
    baselines = None if args.no_baselines else Baselines(args.knowledge, index.embedder)

    def core_factory():
        return build_core(settings, service)

    results: dict[str, Tally] = {}
    for name, path in files.items():
        if not path.exists():
            print(f"(no {path.name}: skipped)", file=sys.stderr)
            continue
        items = yaml.safe_load(path.read_text("utf-8"))
        verbose = args.verbose and "heldout" not in name
        results[name] = evaluate_set(items, service, core_factory, baselines, verbose)

    print(
        f"\nKnowledge: {args.knowledge} — {report.chunks} chunks; "
        f"baselines on {len(baselines.texts) if baselines else 0} tutorial chunks\n"
    )
    print_table(results)
    latencies = [ms for t in results.values() for ms in t.latencies]
    if latencies:
        print(
            f"\nLotse ask latency (warm, extractive): p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {statistics.quantiles(latencies, n=20)[18]:.1f} ms, max {max(latencies):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
