"""Whether the knowledge base answers a question, decided on evidence rather than one similarity
threshold (issue 19). The signals, each cheap and each measured on bench/eval (bench/README.md):

- how close the question comes to a question its best section says it answers (knowledge/ metadata,
  `asked`), to the passage itself (`similarity`) and how many of its content words one of the top
  passages holds (`coverage`);
- whether the rankings agree: the first passage in the top 3 of the vector, BM25 and asked-question
  rankings (`agreement`);
- whether the question is about the asker's own company in a way no guide can know ("Wer ist bei uns
  …", "Wann ist unsere nächste …", a product's price) and names something no passage mentions.

Three verdicts: `answer`; `refuse` (with the nearest passages, marked as not used); `borderline` — the
offline answer refuses, but with an LLM configured the passages go to it, and its "not covered" counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.answering.query import about_us, fold, in_dictionary
from bot.answering.retrieval import Retrieval
from bot.core.language import ENGLISH_WORDS, GERMAN_WORDS
from ingest.analysis import stemmer_for, words

# Calibrated on bench/eval/realistic-dev.yaml and questions.yaml (never on realistic-heldout.yaml)
ASKED = 0.45  # close to a question a section answers (questions of one topic score 0.45–0.95 on USE)
ASKED_SIMILARITY = 0.28  # … and the passage itself not far off
ASKED_COVERAGE = 0.5  # … or half of the question's content words in one of the top passages
ASKED_AGREED = 0.55  # … or closer still, with BM25 agreeing on the first passage (words, not only meaning)
AGREED_COVERAGE = 0.3  # … on some of the question's own words
ASKED_KNOWN = 0.5  # … or this close, when every word of the question is one the knowledge base uses
AGREED_ALL_COVERAGE = 0.4  # all three rankings put one passage first, it holds this share of the words, all known
COVERAGE_ALL = 0.99  # every content word of the question in one of the top passages
SIMILARITY_SURE = 0.42  # the passage alone is this close
SIMILARITY_LIKELY = 0.30  # … or this close, with most words covered or two rankings agreeing
COVERAGE_LIKELY = 0.6
BORDERLINE = 0.35  # refused offline, but the passage this close: an LLM, if configured, may judge
BORDERLINE_ASKED = 0.6  # … or a question it answers this close (any question resembles another a little)
# a question at least this close to a counter-example of config/out_of_scope.yaml, compared with the best
# question a section answers, that names something no passage mentions or asks about "us", is refused
OUT_OF_SCOPE_MARGIN = -0.05
OUT_OF_SCOPE_PLAIN = 0.0  # … when it names nothing specific, only words the guide happens not to use
OUT_OF_SCOPE_CLEAR = 0.03  # … and clearly closer when a section's question is itself close (STRONG_ASKED)
STRONG_ASKED = 0.65
OUT_OF_SCOPE_DECISIVE = 0.15  # this much closer to a counter-example: refused without a word the guide lacks

# asking for a specific person, date, rule, setting or price — what only the company (or a vendor) knows
_SPECIFIC = re.compile(
    r"\b(wer ist|wer sind|wer hat|wer macht bei|wann ist|wann sind|wann findet|wann war|wie hei(?:ß|ss)t|"
    r"welche[rsnm]? .{0,40}\b(?:gilt|gelten|haben wir|nutzen wir|setzen wir|ist bei uns)|wo finde ich|"
    r"wie lautet|welches datum|welcher termin|in welche .{0,40}f(?:ä|ae)llt|who is|who are|who's|when is|when's|"
    r"when are|where do i find|which .{0,30}(?:class|category) (?:does|is|do)|already|bereits|"
    r"what is our|what are our|which .{0,40}\b(?:do we|are we|does our|apply to us)|what's our)\b",
    re.IGNORECASE,
)
# whether something has happened yet ("Hat die Geschäftsführung das Budget schon freigegeben?"): the
# company's state, which no guide knows, whoever is named
_STATE = re.compile(
    r"\b(?:schon|bereits|already|yet)\b.{0,40}\b(?:freigegeben|genehmigt|beschlossen|eingeführt|eingefuehrt|"
    r"gekauft|unterschrieben|entschieden|approved|signed off|decided|bought|rolled out)\b|"
    r"\b(?:freigegeben|genehmigt|approved)\b.{0,20}\b(?:schon|bereits|already|yet)\b",
    re.IGNORECASE,
)
# a vendor's price or a comparison of vendors, a fine, a legal deadline, a technical figure: details the
# guide does not give (it names tools and budgets, never prices, fines or dates)
_PRICE = re.compile(
    r"\b(preis\w*|lizenz\w*|price\w*|pricing|licen[cs]e\w*|subscription\w*|abo|tokens?|bu(?:ß|ss)geld\w*|"
    r"strafe\w*|fines?|penalt\w+|tagessatz\w*|day rate|g(?:ü|ue)nstig(?:er|ste\w*)|billig(?:er|ste\w*)|teurer|"
    r"cheaper|cheapest|more expensive|"
    r"deadline\w*|frist\w*|stichtag\w*|wann genau|bis wann|when exactly|by when|slas?|uptime|"
    r"mbit\w*|gbit\w*|gpus?|vram|grafikkarte\w*)\b",
    re.IGNORECASE,
)
# a market statistic ("Wie viel Prozent der Mittelständler …?", "what percentage of companies …"): the guide
# gives its own figures, never surveys of other companies
_STATISTIC = re.compile(
    r"\b(?:wie ?viel(?:e)? prozent (?:der|aller)|welcher anteil (?:der|aller)|wie viele (?:unternehmen|firmen|"
    r"mittelst(?:ä|ae)ndler|betriebe)|what (?:percentage|share|proportion) of|how many (?:companies|firms|"
    r"businesses|smes))\b",
    re.IGNORECASE,
)
_COSTS = re.compile(
    r"\b(?:kostet|kosten|cost|costs)\s+(?:uns\s+|us\s+)?(?:eine?[nmrs]?|der|die|das|the|a|an)?\s*(\w+)", re.IGNORECASE
)
# function words, and adverbs that name nothing ("dafür", "eigentlich")
_FUNCTION = (
    GERMAN_WORDS
    | ENGLISH_WORDS
    | frozenset(
        "dafür dabei damit davon dazu darüber darum deshalb dann jetzt schon noch eigentlich überhaupt wirklich "
        "genau etwa ungefähr bitte mal gerne really actually exactly please ours yours theirs "
        # modal forms ("Um wie viel könnte man …?") say how, not what: no term the guide lacks
        "könnte könnten würde würden sollte sollten müsste müssten dürfte dürften hätte hätten wäre wären "
        "darf dürfen will wollen möchte möchten mag could would might should must shall may "
        # fillers of chat ("gdpr stuff?", "das ganze KI-Zeug", "moin, kurze Frage"): they name nothing either
        "stuff thing things zeug sachen kram echt halt eben moin hallo hey sorry danke thanks rein drin "
        "ne nen nem".split()
    )
)
_FOLDED_FUNCTION = frozenset(fold(w) for w in _FUNCTION)  # "fuer", "koennen"


@dataclass(frozen=True)
class Decision:
    verdict: str  # "answer", "borderline", "refuse"
    reason: str  # answer: asked, similar, covered, known, step, named, context, company-document; refuse: company, far

    @property
    def answers(self) -> bool:
        return self.verdict == "answer"


def unknown_terms(question: str, vocabulary: frozenset[str], language: str = "de") -> list[str]:
    """The question's content words that no passage of the knowledge base contains, also not inflected
    ("kostet" for "Kosten", "messe" for "messen") nor as a compound of two of its words
    ("Schulungskosten"), and not with umlauts written out ("spaeter" for "später")."""
    if not vocabulary:
        return []
    prefixes = _prefixes(vocabulary)
    folded, folded_prefixes, stems = _spellings(vocabulary, language)
    stem = _stem(language)
    unknown = []
    for w in words(question):
        if len(w) < 4 or w.isdigit() or w in _FUNCTION or w in vocabulary:
            continue
        f = fold(w)
        if f in _FOLDED_FUNCTION or f in folded or stem(f) in stems:
            continue
        if len(w) >= 6 and (w[:PREFIX] in prefixes or f[:PREFIX] in folded_prefixes):
            continue
        if any(f[:cut] in folded and f[cut:].lstrip("s") in folded for cut in range(4, len(f) - 3)):
            continue
        unknown.append(w)
    return unknown


@lru_cache(maxsize=4)
def _spellings(vocabulary: frozenset[str], language: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The vocabulary with umlauts written out, its prefixes, and the stems of those words."""
    folded = frozenset(fold(w) for w in vocabulary)
    stem = _stem(language)
    return folded, frozenset(w[:PREFIX] for w in folded if len(w) >= PREFIX), frozenset(stem(w) for w in folded)


