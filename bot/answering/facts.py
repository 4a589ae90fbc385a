"""The guide's figures and rules applied to what the asker told us (issue 19), for extractive answers:

- a per-person or per-system range times the number of people or systems in the question
  ("12 Leute schulen" → 12 × 2.000–5.000 € = 24.000–60.000 €), a monthly figure per year when asked;
- a percentage reduction applied to the asker's own time ("45 Minuten, minus 40 %" → 27 Minuten);
- the readiness rule "at least 3 of 4 questions answered yes" and the 1–5 scale's "4 or 5 suits early
  integration" applied to the asker's count or rating.

Each function returns one sentence in the asker's language, or None. The figures come from the quoted
passage, never from here: only the rule's thresholds are the guide's (Phase 1, FAQ).
"""

from __future__ import annotations

import re

_NUMBER_WORDS = {
    "ein": 1, "eine": 1, "einen": 1, "one": 1, "zwei": 2, "two": 2, "drei": 3, "three": 3, "vier": 4,
    "four": 4, "fünf": 5, "fuenf": 5, "five": 5, "sechs": 6, "six": 6, "sieben": 7, "seven": 7, "acht": 8,
    "eight": 8, "neun": 9, "nine": 9, "zehn": 10, "ten": 10, "elf": 11, "eleven": 11, "zwölf": 12,
    "zwoelf": 12, "twelve": 12, "zwanzig": 20, "twenty": 20,
}  # fmt: skip
_COUNT = r"(\d{1,4}|" + "|".join(_NUMBER_WORDS) + r")"
_PEOPLE = re.compile(
    _COUNT + r"(?:-?k(?:ö|oe)pfige\w*|\s+(?:\w+\s+){0,2}?(?:leute|personen|mitarbeite\w*|ma\b|kolleg\w*|"
    r"entwickler\w*|admins?|teilnehm\w*|beschäftigte\w*|köpfe\w*|koepfe|devs?|developers?|people|persons?|employees?|staff|engineers?|"
    r"admins?|colleagues|participants?|members?))",
    re.IGNORECASE,
)
_SYSTEMS = re.compile(
    _COUNT + r"\s+(?:\w+[\s-]+){0,2}?(?:ki-)?(?:systeme?n?|ki-systeme?n?|anwendungen|lösungen|loesungen|tools|"
    r"systems?|applications?|solutions?)",
    re.IGNORECASE,
)
_PER_PERSON = re.compile(r"\b(pro|je) (person|kopf|mitarbeite\w*|teilnehm\w*)|per (person|head|employee)", re.I)
_PER_MONTH = re.compile(r"\b(pro|je|im) monat|monatlich|per month|a month|monthly", re.IGNORECASE)
_PER_YEAR_ASKED = re.compile(r"\b(pro|im|je|ein|fürs?|fuers?) jahr|jährlich|jaehrlich|per year|a year|annual|yearly",
                             re.IGNORECASE)  # fmt: skip
_RANGE = re.compile(
    r"(?:€\s?)?(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(?:€|euro|eur)?\s*(?:bis|to|–|-|—|and)\s*(?:€\s?)?(\d{1,3}(?:[.,]\d{3})+|\d+)"
    r"\s*(€|euro|eur)?",
    re.IGNORECASE,
)
_MINUTES = re.compile(r"(\d{1,4})\s*(?:min\b|minuten|minutes|mins?\b)", re.IGNORECASE)
_PERCENT = re.compile(r"(\d{1,2})\s*(?:%|prozent|percent)", re.IGNORECASE)
_OF_FOUR = re.compile(
    _COUNT + r"\s+(?:unserer|der|von|of|out of|of the|of our)?\s*(?:\w+\s+){0,1}?(?:4|vier|four)\b", re.IGNORECASE
)
_RATING = re.compile(r"\b(?:note|bewertung|score|rating|rated|bewertet mit|eine|a)\s+([1-5])\b(?!\s*(?:von|of|bis))",
                     re.IGNORECASE)  # fmt: skip
_READINESS = re.compile(r"infrastru\w*|ki-bereit|ki bereit|ai-ready|ai ready|readiness|bereit", re.IGNORECASE)
_SCALE = re.compile(r"skala|scale|1 bis 5|1 to 5|note|rated|rating|bewertung|bewertet", re.IGNORECASE)


def _count(text: str) -> int | None:
    text = text.lower()
    return int(text) if text.isdigit() else _NUMBER_WORDS.get(text)


def _amount(text: str) -> int:
    return int(re.sub(r"[.,]", "", text))


def _money(value: int, language: str) -> str:
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if language == "de" else grouped


def _range_with(answer: str, unit: re.Pattern[str]) -> tuple[int, int] | None:
    """The first money range in a sentence of `answer` that also names `unit` (per person, per month)."""
    for sentence in re.split(r"(?<=[.!?])\s+|\n", answer):
        if not unit.search(sentence):
            continue
        for low, high, currency in _RANGE.findall(sentence):
            a, b = _amount(low), _amount(high)
            if 100 <= a < b and (currency or "€" in sentence or "euro" in sentence.lower()):
                return a, b
    return None


def computed(question: str, answer: str, language: str) -> str | None:
    """A sentence applying the quoted figure or rule to the asker's numbers, or None."""
    return (
        _per_person(question, answer, language)
        or _per_system(question, answer, language)
        or _reduction(question, answer, language)
        or _three_of_four(question, answer, language)
        or _rating(question, answer, language)
    )


