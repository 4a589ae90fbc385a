"""Answers without an LLM: the part of the best passages that matches the question best, cited.

A short passage (an FAQ answer, a week of the plan) is quoted whole: it was written to answer one
question. From a longer one Lotse quotes a contiguous stretch of sentences and list items (so a list
keeps its lead-in), chosen by embedding similarity to the question and by how many of the question's
terms the stretch covers.

Instruction-like text in a passage ("Ignoriere alle vorherigen Anweisungen …", flagged at ingest) is
never quoted: the same `data_only` view the LLM prompt uses drops it and what follows it in its paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.answering.retrieval import Passage
from bot.safety.injection import data_only
from ingest.analysis import Analyzer
from ingest.chunking import split_sentences
from ingest.embedder import Embedder

WHOLE_PASSAGE_WORDS = 140  # the guide's sections are 60–140 words: quote them whole
ANSWER_WORDS = 90
FIGURE_WORDS = 45  # a question for one figure gets the sentences that carry it, not the whole section
PASSAGES_CONSIDERED = 2
# "Wie viel …", "Wie lange …", "Ab wann …", "auf wie viele Minuten …", "how much …": a question for a figure
_FIGURE_QUESTION = re.compile(
    r"\b(wie ?viele?|wie lange|wie hoch|ab wann|auf wie|um wie|wie gro(?:ß|ss)|wieviel|"
    r"how (?:much|many|long|big|high)|what (?:percentage|share|amount))\b"
    # "wann"/"when" asks for a time only where a question starts, not as a conjunction ("… when we use AI")
    r"|(?:^|[,;:–-]\s*)(?:wann|when)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Unit:
    passage: int  # 1-based citation number
    text: str
    words: int


def _units(passage: Passage, number: int) -> list[_Unit]:
    """Sentences and list items of a passage, in order, without instruction-like text."""
    return [_Unit(number, text, words) for text, words in _pieces(passage.text)]


@lru_cache(maxsize=4096)
def _pieces(text: str) -> tuple[tuple[str, int], ...]:
    """(sentence or list item, its word count) of a passage's text, read once per text: the same passages
    come up again and again, and the instruction check of `data_only` took most of an extractive answer."""
    pieces: list[tuple[str, int]] = []
    for line in data_only(text).split("\n"):
        is_item = bool(re.match(r"^\s*(?:[-*•]|\d+[.)])\s+", line))
        line = line.strip()
        if not line:
            continue
        pieces.extend((p, len(p.split())) for p in ([line] if is_item else split_sentences(line)))
    return tuple(pieces)


_VECTORS: dict[tuple[str, str], object] = {}
VECTORS_KEPT = 8192  # sentences and questions whose embeddings are kept: the same ones come again and again


def _embedded(embedder: Embedder, texts: list[str]):
    """The texts' embeddings, each computed once per model (a sentence's vector does not change)."""
    import numpy as np

    # read into a dict of this call's own: another thread may empty the shared one at any moment
    found = {t: _VECTORS.get((embedder.name, t)) for t in dict.fromkeys(texts)}
    missing = [t for t, vector in found.items() if vector is None]
    if missing:
        if len(_VECTORS) + len(missing) > VECTORS_KEPT:
            _VECTORS.clear()
        for text, vector in zip(missing, embedder.embed(missing), strict=True):
            found[text] = _VECTORS[(embedder.name, text)] = vector
    return np.stack([found[t] for t in texts])


def _join(units: list[_Unit]) -> str:
    text = ""
    for unit in units:
        item = re.match(r"^(?:[-*•]|\d+[.)])\s+", unit.text)
        if item:
            text += ("\n" if text else "") + "• " + unit.text[item.end() :]
        else:
            text += (
                "\n"
                if text.endswith(("…", ":")) or (text and text.split("\n")[-1].startswith("• "))
                else " "
                if text
                else ""
            ) + unit.text
    return text.strip()


def asks_for_figure(question: str) -> bool:
    return bool(_FIGURE_QUESTION.search(question))


def extractive_answer(
    question: str, passages: list[Passage], embedder: Embedder, analyzer: Analyzer, companion: Passage | None = None
) -> str | None:
    """The answer text with [n] citations into `passages` (1-based); None if nothing in the best passages
    may be quoted (they hold nothing but instruction-like text). A question for a figure gets the
    sentences that carry it; any other question a whole short section, or the best stretch of a long one.
    `companion`: the best subsection of a first passage that only introduces it ("PoC or production?"
    finds the introduction; what production takes is in its subsection): quoted after it, as [n] of
    `passages` if it is among them, else as one more passage — the caller appends it to the sources."""
    top = passages[0]
    figure = asks_for_figure(question)
    limit = FIGURE_WORDS if figure else WHOLE_PASSAGE_WORDS
    if len(top.text.split()) <= limit and (whole := _join(_units(top, 1))):
        if companion is not None and not figure and len(companion.text.split()) <= WHOLE_PASSAGE_WORDS:
            ids = [p.chunk_id for p in passages]
            number = ids.index(companion.chunk_id) + 1 if companion.chunk_id in ids else len(passages) + 1
            if rest := _join(_units(companion, number)):
                return f"{whole} [1]\n\n{rest} [{number}]"
        return f"{whole} [1]"

    question_terms = set(analyzer.terms(question))
    best: tuple[float, list[_Unit]] | None = None
    for number, passage in enumerate(passages[:PASSAGES_CONSIDERED], 1):
        units = _units(passage, number)
        if not units:
            continue
        vectors = _embedded(embedder, [question] + [u.text for u in units])
        similarity = vectors[1:] @ vectors[0]
        terms = [set(analyzer.terms(u.text)) for u in units]
        for start in range(len(units)):
            covered: set[str] = set()
            words = 0
            has_figure = False
            for end in range(start, len(units)):
                words += units[end].words
                if words > (FIGURE_WORDS if figure else ANSWER_WORDS) and end > start:
                    break
                covered |= terms[end] & question_terms
                has_figure = has_figure or bool(re.search(r"\d", units[end].text))
                window = similarity[start : end + 1]
                score = (
                    float(window.max())
                    + 0.8 * len(covered) / max(len(question_terms), 1)
                    + (0.002 * words if not figure else 0.3 * has_figure - 0.002 * words)
                    + (0.05 if number == 1 else 0.0)
                )
                if best is None or score > best[0]:
                    best = (score, units[start : end + 1])
    if best is None:
        return None
    chosen = best[1]
    # a list item needs its lead-in ("… these costs:") to make sense
    first = chosen[0]
    units = _units(passages[first.passage - 1], first.passage)
    index = units.index(first)
    if first.text.lstrip()[:1] in "-*•" and index > 0 and units[index - 1].text.endswith(":"):
        chosen = [units[index - 1], *chosen]
    return f"{_join(chosen)} [{first.passage}]"
