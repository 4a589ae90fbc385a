"""Hybrid retrieval: Chroma vector search and BM25 over stemmed terms, fused by reciprocal rank.

USE multilingual finds paraphrases and English questions against German text; BM25 finds exact
terms, numbers and names. Questions are matched against documents in the asker's language when the
index has any, so a German question cites the German guide and an English one the English guide.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.answering.conversation import mentions
from bot.answering.query import QueryUnderstanding, about_us
from bot.core.language import ENGLISH_WORDS, GERMAN_WORDS
from ingest.analysis import words
from ingest.index import KnowledgeIndex

CANDIDATES = 20
RERANK = 8  # the fused top candidates whose headings are compared with the question
INTRODUCTION_WORDS = 80  # a first passage this short, with subsections, is an introduction to them
# the heading's similarity to the question, added to the fused score of the first few candidates. With the
# questions each section answers in the ranking (knowledge/ metadata) it helps only a follow-up, whose own
# words are few ("Und pro Monat?"): elsewhere question-shaped FAQ headings won too often (bench/README)
HEADING_WEIGHT = 0.0
FOLLOW_UP_HEADING_WEIGHT = 0.3
HEADING_TERM_WEIGHT = 0.1  # per word of the question in the heading, among headings naming the asked week/phase
RRF_K = 5  # measured on bench/eval: 5 beat 10, 20 and 60 for hit@1 and hit@3
VECTOR_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
ASKED_WEIGHT = 1.0  # the questions each section answers (knowledge/ metadata), matched by embedding
CONTEXT_WEIGHT = 1.0  # a follow-up: the passages the previous answer quoted, as one more ranking
QUERY_VECTORS = 2048  # query embeddings kept per process (2 KB each with USE)
SEARCHES = 2048  # search results kept per process, per index build


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    title: str
    source: str
    section: str
    text: str
    language: str
    score: float  # fused score, comparable within one result list
    similarity: float  # cosine similarity of question and passage (0 if only BM25 found it)
    lexical: float  # BM25 score (0 if only the vector search found it)
    guide: str = ""  # the guide's section(s) it restates (knowledge/ metadata), cited beside it
    asked: float = 0.0  # best cosine similarity of the question and the questions its section answers


@dataclass(frozen=True)
class Retrieval:
    passages: tuple[Passage, ...]
    best_similarity: float
    best_lexical: float
    coverage: float  # the largest share of the question's terms found in one of the top 3 passages
    best_asked: float = 0.0  # the best match of the question with a question a section answers
    agreement: int = 0  # how many rankings (vector, BM25, asked questions) have the first passage in their top 3
    lexical_agrees: bool = False  # the first passage is in BM25's top 3: words, not only meaning, agree
    names_step: bool = False  # the question names a week or phase, and the first passage's heading names it
    # the first passage is a section's short introduction: its subsection that ranks best (None otherwise);
    # "PoC or production?" finds the introduction, while what production takes is in the subsection
    companion: Passage | None = None


def fuse(
    *ranked_lists: list[tuple[str, float]], weights: tuple[float, ...] = (VECTOR_WEIGHT, LEXICAL_WEIGHT), k: int = RRF_K
) -> dict[str, float]:
    """Reciprocal-rank fusion: each list adds weight / (k + rank) to an item; best first."""
    fused: dict[str, float] = {}
    for weight, hits in zip(weights, ranked_lists, strict=False):
        for rank, (item, _) in enumerate(hits, 1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return dict(sorted(fused.items(), key=lambda kv: -kv[1]))


_FUNCTION_WORDS = (GERMAN_WORDS | ENGLISH_WORDS) - {"woche", "week"}


def _coverage(question: str, passages: tuple[Passage, ...]) -> float:
    """The largest share of the question's words (not stems: "Meister" must not match "meist")
    that one passage contains."""
    asked = {w for w in words(question) if w.isdigit() or (w not in _FUNCTION_WORDS and len(w) > 1)}
    if not asked:
        return 0.0
    return max((len(asked & _passage_words(p.title, p.section, p.text)) / len(asked) for p in passages), default=0.0)


@lru_cache(maxsize=4096)
def _passage_words(title: str, section: str, text: str) -> frozenset[str]:
    """A passage's words, read once: the same passages come up again and again (5 % of a turn's time)."""
    return frozenset(words(f"{title} {section} {text}"))


def _named_steps_first(question: str, candidates: list[str], rows) -> tuple[list[str], int]:
    """A question naming a week of the plan ("Was ist in Woche 4 zu tun?") or a phase ("Tools für Phase 2")
    wants a section whose heading names it first, not an overview that lists them all; the others keep
    their order."""
    for kind in ("week", "phase"):
        named = set(mentions(question, kind))
        if named:
            own = [c for c in candidates if named & set(mentions(Retriever._heading(rows[c]), kind))]
            return own + [c for c in candidates if c not in own], len(own)
    return candidates, 0


COMPANY_SIMILARITY = 0.3  # a company document's passage this close goes first for a question about "us" …
COMPANY_MARGIN = 0.1  # … and no further behind the guide's closest passage (cosine)
COMPANY_LEXICAL = 0.5  # … or found by its words at least half as strongly as the best passage


def _company_first(question: str, candidates: list[str], rows, similarity: dict, lexical: dict) -> list[str]:
    """A question about the asker's own company ("Wer genehmigt bei uns KI-Tools?") wants the company's
    own documents (ingested beside the guide, without guide sections) before the guide's general advice —
    those that answer it about as well: as close in meaning as the guide's closest passage (within
    `COMPANY_MARGIN`), or found by its words about as strongly. A company-FAQ entry on another matter ("Wer
    ist bei uns der KI-Beauftragte?") does not push the guide's answer aside for "Wer darf bei uns
    KI-Tools genehmigen?"."""
    if not about_us(question):
        return candidates
    guide_best = max((similarity.get(c, 0.0) for c in candidates if rows[c].guide), default=0.0)
    lexical_best = max((lexical.get(c, 0.0) for c in candidates), default=0.0)

    def answers_it(c: str) -> bool:
        close = similarity.get(c, 0.0)
        return (
            close >= COMPANY_SIMILARITY
            and close >= guide_best - COMPANY_MARGIN
            or (lexical.get(c, 0.0) >= COMPANY_LEXICAL * lexical_best > 0)
        )

    own = [c for c in candidates if not rows[c].guide and answers_it(c)]
    return own + [c for c in candidates if c not in own]


class _Recent:
    """The `size` most recently used values by key, shared between threads (the two kept-result caches)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class Retriever:
    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self._query_vectors = _Recent(QUERY_VECTORS)  # (model, text) → read-only vector
        self._searches = _Recent(SEARCHES)  # (model, query, language, k, focus) → Retrieval, for one build
        self._searches_stamp: str | None = None
        self.understanding = QueryUnderstanding()
        self.keep = True  # False: nothing is kept (query vectors, results); benchmarks measure the work itself

    def embed_query(self, text: str) -> np.ndarray:
        """The embedding of a query, kept for the `QUERY_VECTORS` most recent ones: it depends on the text
        and the model only, and the same questions come again and again (the FAQ's, a team asking what
        another asked). Read-only: callers share it."""
        embedder = self.index.embedder
        if not self.keep:
            return np.array(embedder.embed_one(text), dtype=np.float32)
        key = (embedder.name, text)
        vector = self._query_vectors.get(key)
        if vector is None:
            vector = np.array(embedder.embed_one(text), dtype=np.float32)
            vector.setflags(write=False)
            self._query_vectors.put(key, vector)
        return vector

    def warm_up(self) -> None:
        """Load the embedder, Chroma and BM25 now rather than on the first question."""
        self.index.lexical.refresh()
        _ = self.index.vectors
        self.index.embedder.embed_one("warm-up")

    @staticmethod
    def _heading(row) -> str:
        return row.section.split(" > ")[-1] or row.title

    def _heading_first(
        self,
        embedding,
        named: tuple[list[str], int],
        rows,
        fused: dict[str, float],
        question_terms: frozenset[str] = frozenset(),
        follow_up: bool = False,
    ) -> list[str]:
        """Put first the candidate whose heading best matches the question (a heading names what its
        section answers: "Woche 7–8: Prototyp bauen"); the others keep their fused order. `named`: the
        candidates, those whose heading names the week or phase asked for first, and how many they are —
        the first is then one of them; among those, a heading that also holds the question's other words
        ("Tools für Phase 1" for "Welche Tools nimmt man in Phase 1?") wins over an overview of the phase."""
        candidates, first_few = named
        weight = FOLLOW_UP_HEADING_WEIGHT if follow_up else HEADING_WEIGHT
        if len(candidates) < 2 or not (weight or first_few):
            return candidates  # nothing to weigh: the fused order stands
        pool = candidates[: first_few or RERANK]
        missing = [c for c in pool if rows[c].heading_vector is None]
        computed = dict(zip(missing, self.index.embedder.embed([self._heading(rows[c]) for c in missing]), strict=True))
        vectors = np.stack(
            [computed[c] if c in computed else np.frombuffer(rows[c].heading_vector, np.float32) for c in pool]
        )
        similarity = vectors @ embedding
        scores = [fused[c] + weight * float(sim) for c, sim in zip(pool, similarity, strict=True)]
        if first_few and question_terms:
            analyzer = self.index.lexical.analyzer(rows[pool[0]].language)
            for i, c in enumerate(pool):
                shared = question_terms & set(analyzer.terms(self._heading(rows[c])))
                scores[i] += HEADING_TERM_WEIGHT * len({t for t in shared if not t.isdigit() and "#" not in t})
        first = pool[max(range(len(pool)), key=scores.__getitem__)]
        return [first] + [c for c in candidates if c != first]

    def _lexical(self, text: str, languages: list[str]) -> list[tuple[str, float]]:
        hits = [hit for lang in languages for hit in self.index.lexical.search(text, lang, CANDIDATES)]
        return sorted(hits, key=lambda hit: -hit[1])

    def search(
        self, query: str, language: str, k: int = 5, focus: str | None = None, context: tuple[str, ...] = ()
    ) -> Retrieval:
        """`focus`: for a follow-up, the new question alone; its heading match picks the first passage.
        `context`: for a follow-up, the chunks the previous answer quoted — "Und warum?" and "Wie halten
        wir das fest?" are about them — ranked as one more list.

        Results are kept for the `SEARCHES` most recent searches of the index build that is loaded: a
        search depends only on its arguments, the model and the index, and every ingest that changes the
        index publishes a new build (a new lexical stamp), which starts the cache afresh. The same
        questions come again and again, and the vector query is most of a search's CPU (bench/README)."""
        self.index.lexical.refresh()
        if not self.keep:
            return self._search(query, language, k, focus, context)
        stamp = self.index.lexical.loaded_stamp
        if stamp != self._searches_stamp:  # a new build: every kept result may be out of date
            self._searches.clear()
            self._searches_stamp = stamp
        key = (stamp, self.index.embedder.name, query, language, k, focus, context)  # with the stamp: another thread
        found = self._searches.get(key)  # may load a new build meanwhile
        if found is not None:
            return found
        retrieval = self._search(query, language, k, focus, context)
        if stamp is not None:  # without a build there is nothing to key on (and nothing much to find)
            self._searches.put(key, retrieval)
        return retrieval

    def _asked_hits(self, embedding: np.ndarray, scope: str | None) -> list[tuple[str, float]]:
        """Chunks ranked by how well the question matches one of the questions their section answers."""
        ids, matrix, owner = self.index.asked(scope)
        if not ids or matrix.shape[1] != embedding.shape[0]:
            return []
        similarity = matrix @ embedding
        best = np.full(len(ids), -1.0, dtype=np.float32)
        np.maximum.at(best, owner, similarity)
        top = np.argsort(-best)[:CANDIDATES]
        return [(ids[i], float(best[i])) for i in top]

    def _search(self, query: str, language: str, k: int, focus: str | None, context: tuple[str, ...] = ()) -> Retrieval:
        languages = self.index.lexical.languages
        scope = language if language in languages or not languages else None
        vocabulary = self.index.lexical.analyzer(scope or language).vocabulary
        understood = self.understanding.understand(query, language, vocabulary)
        embedding = self.embed_query(understood.text)
        vector_hits = self.index.vectors.query(embedding, CANDIDATES, scope)
        searched = [scope] if scope else sorted(languages)
        lexical_hits = self._lexical(understood.search_text, searched)
        asked_hits = self._asked_hits(embedding, scope)

        lists = [vector_hits, lexical_hits, asked_hits]
        weights = [VECTOR_WEIGHT, LEXICAL_WEIGHT, ASKED_WEIGHT]
        focused = self.understanding.understand(focus, language, vocabulary) if focus else None
        if focused:  # a follow-up: what is new in it must count on its own, not drowned by the topic
            lists.append(self._lexical(focused.search_text, searched))
            weights.append(LEXICAL_WEIGHT)
        if context:
            lists.append([(cid, 1.0) for cid in context])
            weights.append(CONTEXT_WEIGHT)
        fused = fuse(*lists, weights=tuple(weights))
        asked_text = focus or understood.search_text
        steps_named = bool(mentions(asked_text, "week") or mentions(asked_text, "phase"))
        # a week or phase named: its own section may rank lower than overviews listing them all
        candidates = list(fused)[: CANDIDATES if steps_named else max(k, RERANK)]
        rows = self.index.chunks_by_id(candidates)
        candidates = [cid for cid in candidates if cid in rows]
        # the heading to match is the new question's, with the guide's terms for its words
        focus_embedding = self.embed_query(focused.search_text) if focused else embedding
        named = _named_steps_first(asked_text, candidates, rows)
        terms = frozenset(self.index.lexical.analyzer(scope or language).terms(asked_text)) if named[1] else frozenset()
        best = self._heading_first(focus_embedding, named, rows, fused, terms, follow_up=bool(focus))
        best = _company_first(focus or understood.text, best, rows, dict(vector_hits), dict(lexical_hits))[:k]
        similarity = dict(vector_hits)
        lexical = dict(lexical_hits)
        asked = dict(asked_hits)
        passages = tuple(
            Passage(
                chunk_id=cid,
                title=rows[cid].title,
                source=rows[cid].source,
                section=rows[cid].section,
                text=rows[cid].text,
                language=rows[cid].language,
                score=round(fused[cid], 5),
                similarity=similarity.get(cid, 0.0),
                lexical=lexical.get(cid, 0.0),
                guide=rows[cid].guide or "",
                asked=asked.get(cid, 0.0),
            )
            for cid in best
            if cid in rows
        )
        companion = self._companion(passages, list(fused)[:CANDIDATES], fused, similarity, lexical, asked)
        coverage = _coverage(focus or understood.canonical or understood.text, passages[:3])
        first = passages[0].chunk_id if passages else None
        agreement = sum(first in [cid for cid, _ in hits[:3]] for hits in (vector_hits, lexical_hits, asked_hits))
        return Retrieval(
            passages=passages,
            coverage=coverage,
            best_similarity=max((s for _, s in vector_hits), default=0.0),
            best_lexical=lexical_hits[0][1] if lexical_hits else 0.0,
            best_asked=max((s for _, s in asked_hits), default=0.0),
            agreement=agreement,
            lexical_agrees=first in [cid for cid, _ in lexical_hits[:3]],
            names_step=bool(named[1]) and first in named[0][: named[1]],
            companion=companion,
        )

    def _companion(self, passages, ranked: list[str], fused, similarity, lexical, asked) -> Passage | None:
        """The best-ranked subsection of a first passage that is only a short introduction."""
        if not passages or len(passages[0].text.split()) > INTRODUCTION_WORDS:
            return None
        top = passages[0]
        rows = self.index.chunks_by_id(ranked)
        for cid in ranked:
            row = rows.get(cid)
            if row is not None and row.source == top.source and row.section.startswith(top.section + " > "):
                return next((p for p in passages if p.chunk_id == cid), None) or Passage(
                    chunk_id=cid,
                    title=row.title,
                    source=row.source,
                    section=row.section,
                    text=row.text,
                    language=row.language,
                    score=round(fused[cid], 5),
                    similarity=similarity.get(cid, 0.0),
                    lexical=lexical.get(cid, 0.0),
                    guide=row.guide or "",
                    asked=asked.get(cid, 0.0),
                )
        return None
