"""Answers without an LLM: the sentences of the best passages that match the question best, cited.

A short passage (an FAQ answer, a week of the plan) is quoted whole: it was written to answer one
question. From a longer one, sentences are scored by embedding similarity to the question plus the
share of the question's terms they contain, and the best few are quoted in their original order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.answering.retrieval import Passage
from ingest.analysis import Analyzer
from ingest.chunking import split_sentences
from ingest.embedder import Embedder

WHOLE_PASSAGE_WORDS = 90
ANSWER_WORDS = 80
MAX_SENTENCES = 3
PASSAGES_CONSIDERED = 2


@dataclass(frozen=True)
class _Sentence:
    passage: int  # 1-based citation number
    order: int
    text: str


def _sentences(passage: Passage, number: int) -> list[_Sentence]:
    out: list[_Sentence] = []
    for line in passage.text.split("\n"):
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip()
        out.extend(_Sentence(number, len(out), s) for s in split_sentences(line) if len(s.split()) >= 3)
    return out


def _cite(text: str, number: int) -> str:
    text = text.strip()
    return f"{text} [{number}]"


def extractive_answer(question: str, passages: list[Passage], embedder: Embedder, analyzer: Analyzer) -> str:
    """The answer text with [n] citations into `passages` (1-based)."""
    top = passages[0]
    if len(top.text.split()) <= WHOLE_PASSAGE_WORDS:
        body = " ".join(s.text for s in _sentences(top, 1)) or top.text
        return _cite(body, 1)

    candidates = [s for i, p in enumerate(passages[:PASSAGES_CONSIDERED], 1) for s in _sentences(p, i)]
    if not candidates:
        return _cite(top.text, 1)
    vectors = embedder.embed([question] + [s.text for s in candidates])
    similarity = vectors[1:] @ vectors[0]
    question_terms = set(analyzer.terms(question))
    overlap = np.array(
        [len(question_terms & set(analyzer.terms(s.text))) / max(len(question_terms), 1) for s in candidates]
    )
    rank_bonus = np.array([0.05 if s.passage == 1 else 0.0 for s in candidates])
    scores = similarity + 0.5 * overlap + rank_bonus

    chosen: list[_Sentence] = []
    words = 0
    for i in np.argsort(-scores):
        sentence = candidates[int(i)]
        n = len(sentence.text.split())
        if chosen and (words + n > ANSWER_WORDS or scores[i] < 0.75 * scores[np.argmax(scores)]):
            break
        chosen.append(sentence)
        words += n
        if len(chosen) == MAX_SENTENCES:
            break
    chosen.sort(key=lambda s: (s.passage, s.order))
    parts: list[str] = []
    for number in sorted({s.passage for s in chosen}):
        parts.append(_cite(" ".join(s.text for s in chosen if s.passage == number), number))
    return " ".join(parts)
