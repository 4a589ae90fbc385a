"""Turning text into BM25 terms: lowercase words, stop words out, Snowball stems, and German compounds
split into the parts the corpus knows ("Weiterbildungsbudget" also yields "weiterbild", "budget").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

from bot.core.language import ENGLISH_WORDS, GERMAN_WORDS

_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]{3})*(?:,[0-9]+)?|[a-zäöüß]+", re.IGNORECASE)
_STEMMERS = {"de": "german", "en": "english"}
_GERMAN_LINKS = ("", "s", "es", "n", "en", "e")  # Fugenelemente between compound parts
MIN_PART = 4

# "Woche zwei", "die dritte Woche", "week three": numbers written as words count as digits
_NUMBER_WORDS = {}
for _n, (_de, _de_ord, _en, _en_ord) in enumerate(
    [
        ("eins", "erst", "one", "first"),
        ("zwei", "zweit", "two", "second"),
        ("drei", "dritt", "three", "third"),
        ("vier", "viert", "four", "fourth"),
        ("fünf", "fünft", "five", "fifth"),
        ("sechs", "sechst", "six", "sixth"),
        ("sieben", "siebt", "seven", "seventh"),
        ("acht", "acht", "eight", "eighth"),
        ("neun", "neunt", "nine", "ninth"),
        ("zehn", "zehnt", "ten", "tenth"),
        ("elf", "elft", "eleven", "eleventh"),
        ("zwölf", "zwölft", "twelve", "twelfth"),
    ],
    1,
):
    _NUMBER_WORDS.update({_de: str(_n), _en: str(_n), _en_ord: str(_n)})
    _NUMBER_WORDS.update({_de_ord + end: str(_n) for end in ("e", "en", "er", "es", "em")})


@lru_cache(maxsize=4)
def stemmer_for(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMERS.get(language, "german"))


def words(text: str) -> list[str]:
    """Lowercased words and numbers; "2.000" and "2,000" both become "2000", "zwei" becomes "2"."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if tok[0].isdigit():
            tok = re.sub(r"[.,](?=[0-9]{3}\b)", "", tok)
        elif tok.startswith("aller") and tok[5:] in _NUMBER_WORDS:  # "allererste"
            tok = tok[5:]
        out.append(_NUMBER_WORDS.get(tok, tok))
    return out


_WEEK_WORDS = frozenset({"woche", "wochen", "week", "weeks"})
_RANGE = frozenset({"bis", "to"})  # "Woche 5 bis 6"; a dash ("5–6") leaves no token between the numbers
_CONNECTORS = _RANGE | {"und", "oder", "and", "or"}


def week_terms(tokens: list[str]) -> list[str]:
    """ "Woche 5–6", "weeks 9 and 10", "Woche zwei" → "week#5", "week#6" …: a week of the plan is a term
    of its own, so that "Woche 3" does not match every passage that mentions a 3."""
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if tok not in _WEEK_WORDS:
            continue
        numbers: list[int] = []
        joined_by: set[str] = set()
        j = i + 1
        while j < len(tokens) and (tokens[j].isdigit() or (tokens[j] in _CONNECTORS and numbers)):
            if tokens[j].isdigit():
                numbers.append(int(tokens[j]))
            else:
                joined_by.add(tokens[j])
            j += 1
        # a range only for "5–6" or "5 bis 6"; "Woche 1 und 5" are two weeks
        if len(numbers) == 2 and joined_by <= _RANGE and 0 < numbers[1] - numbers[0] <= 11:
            numbers = list(range(numbers[0], numbers[1] + 1))
        out.extend(f"week#{n}" for n in numbers if n <= 52)
    return out


class Analyzer:
    """Text → BM25 terms for one language. `vocabulary` (the corpus' words) enables compound splitting."""

    def __init__(self, language: str, vocabulary: Iterable[str] = ()) -> None:
        self.language = language
        self.stop = GERMAN_WORDS | ENGLISH_WORDS
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= MIN_PART)
        self._stem = stemmer_for(language).stemWord
        self._split_cache: dict[str, tuple[str, ...]] = {}

    def terms(self, text: str) -> list[str]:
        tokens = words(text)
        result: list[str] = week_terms(tokens)
        for word in tokens:
            if (word in self.stop and not word.isdigit()) or (len(word) < 2 and not word.isdigit()):
                continue
            result.append(self._stem(word))
            if len(word) >= 2 * MIN_PART:
                result.extend(self._stem(part) for part in self.split_compound(word))
        return result

    def split_compound(self, word: str) -> tuple[str, ...]:
        """The known head and modifier of a compound, or () when none is found."""
        cached = self._split_cache.get(word)
        if cached is not None:
            return cached
        parts: tuple[str, ...] = ()
        for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):  # longest head first
            head = word[cut:]
            if head not in self.vocabulary:
                continue
            left = word[:cut]
            for link in _GERMAN_LINKS:
                stem = left[: len(left) - len(link)] if link and left.endswith(link) else left
                if len(stem) >= MIN_PART and stem in self.vocabulary:
                    parts = (stem, head)
                    break
            if parts:
                break
        self._split_cache[word] = parts
        return parts