def _per_person(question: str, answer: str, language: str) -> str | None:
    match = _PEOPLE.search(question)
    people = _count(match.group(1)) if match else None
    figure = _range_with(answer, _PER_PERSON)
    if not people or people < 2 or figure is None:
        return None
    low, high = (people * v for v in figure)
    if language == "de":
        return f"Für {people} Personen sind das {_money(low, 'de')} bis {_money(high, 'de')} Euro."
    return f"For {people} people that comes to €{_money(low, 'en')} to €{_money(high, 'en')}."


def _per_system(question: str, answer: str, language: str) -> str | None:
    match = _SYSTEMS.search(question)
    systems = _count(match.group(1)) if match else None
    figure = _range_with(answer, _PER_MONTH)
    if not systems or figure is None:
        return None
    low, high = (systems * v for v in figure)
    yearly = bool(_PER_YEAR_ASKED.search(question))
    if language == "de":
        text = f"Für {systems} produktive KI-Systeme sind das {_money(low, 'de')} bis {_money(high, 'de')} Euro"
        if yearly:
            return f"{text} im Monat, also {_money(12 * low, 'de')} bis {_money(12 * high, 'de')} Euro im Jahr."
        return f"{text} im Monat."
    text = f"For {systems} productive AI systems that comes to €{_money(low, 'en')} to €{_money(high, 'en')} a month"
    return text + (f", or €{_money(12 * low, 'en')} to €{_money(12 * high, 'en')} a year." if yearly else ".")


def _reduction(question: str, answer: str, language: str) -> str | None:
    minutes = _MINUTES.search(question)
    percent = _PERCENT.search(answer)
    if not minutes or not percent or _PERCENT.search(question):
        return None
    before, share = int(minutes.group(1)), int(percent.group(1))
    after = before * (100 - share) / 100
    shown = f"{after:g}".replace(".", ",") if language == "de" else f"{after:g}"
    if language == "de":
        return f"Auf Ihre {before} Minuten angewandt: {share} % weniger ergibt etwa {shown} Minuten."
    return f"Applied to your {before} minutes: {share}% less comes to about {shown} minutes."


def _three_of_four(question: str, answer: str, language: str) -> str | None:
    match = _OF_FOUR.search(question)
    if not match or not _READINESS.search(question) or not re.search(r"\b(3|drei|three)\b", answer, re.I):
        return None
    yes = _count(match.group(1))
    if yes is None or not 0 <= yes <= 4:
        return None
    if language == "de":
        verdict = "gilt Ihre Infrastruktur als grundsätzlich KI-bereit" if yes >= 3 else (
            "reicht das noch nicht; schließen Sie zuerst die offenen Punkte")  # fmt: skip
        return f"Bei {yes} von 4 erfüllten Punkten {verdict} (Regel: mindestens 3 von 4)."
    verdict = "your infrastructure counts as basically AI-ready" if yes >= 3 else (
        "that is not enough yet; close the open points first")  # fmt: skip
    return f"With {yes} of 4 points met, {verdict} (rule: at least 3 of 4)."


# "das ERP eine 3, das CRM eine 4", "CRM rated 4": a system named by its (upper-case) name, then its rating
_NAMED_RATING = re.compile(
    r"\b([A-ZÄÖÜ][A-Za-zÄÖÜäöüß-]{1,24})\b[^.?!\dA-ZÄÖÜ]{0,25}?\b([1-5])\b(?!\s*(?:von|of|bis|to|-|–))"
)
_NOT_NAMES = frozenset(
    "Note Bewertung Skala Score Rating Wir Unser Unsere Bei Das Der Die Welches Welche Our The We".split()
)


def _rating(question: str, answer: str, language: str) -> str | None:
    if (
        not _SCALE.search(question)
        and not _NAMED_RATING.search(question)
        or not re.search(r"\b4\b.{0,12}\b5\b", answer)
    ):
        return None
    named = [(n, int(r)) for n, r in _NAMED_RATING.findall(question) if n not in _NOT_NAMES]
    if len(named) >= 2:  # several systems: which suit early integration, which not yet
        suited = [n for n, r in named if r >= 4]
        later = [n for n, r in named if r < 4]
        if language == "de":
            parts = [
                f"Für eine frühe KI-Integration eignen sich: {', '.join(suited)}."
                if suited
                else "Keines der genannten Systeme eignet sich schon für eine frühe KI-Integration."
            ]
            if later:
                parts.append(f"Noch nicht (Bewertung unter 4): {', '.join(later)}.")
            return " ".join(parts)
        parts = [
            f"Suited for early AI integration: {', '.join(suited)}."
            if suited
            else "None of the systems named suits early AI integration yet."
        ]
        if later:
            parts.append(f"Not yet (rated below 4): {', '.join(later)}.")
        return " ".join(parts)  # fmt: skip
    match = _RATING.search(question)
    if not match or not _SCALE.search(question):
        return None
    rating = int(match.group(1))
    if language == "de":
        verdict = "eignet sich für eine frühe KI-Integration" if rating >= 4 else (
            "eignet sich noch nicht für eine frühe KI-Integration; dafür braucht es eine 4 oder 5")  # fmt: skip
        return f"Ein System mit der Bewertung {rating} {verdict}."
    verdict = "suits early AI integration" if rating >= 4 else (
        "does not suit early AI integration yet; that takes a 4 or 5")  # fmt: skip
    return f"A system rated {rating} {verdict}."
