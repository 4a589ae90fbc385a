"""Answering one message: its language; a follow-up rewritten from the conversation and two questions
split (bot/answering/conversation.py); retrieval per question; the answerability gate
(bot/answering/gate.py); then an LLM answer over the passages of every part that is answerable or
borderline (when configured), or an extractive one, part by part, with the guide's figures applied to
the asker's numbers (bot/answering/facts.py). A refusal keeps the nearest passages as unused sources.
Channels never call retrieval directly; they go through the core, which calls `AnswerService.ask`."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bot import metrics
from bot.answering.conversation import is_follow_up, refers_back, rewrite, split_parts, topic_query
from bot.answering.extractive import extractive_answer
from bot.answering.facts import computed, figure_first
from bot.answering.gate import Decision, decide, unknown_terms
from bot.answering.retrieval import Passage, Retriever
from bot.answering.scope import OutOfScope
from bot.core import i18n
from bot.core.language import detect_language
from bot.settings import Settings
from ingest.analysis import Analyzer, words
from ingest.index import KnowledgeIndex

History = list[tuple[str, str]]  # (role, text), oldest first
FOLLOW_UP_WORDS = 8  # a question this short may lean on the previous one when it finds nothing sure alone
# a refusal names the nearest sections when one is this close (cosine to the passage, or to a question it
# answers: any question resembles another question, so that bar is higher); else it says what Lotse covers
FOLLOW_UPS = 3  # Teams shows at most three suggested actions
FOLLOW_UP_CANDIDATES = 60  # the guide's questions looked at, the closest first
FOLLOW_UP_FLOOR = 0.55  # closer than this to the question (cosine): related enough to suggest
FOLLOW_UP_REWORDING = 0.8  # closer than this to the question or to one chosen: the same question in other words
NEARBY_PASSAGE = 0.35
NEARBY_ASKED = 0.62

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
    gap: bool = False  # refused for want of knowledge (not an empty or too long question): a knowledge gap
    follow_ups: list[str] = field(default_factory=list)  # questions other sections answer, to ask next

    def used(self, number: int) -> bool:
        """Whether source `number` (1-based) is quoted in the answer; a refusal's sources are the nearest
        passages, offered as "Meinten Sie …?" and never used."""
        return self.answered and f"[{number}]" in self.answer

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "answer": self.answer,
            "language": self.language,
            "mode": self.mode,
            "sources": [
                {
                    "title": p.title,
                    "source": p.source,
                    "section": p.section,
                    "text": p.text,
                    "score": p.score,
                    "guide": p.guide,
                    "used": self.used(n),
                }
                for n, p in enumerate(self.sources, 1)
            ],
        }


@dataclass
class _Found:
    """One question (or one part of a two-part question) with what the knowledge base holds for it."""

    question: str
    passages: list[Passage]
    decision: Decision
    agreement: int = 0  # how many rankings put the first passage in their top 3 (Retrieval.agreement)
    companion: Passage | None = None  # Retrieval.companion


def _guide_sections(guide: str) -> set[str]:
    """The guide's subsections a passage restates ("Phase 1 › Team-Skills …"; not a whole phase, which
    many passages share)."""
    return {part.strip() for part in guide.split(" ; ") if "›" in part}


def _same_words(a: set[str], b: set[str]) -> bool:
    """Two questions with at least three content words in common, most of their words: "Budget pro Kopf für
    KI-Schulungen?" and "Wie viel Budget brauchen wir pro Person für KI-Schulungen?"."""
    shared = len(a & b)
    return shared >= 3 and shared / max(len(a | b), 1) >= 0.6