@lru_cache(maxsize=2)
def _stem(language: str):
    return stemmer_for(language).stemWord


PREFIX = 5


@lru_cache(maxsize=4)
def _prefixes(vocabulary: frozenset[str]) -> frozenset[str]:
    return frozenset(w[:PREFIX] for w in vocabulary if len(w) >= PREFIX)


def company_specific(question: str, unknown: list[str]) -> bool:
    """A question only the asker's company (or a vendor's price list) can answer."""
    if about_us(question) and _SPECIFIC.search(question) or _STATE.search(question):
        return True
    if _PRICE.search(question) and unknown:
        return True
    costed = [m.group(1).lower() for m in _COSTS.finditer(question)]  # "Was kostet Copilot?"
    return any(word in unknown for word in costed)


def _agreed(retrieval: Retrieval) -> bool:
    """Two rankings or more have the first passage in their top 3, BM25 among them, it holds most of the
    question's words, and the passage itself is not far off."""
    return (
        retrieval.agreement >= 2
        and retrieval.lexical_agrees
        and retrieval.coverage >= ASKED_COVERAGE
        and retrieval.best_similarity >= SIMILARITY_LIKELY
    )


def _company_answers(passage, retrieval: Retrieval) -> bool:
    """A passage of the company's own documents (no guide section: ingested beside the guide) that the
    question comes close to."""
    return not passage.guide and (passage.similarity >= SIMILARITY_LIKELY or retrieval.coverage >= COVERAGE_LIKELY)


