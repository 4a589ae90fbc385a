"""Understanding a question as people type it, offline: spelling put right against the knowledge base's
own words (umlauts written as ae/oe/ue or ss, typos), and the words people use for the guide's terms
("PoC", "Ist-Zustand", "Kennzahlen") added from a lexicon kept as data (`config/lexicon.yaml`).

The result feeds both searches: BM25 then meets the guide's terms, and the embedding sees a cleaner text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.core.language import ENGLISH_WORDS, GERMAN_WORDS
from bot.settings import PROJECT_ROOT

LEXICON = PROJECT_ROOT / "config" / "lexicon.yaml"
_WORD = re.compile(r"[a-zäöüß]+(?:-[a-zäöüß]+)*", re.IGNORECASE)
_UMLAUTS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß"))
_STOP = GERMAN_WORDS | ENGLISH_WORDS
DICTIONARY_LENGTH = 5  # shorter words are taken for words
MIN_TYPO_LENGTH = 7  # shorter words are often real words the guide does not use ("Wetter" ≠ "weiter")


# the asker's own company: "bei uns", "unsere", "our", "we have" — a company document may answer it
_ABOUT_US = re.compile(
    r"\b(bei uns|unse?re?[nmrs]?|unserer|in unserem|f(?:ü|ue)r uns|wir haben|haben wir|our|ours|at our|"
    r"for us|do we have|have we|we have)\b",
    re.IGNORECASE,
)


# "Was sagt der Leitfaden zu Zabbix?", "according to the guide": the guide is where every answer comes from,
# so naming it says nothing about the topic — and it pulls the guide's introduction to the top
_ABOUT_THE_GUIDE = re.compile(
    r"\b(?:was sagt|was steht|was empfiehlt|was rät|was raet)\s+(?:der|im|dein)\s+leitfaden\s+"
    r"(?:zu|über|ueber|zum|zur)\b|\b(?:laut|gemäß|gemaess)\s+(?:dem\s+)?leitfaden\b|\bim leitfaden\b|"
    r"\b(?:what does|what do)\s+(?:the|your)\s+guide\s+(?:say|recommend)\s+(?:about|on)\b|"
    r"\baccording to the guide\b|\bin the guide\b|\bdoes the guide say anything about\b",
    re.IGNORECASE,
)


def without_the_guide(text: str) -> str:
    """The question without the words that only name the guide, unless nothing else would be left."""
    stripped = " ".join(_ABOUT_THE_GUIDE.sub(" ", text).split())
    return stripped if re.search(r"\w{3,}", stripped) else text


# "in a company like ours", "für Firmen wie unsere": the kind of company, not its particulars
_LIKE_US = re.compile(r"\b(?:like|wie)\s+(?:ours|us|uns|unsere[nmrs]?)\b", re.IGNORECASE)


_PLAN_DAY = re.compile(r"\b(?:tag|day)\s+(\d{1,2})\b|\b(\d{1,2})\.\s*tag\b", re.IGNORECASE)


def plan_day(text: str, language: str) -> tuple[str, ...]:
    """ "Wir sind bei Tag 45 des 90-Tage-Plans" → the plan's week and block of 30 days that day falls in."""
    match = _PLAN_DAY.search(text)
    day = int(match.group(1) or match.group(2)) if match else 0
    if not 1 <= day <= 90:
        return ()
    week, block = min((day - 1) // 7 + 1, 12), ("1-30", "31-60", "61-90")[(day - 1) // 30]
    return (f"Woche {week}", f"Tage {block}") if language == "de" else (f"week {week}", f"days {block}")


def about_us(text: str) -> bool:
    return bool(_ABOUT_US.search(_LIKE_US.sub(" ", text)))


@dataclass(frozen=True)
class Understood:
    text: str  # the question, spelling put right
    expansions: tuple[str, ...]  # the guide's terms for words the lexicon knows
    canonical: str = ""  # the question in the guide's terms: each phrase the lexicon knows replaced by its term

    @property
    def search_text(self) -> str:
        return " ".join([self.text, *self.expansions])


_ENDINGS = {"de": "(?:n|en|e|s|es|er|ern|em)?", "en": "(?:s|es)?"}


class Lexicon:
    """Phrases people use → the guide's terms, per language; a phrase matches whole words, case and
    umlaut spelling aside."""

    def __init__(self, entries: dict[str, dict[str, str]]) -> None:
        # per language: (the folded phrase, its pattern, the guide's term, the term folded); the phrase is
        # looked for as plain text first, which rules out nearly every pattern at the cost of a substring test
        self._patterns: dict[str, list[tuple[str, re.Pattern[str], str, str]]] = {}
        for language, table in entries.items():
            patterns = []
            for target, phrases in table.items():
                for phrase in [target, *phrases] if isinstance(phrases, list) else [phrases]:
                    folded = fold(str(phrase))
                    # a single word may carry an ending ("Widerständen", "Kennzahlen", "concerns")
                    ending = _ENDINGS.get(language, "") if " " not in folded and len(folded) >= 5 else ""
                    pattern = re.compile(rf"(?<![\w-]){re.escape(folded)}{ending}(?![\w-])")
                    patterns.append((folded, pattern, str(target), fold(str(target))))
            self._patterns[language] = patterns
        self._expanded: dict[tuple[str, str], tuple[str, ...]] = {}
        self._canonical: dict[tuple[str, str], str] = {}

    @classmethod
    def load(cls, path: Path = LEXICON) -> Lexicon:
        if not path.is_file():
            return cls({})
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({lang: table or {} for lang, table in data.items()})

    def expand(self, text: str, language: str) -> tuple[str, ...]:
        key = (text, language)
        if (known := self._expanded.get(key)) is not None:
            return known
        folded = fold(text)
        found: dict[str, None] = {}
        for phrase, pattern, target, folded_target in self._patterns.get(language, []):
            if phrase in folded and pattern.search(folded) and folded_target not in folded:
                found[target] = None
        return _kept(self._expanded, key, tuple(found))

    def canonical(self, text: str, language: str) -> str:
        """`text` (folded) with every phrase the lexicon knows replaced by the guide's term: what the
        question asks, in the words the knowledge base uses ("upskilling per head" → "training per person")."""
        key = (text, language)
        if (known := self._canonical.get(key)) is not None:
            return known
        folded = fold(text)
        for phrase, pattern, _target, folded_target in self._patterns.get(language, []):
            if phrase in folded:
                folded = pattern.sub(folded_target, folded)
        return _kept(self._canonical, key, folded)


KEPT = 4096  # results kept per lexicon method: the same questions come again and again


def _kept(cache: dict, key, value):
    if len(cache) >= KEPT:
        cache.clear()
    cache[key] = value
    return value


def fold(text: str) -> str:
    """Lower case with umlauts and ß spelled out and hyphens as spaces: how both sides are compared."""
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return re.sub(r"\s+", " ", text.replace("-", " ")).strip()


def _umlaut_variants(word: str) -> Iterable[str]:
    """ "muessen" → "müssen", "grosse" → "große": every way of reading ae/oe/ue/ss as an umlaut or ß."""
    variants = {word}
    for plain, umlaut in _UMLAUTS:
        variants |= {v[:i] + umlaut + v[i + len(plain) :] for v in variants for i in _positions(v, plain)}
    variants.discard(word)
    return variants


def _positions(text: str, part: str) -> list[int]:
    return [m.start() for m in re.finditer(f"(?={part})", text)]


@lru_cache(maxsize=2)
def dictionary(language: str) -> frozenset[str]:
    """The words of a language (pyspellchecker's word list, inside its wheel): a word found there is a real
    word the guide does not use ("Wetter", "Meister"), not a typo of one it does ("weiter", "meisten").
    Read on first need (0.1–0.2 s), the words of five letters or more."""
    import gzip
    import json
    from importlib.resources import files

    try:
        raw = (files("spellchecker") / "resources" / f"{language}.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset()
    return frozenset(w for w in json.loads(gzip.decompress(raw)) if len(w) >= DICTIONARY_LENGTH)


def in_dictionary(word: str, language: str) -> bool:
    """Whether `word` (lower case, umlauts perhaps written out) is a word of the language's dictionary;
    short words are not looked up (the dictionary keeps the long ones) and count as words."""
    if len(word) < DICTIONARY_LENGTH:
        return True
    words = dictionary(language)
    return word in words or any(v in words for v in _umlaut_variants(word))


class Speller:
    """Words put right against a vocabulary (the knowledge base's words): umlauts first, then one edit
    (two for long words), found through the words' one-letter deletions (SymSpell's idea). A word of the
    language's dictionary is left alone: it is a word, not a typo."""

    def __init__(self, vocabulary: Iterable[str], language: str | None = None) -> None:
        self.language = language
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= 3)
        self._deletes: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def _index(self) -> dict[str, list[str]]:
        with self._lock:
            if self._deletes is None:
                deletes: dict[str, list[str]] = {}
                for word in self.vocabulary:
                    if len(word) >= MIN_TYPO_LENGTH - 1:
                        for variant in {word, *_deletions(word)}:
                            deletes.setdefault(variant, []).append(word)
                self._deletes = deletes
            return self._deletes

    def warm_up(self) -> None:
        """Build the deletions index and read the language's dictionary now: reading the dictionary holds
        the GIL for 0.3–0.6 s, which stopped a server's every thread at its first misspelt question."""
        self._index()
        if self.language:
            dictionary(self.language)

    def correct(self, word: str) -> str:
        if word in self.vocabulary or word in _STOP or len(word) < 3 or not word.isalpha():
            return word
        for variant in _umlaut_variants(word):
            if variant in self.vocabulary or variant in _STOP:
                return variant
        if self.language and word in dictionary(self.language):
            return word
        if len(word) < MIN_TYPO_LENGTH:
            # a short word is put right only by a letter doubled or undoubled ("olama", "comit"): another
            # letter would turn names the guide lacks into its words ("DATEV" is no "Daten")
            if len(word) < 4 or not self.language:
                return word
            doubled = {word[: i + 1] + word[i:] for i in range(len(word))}
            single = {word[:i] + word[i + 1 :] for i in range(1, len(word)) if word[i] == word[i - 1]}
            found = sorted(c for c in doubled | single if c in self.vocabulary)
            return found[0] if len(found) == 1 else word
        index = self._index()
        candidates: set[str] = set()
        for variant in {word, *_deletions(word)}:
            candidates.update(index.get(variant, ()))
        # an ending more or less is another word form, not a typo ("Meister" is no "meistern")
        candidates = {
            c
            for c in candidates
            if _distance(word, c) <= (1 if len(word) < 10 else 2) and not c.startswith(word) and not word.startswith(c)
        }
        if not candidates:
            return word
        # the closest, then the one sharing the longest beginning (typos sit later in a word), then the shortest
        return min(candidates, key=lambda c: (_distance(word, c), -_common_prefix(word, c), len(c), c))


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@lru_cache(maxsize=65536)
def _distance(a: str, b: str) -> int:
    """Damerau–Levenshtein distance (adjacent swaps count one)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class QueryUnderstanding:
    """One per process: the lexicon, and a speller per vocabulary (a new index build brings a new one)."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or Lexicon.load()
        self._spellers: dict[str, tuple[frozenset[str], Speller]] = {}
        self._making = threading.Lock()

    def speller(self, vocabulary: frozenset[str], language: str | None = None) -> Speller:
        """The speller of the loaded index build's vocabulary in `language` (a new build brings a new one)."""
        kept = self._spellers.get(language or "")
        if kept is None or kept[0] is not vocabulary:
            with self._making:  # a speller's index takes a while: one thread makes it, the others wait
                kept = self._spellers.get(language or "")
                if kept is None or kept[0] is not vocabulary:
                    kept = self._spellers[language or ""] = (vocabulary, Speller(vocabulary, language))
        return kept[1]

    def understand(self, question: str, language: str, vocabulary: frozenset[str]) -> Understood:
        speller = self.speller(vocabulary, language) if vocabulary else None

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            if speller is None or "-" in word:
                return word
            lower = word.lower()
            fixed = speller.correct(lower)
            return word if fixed == lower else fixed

        text = _WORD.sub(fix, without_the_guide(question))
        expansions = self.lexicon.expand(text, language) + plan_day(text, language)
        return Understood(text, expansions, self.lexicon.canonical(text, language))