class AnswerService:
    def __init__(self, settings: Settings, index: KnowledgeIndex | None = None) -> None:
        self.settings = settings
        self.index = index or KnowledgeIndex(settings)
        self.retriever = Retriever(self.index)
        self._llm = None
        self.people = None  # the core shares its People, so a name it learns is masked at once
        self._analyzers: dict[str, Analyzer] = {}
        self.scope = OutOfScope(lambda: self.index.embedder)
        self._asked: dict[str, tuple[Analyzer, dict[str, frozenset[str]]]] = {}  # see _asked_terms

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

    def _vocabulary(self, language: str) -> frozenset[str]:
        languages = self.index.lexical.languages
        scope = language if language in languages else next(iter(sorted(languages)), language)
        return self.index.lexical.analyzer(scope).vocabulary

    def ask(
        self,
        question: str,
        history: History | None = None,
        language: str | None = None,
        answered_before: set[str] | frozenset[str] = frozenset(),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer `question`. `history` holds the conversation so far; `answered_before` the chunk ids
        the previous answer cited — their sections tell where a follow-up ("und danach?") starts from. `on_text`
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
        language = self._language(question, language, previous_language)

        asked_before = [text for role, text in history if role == "user"]
        previous = asked_before[-1] if asked_before else None
        if previous and is_follow_up(previous):  # a chain of follow-ups keeps the topic it started from
            start = next((q for q in reversed(asked_before) if not is_follow_up(q)), None)
            previous = f"{previous} {start}" if start else previous
        sections = [row.section for row in self.index.chunks_by_id(sorted(answered_before)).values()]
        rewritten = rewrite(question, asked_before, sections, language)
        parts = split_parts(rewritten or question)
        found: list[_Found] = []
        quoted = tuple(sorted(answered_before))
        for number, part in enumerate(parts):
            context = None if rewritten else previous if number == 0 else parts[0]
            found.append(self._find(part, context, language, quoted if number == 0 and not rewritten else ()))
        if self.settings.llm.enabled and any(f.decision.verdict != "refuse" for f in found):
            answer = self._llm_answer(question, found, language, history, on_text)
            if answer is not None:
                return self._onward(answer, rewritten or question, asked_before)
        return self._onward(self._extractive(question, found, language), rewritten or question, asked_before)

    def _onward(self, answer: Answer, question: str, asked_before: list[str]) -> Answer:
        """Up to `FOLLOW_UPS` questions to ask next (Teams shows them as suggested actions): those the
        guide's other sections answer that are closest to this question — not the cited sections' own
        (this answer gave them), not a rewording of the question, not one asked before."""
        if not answer.answered:
            return answer
        ids, matrix, owner, texts = self.index.asked_with_texts(answer.language)
        if not texts or matrix.shape[0] != len(texts):
            return answer
        vector = self.retriever.embed_query(question)
        if matrix.shape[1] != vector.shape[0]:
            return answer
        similarity = matrix @ vector
        used = [p for number, p in enumerate(answer.sources, 1) if answer.used(number)]
        cited = {(p.source, p.section) for p in used}
        restated = {part for p in used for part in _guide_sections(p.guide)}  # the guide's sections they restate
        nearest = np.argsort(-similarity)[:FOLLOW_UP_CANDIDATES].tolist()
        rows = self.index.chunks_by_id(sorted({ids[owner[row]] for row in nearest}))
        before = {" ".join(q.lower().split()) for q in asked_before} | {" ".join(question.lower().split())}
        chosen: list[str] = []
        picked: list[int] = []  # their rows, to leave out rewordings of one already chosen
        analyzer = self.index.lexical.analyzer(answer.language)
        seen_terms = [set(analyzer.terms(question))]  # and their words (the embedder misses German rewordings)
        places: set[tuple[str, str]] = set()
        for row in nearest:
            if similarity[row] < FOLLOW_UP_FLOOR or len(chosen) == FOLLOW_UPS:
                break
            chunk = rows.get(ids[owner[row]])
            place = (chunk.source, chunk.section) if chunk is not None else ("", "")
            text = texts[row]
            own = self._asked_terms(answer.language, analyzer, text)
            alike = any(float(matrix[row] @ matrix[other]) > FOLLOW_UP_REWORDING for other in picked) or any(
                _same_words(own, terms) for terms in seen_terms
            )
            if (chunk is None or place in cited or place in places or similarity[row] > FOLLOW_UP_REWORDING or alike
                    or " ".join(text.lower().split()) in before
                    or restated & _guide_sections(chunk.guide)):  # fmt: skip
                continue  # a section restating what the answer cited asks the same in other words
            chosen.append(text)
            picked.append(row)
            seen_terms.append(own)
            before.add(" ".join(text.lower().split()))  # the same question under another section: once
            places.add(place)
        return replace(answer, follow_ups=chosen) if chosen else answer

    def warm_up(self) -> None:
        """Load what the first question would wait for: embedder, vector store, BM25, the counter-examples
        of the out-of-scope check, the guide's questions."""
        self.retriever.warm_up()
        self.scope.warm_up()
        for language in self.index.lexical.languages:
            self.index.asked_with_texts(language)
            vocabulary = self.index.lexical.analyzer(language).vocabulary
            self.retriever.understanding.speller(vocabulary, language).warm_up()

    def _asked_terms(self, language: str, analyzer: Analyzer, text: str) -> frozenset[str]:
        """The terms of one of the guide's questions, kept: the same few hundred are looked at for every
        answer. A new build brings a new analyzer, and with it an empty memory."""
        kept = self._asked.get(language)
        if kept is None or kept[0] is not analyzer:
            kept = self._asked[language] = (analyzer, {})
        terms = kept[1].get(text)
        if terms is None:
            terms = kept[1][text] = frozenset(analyzer.terms(text))
        return terms

    def _language(self, question: str, detected: str, previous: str) -> str:
        """A message without a single function word ("next steps?", "risiken?") is told by the knowledge
        base's words of each language, before falling back to the conversation's language."""
        if detect_language(question, "x") != "x":
            return detected
        tokens = {w for w in words(question) if len(w) > 2 and not w.isdigit()}
        vocabularies = {lang: self.index.lexical.analyzer(lang).vocabulary for lang in self.index.lexical.languages}
        if set(vocabularies) != {"de", "en"}:
            return previous
        # words only one language's documents use ("steps", "risiken") tell more than words both use ("roi")
        de = len({w for w in tokens if w in vocabularies["de"] and w not in vocabularies["en"]})
        en = len({w for w in tokens if w in vocabularies["en"] and w not in vocabularies["de"]})
        return previous if de == en else "de" if de > en else "en"

    def _find(self, question: str, previous: str | None, language: str, quoted: tuple[str, ...] = ()) -> _Found:
        """What the knowledge base holds for `question`; `previous`, the conversation's last question,
        lends its topic to a follow-up — to a short one always ("Und pro Monat?"), to a longer one when
        the question alone finds nothing sure ("Worauf muss ich bei der Auswahl achten?")."""
        if previous and not is_follow_up(question) and len(question.split()) <= FOLLOW_UP_WORDS:
            alone = self._find(question, None, language)
            if alone.decision.answers and alone.decision.reason in ("asked", "similar"):
                return alone
            vocabulary = self._vocabulary(language)
            understood = self.retriever.understanding.understand(question, language, vocabulary)
            if unknown_terms(understood.canonical or understood.text, vocabulary, language):  # a topic of its own
                return alone
            return self._search(question, previous, language, quoted, force_topic=True)
        if previous and not refers_back(question):
            # "what about the risks?", "und was kommt an laufenden Kosten pro System dazu?": a new aspect
            # that a section answers by itself is answered by itself, not mixed with the last topic
            alone = self._search(question, None, language)
            if alone.decision.reason == "asked" and alone.agreement == 3:
                return alone
        return self._search(question, previous, language, quoted)

    def _search(
        self,
        question: str,
        previous: str | None,
        language: str,
        quoted: tuple[str, ...] = (),
        force_topic: bool = False,
    ) -> _Found:
        query = f"{question} {question} {previous}" if force_topic and previous else topic_query(question, previous)
        focus = question if query != question else None
        # a follow-up that points back ("Wie halten wir das fest?") leans on what the previous answer quoted
        context = quoted if focus and refers_back(question) else ()
        if context and re.search(r"\d", question):
            focus = None  # "und für unser 8-köpfiges Team?": the numbers are the asker's, the topic the last answer's
        retrieval = self.retriever.search(query, language, self.settings.top_k, focus=focus, context=context)
        passages = figure_first(question, list(retrieval.passages))  # a kept retrieval is shared: never changed
        vocabulary = self._vocabulary(language)
        understood = self.retriever.understanding.understand(question, language, vocabulary)
        scope = self._scope(understood.text, language)
        decision = decide(understood.text, retrieval, vocabulary, understood.canonical, scope, language)
        if context and passages and passages[0].chunk_id in context and decision.reason == "far":
            decision = Decision("answer", "context")  # "Und was soll da drinstehen?": more of what was just quoted
        return _Found(question, passages, decision, retrieval.agreement, retrieval.companion)

    def _scope(self, text: str, language: str) -> tuple[float, float] | None:
        """How close `text` comes to a counter-example (config/out_of_scope.yaml) and to the nearest
        question a section answers; None when either is missing."""
        embedding = self.retriever.embed_query(text)
        ids, matrix, _ = self.index.asked(language if language in self.index.lexical.languages else None)
        if not ids or matrix.shape[1] != embedding.shape[0]:
            return None
        closeness = self.scope.closeness(embedding, language)
        return None if closeness is None else (closeness, float((matrix @ embedding).max()))

    def _refusal(self, question: str, found: list[_Found], language: str, mode: str) -> Answer:
        """No part answerable: say so plainly, and name the nearest sections (also returned as sources,
        not used) so that a channel can offer them."""
        nearest = _merge([f.passages[:3] for f in found])[:3]
        company = any(f.decision.reason == "company" for f in found)
        # named in the text: sections of the guide only — another document's headings are unchecked text
        named = [p for p in nearest if p.guide]
        if not named or not company and not any(_nearby(p) for p in named):
            # nothing close: what Lotse can help with says more than the least distant sections
            return Answer(
                question, False, i18n.text("not_in_knowledge_base", language), language, mode, nearest, gap=True
            )
        names = ", ".join(f"„{_heading(p)}“" if language == "de" else f'"{_heading(p)}"' for p in named[:2])
        key = "company_specific" if company else "not_covered_nearby"
        return Answer(question, False, i18n.text(key, language, sections=names), language, mode, nearest, gap=True)

    def _extractive(self, question: str, found: list[_Found], language: str, note: str | None = None) -> Answer:
        if not any(f.decision.answers for f in found):
            return self._refusal(question, found, language, "extractive")
        texts: list[str] = []
        sources: list[Passage] = []
        quoted: set[str] = set()
        for f in found:
            if not f.decision.answers:
                texts.append(_not_covered(found, f, language))
                continue
            if f.passages[0].chunk_id in quoted:
                continue  # one passage answers both parts
            companion = f.companion if len(found) == 1 else None  # a part of a longer question: its own section
            text = extractive_answer(f.question, f.passages, self.index.embedder, self._analyzer(language), companion)
            if text is None:  # the passages found hold only instruction-like text: nothing to quote
                texts.append(_not_covered(found, f, language))
                continue
            offset = len(sources)
            text = re.sub(r"\[(\d+)\]", lambda m, o=offset: f"[{int(m.group(1)) + o}]", text)
            cited = re.search(r"\[(\d+)\]", text)
            extra = computed(f.question, text, language)
            if extra:
                text = f"{text}\n{extra} [{cited.group(1) if cited else offset + 1}]"
            texts.append(text)
            sources.extend(f.passages)
            if companion is not None and companion.chunk_id not in {p.chunk_id for p in f.passages}:
                sources.append(companion)  # quoted as the passage after the found ones
            quoted.add(f.passages[0].chunk_id)
        if not sources:
            return self._refusal(question, found, language, "extractive")
        text, sources = _renumbered("\n\n".join(texts), sources)
        if note:
            text = f"{text}\n\n{note}"
        return Answer(question, True, text, language, "extractive", sources, note)

    def _llm_answer(self, question, found: list[_Found], language, history, on_text) -> Answer | None:
        """The LLM's answer from the passages of every part that is answerable or borderline; its "not in
        the passages" is honoured. None when it could not answer (the caller answers extractively)."""
        from bot.answering.llm import LLMUnavailable

        passages = _merge([f.passages for f in found if f.decision.verdict != "refuse"])[: self.settings.top_k + 2]
        started = time.perf_counter()
        try:
            text = self._llm_answerer().answer(question, passages, language, history[-6:], on_text)
        except LLMUnavailable as exc:
            metrics.LLM_ERRORS.labels(exc.reason).inc()
            log.warning("the LLM did not answer (%s); the answer is extractive", exc.reason)
            note = i18n.text(exc.note_key or "llm_fallback_note", language, reason=exc.reason)
            answer = self._extractive(question, found, language, note)
            return answer if answer.answered else replace(answer, note=note)
        metrics.LLM_SECONDS.observe(time.perf_counter() - started)
        if text is None:
            return self._refusal(question, found, language, "llm")
        return Answer(question, True, text, language, "llm", passages)


def _renumbered(text: str, sources: list[Passage]) -> tuple[str, list[Passage]]:
    """Citations numbered 1, 2, … in the order the text first cites them, the cited passages first: an
    answer of two parts cites [1] and [2], not [1] and [6]."""
    order = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", text) if 1 <= int(n) <= len(sources)))
    if order == list(range(1, len(order) + 1)):
        return text, sources
    new = {old: position for position, old in enumerate(order, 1)}
    cited = [sources[old - 1] for old in order]
    seen = {p.chunk_id for p in cited}
    rest = [p for p in sources if p.chunk_id not in seen and not seen.add(p.chunk_id)]
    return re.sub(r"\[(\d+)\]", lambda m: f"[{new.get(int(m.group(1)), int(m.group(1)))}]", text), cited + rest


def _merge(groups: list[list[Passage]]) -> list[Passage]:
    """Passages of several lists, each once, interleaved best first."""
    merged: dict[str, Passage] = {}
    for rank in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if rank < len(group):
                merged.setdefault(group[rank].chunk_id, group[rank])
    return list(merged.values())


def _not_covered(found: list[_Found], part: _Found, language: str) -> str:
    """Which part of the message the knowledge base does not cover — by its place, never by echoing the
    asker's text (which may carry mentions or markup)."""
    ordinal = i18n.text(f"ordinal_{found.index(part) + 1}", language)
    return i18n.text("part_not_covered", language, ordinal=ordinal)


def _nearby(passage: Passage) -> bool:
    return passage.similarity >= NEARBY_PASSAGE or passage.asked >= NEARBY_ASKED


def _heading(passage: Passage) -> str:
    return passage.section.split(" > ")[-1] or passage.title