def _names_what_the_passage_names(question: str, passage, vocabulary: frozenset[str], language: str) -> bool:
    """Whether the question names something distinctive of the knowledge base — a word of it that no
    dictionary knows (Textract, Zabbix, OpenRefine) — and the first passage names it too."""
    text = set(words(f"{passage.section} {passage.text}"))
    return any(
        len(w) >= 5 and w in vocabulary and w in text and not in_dictionary(w, language) and w not in _FUNCTION
        for w in words(question)
    )


def _beyond(outside: float, inside: float, lenient: bool = True) -> bool:
    margin = outside - inside
    least = OUT_OF_SCOPE_MARGIN if lenient else OUT_OF_SCOPE_PLAIN
    return margin >= least and (inside < STRONG_ASKED or margin >= OUT_OF_SCOPE_CLEAR)


def decide(
    question: str,
    retrieval: Retrieval,
    vocabulary: frozenset[str],
    canonical: str = "",
    scope: tuple[float, float] | None = None,
    language: str = "de",
) -> Decision:
    """`question` with its spelling put right; `canonical`: the same in the guide's terms (the lexicon's
    replacements), so that "payback" or "upskilling" count as known words; `scope`: the question's cosine
    similarity to the nearest counter-example (config/out_of_scope.yaml) and to the nearest question a
    section answers."""
    if not retrieval.passages:
        return Decision("refuse", "far")
    unknown = unknown_terms(canonical or question, vocabulary, language)
    # a name or term no dictionary knows (Copilot, DATEV, BetrVG) marks a detail the guide lacks; a plain
    # word it does not use ("senken", "riesig") marks little, so such a question must come clearly closer
    named = [w for w in unknown if not in_dictionary(w, language)]
    evident = bool(named) or about_us(question) or bool(_PRICE.search(question) or _STATISTIC.search(question))
    # far closer to a counter-example than to any question a section answers ("Welche Risikoklassen kennt
    # der EU AI Act?"): out of scope even in words the guide happens to use
    decisive = scope is not None and scope[0] - scope[1] >= OUT_OF_SCOPE_DECISIVE
    specific, evident = evident, evident or decisive
    beyond = scope is not None and _beyond(*scope, lenient=evident)
    if beyond and not evident and _agreed(retrieval):
        beyond = False  # plain words, and the rankings agree on a passage holding most of them: it is about that
    if beyond and (evident or unknown) or company_specific(question, unknown):
        if any(_company_answers(p, retrieval) for p in retrieval.passages[:3]):
            return Decision("answer", "company-document")
        if _STATISTIC.search(question) and not about_us(question):
            return Decision("refuse", "far")  # other companies' figures: not ours to know, not the guide's either
        if not specific and not company_specific(question, unknown):
            return Decision("refuse", "far")  # beyond the guide (the law, say), but nothing of the company's own
        return Decision("refuse", "company")
    asked, similarity, coverage = retrieval.best_asked, retrieval.best_similarity, retrieval.coverage
    if asked >= ASKED and (similarity >= ASKED_SIMILARITY or coverage >= ASKED_COVERAGE or retrieval.agreement == 3):
        return Decision("answer", "asked")
    if asked >= ASKED_AGREED and retrieval.agreement >= 2 and retrieval.lexical_agrees and coverage >= AGREED_COVERAGE:
        return Decision("answer", "asked")
    if retrieval.names_step:
        return Decision("answer", "step")  # "Was passiert in Woche 3?": the section headed "Woche 3"
    if _names_what_the_passage_names(question, retrieval.passages[0], vocabulary, language):
        return Decision("answer", "named")  # "Wofür eignet sich Textract?": a name only the guide uses
    if not unknown and asked >= ASKED_KNOWN and coverage >= AGREED_COVERAGE:
        return Decision("answer", "known")  # every word is one the knowledge base uses, and a section is close
    if not unknown and retrieval.agreement == 3 and retrieval.lexical_agrees and coverage >= AGREED_ALL_COVERAGE:
        return Decision("answer", "agreed")  # "poc -> prod, worauf achten?": every ranking puts one passage first
    if coverage >= COVERAGE_ALL and retrieval.best_lexical > 0:
        return Decision("answer", "covered")  # "Zabbix?": every word of it in one passage (embeds poorly alone)
    if similarity >= SIMILARITY_SURE:
        return Decision("answer", "similar")
    if similarity >= SIMILARITY_LIKELY and (coverage >= COVERAGE_LIKELY or retrieval.agreement >= 2):
        return Decision("answer", "covered")
    if similarity >= BORDERLINE or asked >= BORDERLINE_ASKED:
        return Decision("borderline", "far")
    return Decision("refuse", "far")
