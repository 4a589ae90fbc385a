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

from bot.core import i18n

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
_PER_YEAR_ASKED = re.compile(
    r"\b(pro|im|je|ein|fürs?|fuers?) jahr|jährlich|jaehrlich|per year|a year|annual|yearly", re.IGNORECASE
)
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
_RATING = re.compile(
    r"\b(?:note|bewertung|score|rating|rated|bewertet mit|eine|a)\s+([1-5])\b(?!\s*(?:von|of|bis))", re.IGNORECASE
)
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


_COST = re.compile(
    r"kost|budget|teuer|preis|geld|euro|€|rechnen|invest|ausgeb|cost|price|spend|money|afford|expens", re.IGNORECASE
)


def figure_first(question: str, passages: list) -> list:
    """The passages with, first, the one whose figure the asker's count applies to: "was kostet es, 6
    Kollegen fit zu machen?" needs the per-person range, not the first year's budget that ranked above it
    (among the first three only: a far passage is no answer)."""
    people, systems = _PEOPLE.search(question), _SYSTEMS.search(question)
    unit = _PER_PERSON if people else _PER_MONTH if systems else None
    if unit is None or not passages or not _COST.search(question) or _range_with(passages[0].text, unit):
        return passages
    for number, passage in enumerate(passages[1:3], 1):
        if _range_with(passage.text, unit):
            return [passage, *passages[:number], *passages[number + 1 :]]
    return passages


def computed(question: str, answer: str, language: str) -> str | None:
    """A sentence applying the quoted figure or rule to the asker's numbers, or None."""
    return (
        _plan_dates(question, answer, language)
        or _months_after(question, answer, language)
        or _per_person(question, answer, language)
        or _per_system(question, answer, language)
        or _reduction(question, answer, language)
        or _three_of_four(question, answer, language)
        or _rating(question, answer, language)
    )


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("januar", "january", "jan"),
            ("februar", "february", "feb"),
            ("märz", "maerz", "march", "mar"),
            ("april", "apr"),
            ("mai", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("dezember", "december", "dez", "dec"),
        ],
        1,
    )
    for name in names
}
_DATE = re.compile(
    r"\b(\d{1,2})\.\s*(?:(\d{1,2})\.|("
    + "|".join(_MONTHS)
    + r")\b)|\b("
    + "|".join(_MONTHS)
    + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_START = re.compile(
    r"\b(start\w*|gestartet|beginn\w*|begonnen|los|losgelegt|kick\w*|anfang\w*|angefangen|begin\w*|began|begun)\b",
    re.IGNORECASE,
)
_WEEKS_IN_ANSWER = re.compile(r"\b(?:woche|wochen|week|weeks)\s+(\d{1,2})(?:\s*[-–]\s*(\d{1,2}))?", re.IGNORECASE)


def _plan_dates(question: str, answer: str, language: str) -> str | None:
    """The calendar days of the plan's week(s) the answer names, from the start date the asker gave
    ("Wir starten am 1. Juli" → Woche 7–8: 12.08.–25.08.)."""
    import datetime as dt

    date = _DATE.search(question)  # the asker's words first: they are short, the answer is not
    if not date or not _START.search(question) or not (weeks := _WEEKS_IN_ANSWER.search(answer)):
        return None
    day = int(date.group(1) or date.group(5))
    month_text = date.group(2) or date.group(3) or date.group(4)
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower())
    if not month or not 1 <= month <= 12:
        return None
    today = dt.date.today()
    try:
        start = dt.date(today.year, month, day)
    except ValueError:
        return None
    if start < today - dt.timedelta(days=90):  # a start more than the plan's 90 days ago means next year's
        start = start.replace(year=start.year + 1)
    first, last = int(weeks.group(1)), int(weeks.group(2) or weeks.group(1))
    if not 1 <= first <= last <= 13:
        return None
    begin, end = start + dt.timedelta(days=7 * (first - 1)), start + dt.timedelta(days=7 * last - 1)

    def shown(day: dt.date) -> str:
        month = i18n.text("months", language).split()[day.month - 1]
        return f"{day.day}. {month} {day.year}" if language == "de" else f"{day.day} {month} {day.year}"

    label = f"{first}–{last}" if last != first else str(first)
    return i18n.text("facts_plan_dates", language, weeks=label, start=shown(start), begin=shown(begin), end=shown(end))


_MONTH_YEAR = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b(?:\s+(\d{4}))?", re.IGNORECASE)
_MONTHS_RANGE = re.compile(r"\b(\d{1,2})\s*(?:bis|to|-|–)\s*(\d{1,2})\s*(?:monate|monaten|months)\b", re.IGNORECASE)


