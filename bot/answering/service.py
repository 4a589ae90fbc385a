"""Answering one question: language, follow-up context, retrieval, the on-topic gate, then an LLM
answer (when configured) or an extractive one. Channels never call retrieval directly; they go
through the core, which calls `AnswerService.ask`."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import metrics
from bot.answering.extractive import extractive_answer
from bot.answering.retrieval import Passage, Retrieval, Retriever
from bot.core import i18n
from bot.core.language import detect_language
from bot.settings import Settings
from ingest.analysis import Analyzer
from ingest.index import KnowledgeIndex

# The on-topic gate, calibrated on bench/eval/questions.yaml (see bench/README.md): a question is
# answered when its best passage is semantically close, or close enough and one of the top passages
# holds most of the question's terms (short questions such as "Was ist RAG?" embed poorly).
MIN_SIMILARITY = 0.35
MIN_SIMILARITY_WITH_TERMS = 0.25
MIN_COVERAGE = 0.6

_FOLLOW_UP_START = re.compile(
    r"^(und|aber|also|auch|dafür|davon|dazu|was ist mit|wie ist es mit|und wie|and|but|also|what about|"
    r"how about|and for|same for)\b",
    re.IGNORECASE,
)
History = list[tuple[str, str]]  # (role, text), oldest first

log = logging.getLogger(__name__)


@dataclass
class Answer:
    question: str
    answered: bool
    answer: str
    language: str
    mode: str  # "llm" or "extractive"
    sources: list[Passage] = field(default_factory=list)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "answer": self.answer,
            "language": self.language,
            "mode": self.mode,
            "sources": [
                {"title": p.title, "source": p.source, "section": p.section, "text": p.text, "score": p.score}
                for p in self.sources
            ],
        }


def is_follow_up(question: str) -> bool:
    content = [w for w in re.findall(r"\w+", question.lower()) if len(w) > 3]
    return bool(_FOLLOW_UP_START.match(question.strip())) or len(content) <= 2


def retrieval_query(question: str, history: History) -> str:
    """A follow-up ("Und pro Monat?") is searched together with the previous question."""
    previous = [text for role, text in history if role == "user"]
    if previous and is_follow_up(question):
        return f"{question} {question} {previous[-1]}"
    return question


class AnswerService:
    def __init__(self, settings: Settings, index: KnowledgeIndex | None = None) -> None:
        self.settings = settings
        self.index = index or KnowledgeIndex(settings)
        self.retriever = Retriever(self.index)
        self._llm = None
        self.people = None  # the core shares its People, so a name it learns is masked at once
        self._analyzers: dict[str, Analyzer] = {}

    @property
    def mode(self) -> str:
        return "llm" if self.settings.llm.enabled else "extractive"

    def _llm_answerer(self):
        if self._llm is None:
            from bot.answering.llm import LLMAnswerer
            from bot.storage.people import People

            # names to mask towards a non-local endpoint; the daily budget is counted in the same database
            if self.people is None:
                self.people = People(self.index.db)
            self._llm = LLMAnswerer(self.settings.llm, names=self.people.names, db=self.index.db)
        return self._llm

    def _analyzer(self, language: str) -> Analyzer:
        if language not in self._analyzers:
            self._analyzers[language] = Analyzer(language)
        return self._analyzers[language]

    def on_topic(self, retrieval: Retrieval) -> bool:
        if not retrieval.passages:
            return False
        if retrieval.best_similarity >= MIN_SIMILARITY:
            return True
        return retrieval.best_similarity >= MIN_SIMILARITY_WITH_TERMS and retrieval.coverage >= MIN_COVERAGE

    def ask(
        self,
        question: str,
        history: History | None = None,
        language: str | None = None,
        answered_before: set[str] | frozenset[str] = frozenset(),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer `question`. `history` holds the conversation so far; `answered_before` the chunk ids
        the previous answer cited — a follow-up wants something new, so those rank last. `on_text`
        receives an LLM answer's text piece by piece while it is written (streaming)."""
        history = history or []
        question = " ".join(question.split())
        previous_language = language or "de"
        language = detect_language(question, default=previous_language)
        if not question:
            return Answer(question, False, i18n.text("empty_question", language), language, self.mode)
        if len(question) > self.settings.max_question_chars:
            message = i18n.text(
                "question_too_long", language, length=len(question), limit=self.settings.max_question_chars
            )
            return Answer(question, False, message, language, self.mode)
        self.index.follow()  # another process's ingest (a replica): every few seconds, one small SELECT
        self.index.lexical.refresh()  # a BM25 build holds the chunks of the latest ingest: no need to count them
        if not self.index.lexical.languages and self.index.chunk_count() == 0:
            return Answer(question, False, i18n.text("no_knowledge", language), language, self.mode)

        query = retrieval_query(question, history)
        retrieval = self.retriever.search(
            query, language, self.settings.top_k, focus=question if query != question else None
        )
        passages = list(retrieval.passages)  # the retrieval may be a kept one, shared: never changed here
        if query != question and answered_before:
            passages = [p for p in passages if p.chunk_id not in answered_before] + [
                p for p in passages if p.chunk_id in answered_before
            ]
        if not self.on_topic(retrieval):
            return Answer(question, False, i18n.text("not_in_knowledge_base", language), language, self.mode)

        note = None
        if self.settings.llm.enabled:
            from bot.answering.llm import LLMUnavailable

            started = time.perf_counter()
            try:
                text = self._llm_answerer().answer(question, passages, language, history[-6:], on_text)
            except LLMUnavailable as exc:
                metrics.LLM_ERRORS.labels(exc.reason).inc()
                log.warning("the LLM did not answer (%s); the answer is extractive", exc.reason)
                note = i18n.text(exc.note_key or "llm_fallback_note", language, reason=exc.reason)
            else:
                metrics.LLM_SECONDS.observe(time.perf_counter() - started)
                if text is None:
                    refusal = i18n.text("not_in_knowledge_base", language)
                    return Answer(question, False, refusal, language, "llm", passages)
                return Answer(question, True, text, language, "llm", passages)

        text = extractive_answer(question, passages, self.index.embedder, self._analyzer(language))
        if text is None:  # the passages found hold only instruction-like text: nothing to quote
            return Answer(question, False, i18n.text("not_in_knowledge_base", language), language, "extractive",
                          passages)  # fmt: skip
        if note:
            text = f"{text}\n\n{note}"
        return Answer(question, True, text, language, "extractive", passages, note)