def _months_after(question: str, answer: str, language: str) -> str | None:
    """A span the guide gives in months, counted from the month the asker started ("Wir haben im Januar
    2026 begonnen" + 12 bis 18 Monate → Januar 2027 bis Juli 2027)."""
    import datetime as dt

    start = _MONTH_YEAR.search(question)
    if not start or not _START.search(question) or _DATE.search(question):
        return None
    if not (span := _MONTHS_RANGE.search(answer)):
        return None
    month = _MONTHS[start.group(1).lower()]
    today = dt.date.today()
    year = int(start.group(2)) if start.group(2) else today.year - (month > today.month)
    names = i18n.text("months", language).split()

    def after(months: int) -> str:
        total = year * 12 + month - 1 + months
        return f"{names[total % 12]} {total // 12}"

    low, high = int(span.group(1)), int(span.group(2))
    return i18n.text(
        "facts_months_after", language, start=f"{names[month - 1]} {year}", low=after(low), high=after(high)
    )


def _per_person(question: str, answer: str, language: str) -> str | None:
    match = _PEOPLE.search(question)
    people = _count(match.group(1)) if match else None
    if not people or people < 2 or (figure := _range_with(answer, _PER_PERSON)) is None:
        return None
    low, high = (_money(people * v, language) for v in figure)
    return i18n.text("facts_people", language, count=people, low=low, high=high)


def _per_system(question: str, answer: str, language: str) -> str | None:
    match = _SYSTEMS.search(question)
    systems = _count(match.group(1)) if match else None
    if not systems or (figure := _range_with(answer, _PER_MONTH)) is None:
        return None
    low, high = (systems * v for v in figure)
    text = i18n.text("facts_systems", language, count=systems, low=_money(low, language), high=_money(high, language))
    if _PER_YEAR_ASKED.search(question):
        text += " " + i18n.text(
            "facts_per_year", language, low=_money(12 * low, language), high=_money(12 * high, language)
        )
    return text


def _reduction(question: str, answer: str, language: str) -> str | None:
    minutes = _MINUTES.search(question)
    if not minutes or _PERCENT.search(question) or not (percent := _PERCENT.search(answer)):
        return None
    before, share = int(minutes.group(1)), int(percent.group(1))
    after = f"{before * (100 - share) / 100:g}"
    after = after.replace(".", ",") if language == "de" else after
    return i18n.text("facts_reduction", language, before=before, share=share, after=after)


def _three_of_four(question: str, answer: str, language: str) -> str | None:
    match = _OF_FOUR.search(question)
    if not match or not _READINESS.search(question) or not re.search(r"\b(3|drei|three)\b", answer, re.I):
        return None
    yes = _count(match.group(1))
    if yes is None or not 0 <= yes <= 4:
        return None
    return i18n.text("facts_ready" if yes >= 3 else "facts_not_ready", language, count=yes)


# "das ERP eine 3, das CRM eine 4", "CRM rated 4": a system named by its (upper-case) name, then its rating
_NAMED_RATING = re.compile(
    r"\b([A-ZÄÖÜ][A-Za-zÄÖÜäöüß-]{1,24})\b[^.?!\dA-ZÄÖÜ]{0,25}?\b([1-5])\b(?!\s*(?:von|of|bis|to|-|–))"
)
_NOT_NAMES = frozenset(
    "Note Bewertung Skala Score Rating Wir Unser Unsere Bei Das Der Die Welches Welche Our The We".split()
)


def _rating(question: str, answer: str, language: str) -> str | None:
    if not (_SCALE.search(question) or _NAMED_RATING.search(question)) or not re.search(r"\b4\b.{0,12}\b5\b", answer):
        return None
    named = [(n, int(r)) for n, r in _NAMED_RATING.findall(question) if n not in _NOT_NAMES]
    if len(named) >= 2:  # several systems: which suit early integration, which not yet
        suited = ", ".join(n for n, r in named if r >= 4)
        later = ", ".join(n for n, r in named if r < 4)
        text = (
            i18n.text("facts_ratings_suited", language, names=suited)
            if suited
            else (i18n.text("facts_ratings_none", language))
        )
        return f"{text} {i18n.text('facts_ratings_later', language, names=later)}" if later else text
    match = _RATING.search(question)
    if not match or not _SCALE.search(question):
        return None
    rating = int(match.group(1))
    return i18n.text("facts_rating_suited" if rating >= 4 else "facts_rating_not_yet", language, rating=rating)
