"""Slot values from plain words (issue 22): assessments, dates, weekdays, times, German states, plan
tasks, quarters, export formats, names — German and English, with or without umlauts.

Each parser takes the whole message and returns the normalised value (an assessment id, an ISO date,
"09:00", "BY", "3.1", "2026-Q4", "xlsx") or None when the message does not name one. Dates are resolved
against `today`: "nächsten Montag", "ab dem 8. März", "8.3.", "in zwei Wochen", "next monday", "Jan 11".
(`dateparser` misses German relative weekdays — shared/notes/natural-language-actions.md — and a small
parser for the forms people type here is faster and has no model to load.)
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Sequence
from datetime import date, timedelta

from bot.core.commands import MONTHS

FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case with umlauts written out: "Prüfung" and "Pruefung" read the same."""
    return text.lower().translate(FOLD)


# -- assessments ------------------------------------------------------------------------------------

ASSESSMENTS = (  # the first that matches wins: data quality before the broad "daten", …
    ("data_quality", ("datenqualit", "data quality", "data-quality", "dataquality", "datenguete",
                      "qualitaet der daten", "quality of our data", "datenbestand")),
    ("use_cases", ("use case", "use-case", "usecase", "anwendungsfaell", "anwendungsfall", "priorisier", "prioritis",
                   "prioritiz")),
    ("risks", ("risik", "risk")),
    ("skills", ("skill", "kompetenz", "faehigkeit", "qualifikation", "know-how", "knowhow", "wissen im team",
                "kenntniss", "competenc")),
    ("systems", ("system", "landschaft", "anwendungen bewerten", "applications")),
    ("readiness", ("bereitschaft", "readiness", "ki-fit", "ki fit", "kifit", "ai-ready", "ai ready", "ki-tauglich",
                   "ki tauglich", "ki-reif", "reifegrad", "infrastruktur", "infrastructure", "fitness",
                   "bereit fuer ki", "ready for ai", "fit fuer ki", "ki-bereit")),
)  # fmt: skip


def assessment(text: str) -> str | None:
    low = fold(text)
    for ident in ("readiness", "systems", "data_quality", "skills", "use_cases", "risks"):
        if re.search(rf"\b{ident}\b", low):
            return ident
    return next((ident for ident, words in ASSESSMENTS if any(w in low for w in words)), None)


# -- dates ------------------------------------------------------------------------------------------

DAYS = {
    "montag": 0, "monday": 0, "mo": 0, "mon": 0, "dienstag": 1, "tuesday": 1, "di": 1, "tue": 1, "mittwoch": 2,
    "wednesday": 2, "mi": 2, "wed": 2, "donnerstag": 3, "thursday": 3, "do": 3, "thu": 3, "freitag": 4,
    "friday": 4, "fr": 4, "fri": 4, "samstag": 5, "saturday": 5, "sonntag": 6, "sunday": 6,
}  # fmt: skip
NUMBERS = {"ein": 1, "einer": 1, "einem": 1, "eins": 1, "one": 1, "a": 1, "zwei": 2, "two": 2, "drei": 3, "three": 3,
           "vier": 4, "four": 4, "fuenf": 5, "five": 5, "sechs": 6, "six": 6}  # fmt: skip
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = "|".join(sorted((d for d in DAYS if len(d) > 3), key=len, reverse=True))
_ANY_DAY = "|".join(sorted(DAYS, key=len, reverse=True))  # "Mo" too, when a time follows it
ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
DOTTED = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{2,4})?(?![\d])")
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?(?:\s+(\d{{4}}))?\b")
MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b")
RELATIVE_DAY = re.compile(rf"\b(?:(naechste[nrms]?|kommende[nrms]?|next|this|diese[nmrs]?|coming)\s+)?({_DAY})\b")
IN_WEEKS = re.compile(
    r"\b(?:in|nach)\s+(\d+|ein|einer|zwei|drei|vier|one|two|three|four|a)\s+(woche|wochen|week|weeks|tag|tagen|day|days)\b"
)  # noqa: E501
NEXT_WEEK = re.compile(r"\b(naechste[nr]?\s+woche|kommende[nr]?\s+woche|next\s+week)\b")


def _year_for(month: int, day: int, today: date) -> int:
    """A day and month without a year: the next such day from today on."""
    try:
        return today.year if date(today.year, month, day) >= today else today.year + 1
    except ValueError:
        return today.year


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def start_date(text: str, today: date) -> str | None:
    """The day a request names, as an ISO date; None if it names none."""
    low = fold(text)
    if m := ISO.search(low):
        found = _safe(int(m[1]), int(m[2]), int(m[3]))
        return found.isoformat() if found else None
    if m := DOTTED.search(low):
        day, month = int(m[1]), int(m[2])
        year = int(m[3]) if m[3] else _year_for(month, day, today)
        year = year + 2000 if year < 100 else year
        found = _safe(year, month, day)
        if found:
            return found.isoformat()
    if m := DAY_MONTH.search(low):
        day, month = int(m[1]), MONTHS[m[2]]
        found = _safe(int(m[3]) if m[3] else _year_for(month, day, today), month, day)
        if found:
            return found.isoformat()
    if m := MONTH_DAY.search(low):
        month, day = MONTHS[m[1]], int(m[2])
        found = _safe(int(m[3]) if m[3] else _year_for(month, day, today), month, day)
        if found:
            return found.isoformat()
    if re.search(r"\b(uebermorgen|day after tomorrow)\b", low):
        return (today + timedelta(days=2)).isoformat()
    if re.search(r"\b(morgen|tomorrow)\b", low) and not re.search(r"\bguten morgen\b", low):
        return (today + timedelta(days=1)).isoformat()
    if re.search(r"\b(heute|today|sofort|ab jetzt|right away|now)\b", low):
        return today.isoformat()
    if m := IN_WEEKS.search(low):
        count = int(m[1]) if m[1].isdigit() else NUMBERS.get(m[1], 1)
        unit = 7 if m[2].startswith(("woche", "week")) else 1
        return (today + timedelta(days=count * unit)).isoformat()
    if m := RELATIVE_DAY.search(low):
        weekday = DAYS[m[2]]
        ahead = (weekday - today.weekday()) % 7
        if ahead == 0 or (m[1] and m[1].startswith(("naechst", "next")) and ahead == 0):
            ahead = 7
        return (today + timedelta(days=ahead)).isoformat()
    if NEXT_WEEK.search(low):
        return (today + timedelta(days=7 - today.weekday())).isoformat()  # the next week's Monday
    return None


WEEKDAY_CODES = ("mo", "di", "mi", "do", "fr")
EVERY_DAY = re.compile(
    rf"\b(?:(?:jeden|jede[nm]?|immer|every|on)\s+({_DAY})s?|(montags|dienstags|mittwochs|donnerstags|freitags|"
    r"mondays|tuesdays|wednesdays|thursdays|fridays))\b|"
    rf"\b({_ANY_DAY})\.?,?\s+(?:um\s+|at\s+)?(?:[01]?\d|2[0-3])(?::[0-5]\d|\s*uhr\b|\s*[ap]m\b)"  # "Mo 08:00"
)


def weekday(text: str) -> str | None:
    """The reminders' day of the week when the request names a recurring one ("immer dienstags")."""
    m = EVERY_DAY.search(fold(text))
    if not m:
        return None
    word = m[1] or m[2] or m[3]
    number = DAYS.get(word, DAYS.get(word.removesuffix("s")))
    return WEEKDAY_CODES[number] if number is not None and number < 5 else None


TIME = re.compile(r"\b(?:um|at|ab|gegen)?\s*([01]?\d|2[0-3])(?:[:.]([0-5]\d))?\s*(uhr|h\b|am\b|pm\b|o'?clock)")
BARE_TIME = re.compile(  # "montags um 9", "um 9.30" — not "um 11.1." (a date)
    r"\b(?:um|at|gegen)\s+([01]?\d|2[0-3])(?:[.:]([0-5]\d))?\b(?![.:,]?\d)(?!\.)"
)
CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
NUMBERS = {"ein": 1, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8,
           "neun": 9, "zehn": 10, "elf": 11, "zwoelf": 12}  # fmt: skip
SPOKEN = re.compile(  # "um halb neun", "viertel nach 9", "half past 8"
    r"\b(halb|viertel nach|viertel vor|dreiviertel|half past|quarter past|quarter to)\s+"
    r"(1\d|2[0-3]|\d|" + "|".join(NUMBERS) + r")\b(?![.:]\d)"
)
SPOKEN_MINUTES = {"halb": -30, "viertel nach": 15, "viertel vor": -15, "dreiviertel": -15, "half past": 30,
                  "quarter past": 15, "quarter to": -15}  # fmt: skip


def clock_time(text: str) -> str | None:
    low = fold(text)
    m = CLOCK.search(low)
    if m:
        return f"{int(m[1]):02d}:{m[2]}"
    if m := SPOKEN.search(low):
        hour = int(m[2]) if m[2].isdigit() else NUMBERS[m[2]]
        minutes = hour * 60 + SPOKEN_MINUTES[m[1]]
        minutes += 12 * 60 if minutes < 6 * 60 else 0  # in office hours: "halb drei" is 14:30
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    m = TIME.search(low)
    if m:
        hour = int(m[1]) + (12 if m[3] == "pm" and int(m[1]) < 12 else 0)
        return f"{hour:02d}:{m[2] or '00'}"
    if m := BARE_TIME.search(low):
        return f"{int(m[1]):02d}:{m[2] or '00'}"
    return None


STATE_NAMES = {
    "baden-wuerttemberg": "BW", "baden wuerttemberg": "BW", "bawue": "BW", "bayern": "BY", "bavaria": "BY",
    "berlin": "BE", "brandenburg": "BB", "bremen": "HB", "hamburg": "HH", "hessen": "HE", "hesse": "HE",
    "mecklenburg-vorpommern": "MV", "mecklenburg": "MV", "niedersachsen": "NI", "lower saxony": "NI",
    "nordrhein-westfalen": "NW", "nordrhein westfalen": "NW", "nrw": "NW", "north rhine-westphalia": "NW",
    "rheinland-pfalz": "RP", "rhineland-palatinate": "RP", "saarland": "SL", "sachsen-anhalt": "ST",
    "saxony-anhalt": "ST", "sachsen": "SN", "saxony": "SN", "schleswig-holstein": "SH", "thueringen": "TH",
    "thuringia": "TH",
}  # fmt: skip
CODES = {"BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH"}


def state(text: str) -> str | None:
    low = fold(text)
    for name in sorted(STATE_NAMES, key=len, reverse=True):  # "sachsen-anhalt" before "sachsen"
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low):
            return STATE_NAMES[name]
    codes = [w for w in re.findall(r"\b[A-Z]{2}\b", text) if w in CODES]
    return codes[0] if codes else None


TASK = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})(?![\d.]|\.\d)")


def task(text: str) -> str | None:
    """A plan task like "3.1" (not a date such as "3.1.2027")."""
    m = TASK.search(text)
    return f"{int(m[1])}.{int(m[2])}" if m else None


QUARTER = re.compile(r"\b(20\d\d)\s*[-/ ]?\s*q([1-4])\b|\bq([1-4])\s*[-/ ]?\s*(20\d\d)?\b")
ORDINAL_QUARTER = re.compile(
    r"\b(erste[snm]?|zweite[snm]?|dritte[snm]?|vierte[snm]?|first|second|third|fourth|1\.|2\.|3\.|4\.)\s+"
    r"(quartal|quarter)(?:\s+(?:von\s+|of\s+)?(20\d\d))?"
)
ORDINALS = {"erst": 1, "first": 1, "1.": 1, "zweit": 2, "second": 2, "2.": 2, "dritt": 3, "third": 3, "3.": 3,
            "viert": 4, "fourth": 4, "4.": 4}  # fmt: skip


def quarter(text: str, today: date) -> str | None:
    low = fold(text)
    current = (today.month - 1) // 3 + 1
    if m := QUARTER.search(low):
        if m[1]:
            return f"{m[1]}-Q{m[2]}"
        number, year = int(m[3]), int(m[4]) if m[4] else today.year
        return f"{year}-Q{number}"
    if m := ORDINAL_QUARTER.search(low):
        number = next(n for k, n in ORDINALS.items() if m[1].startswith(k))
        return f"{int(m[3]) if m[3] else today.year}-Q{number}"
    if re.search(r"\b(letzte[snm]?|vorige[snm]?|last|previous)\s+(quartal|quarter)\b|\bvor(?:her)?quartal", low):
        year, number = (today.year, current - 1) if current > 1 else (today.year - 1, 4)
        return f"{year}-Q{number}"
    if re.search(r"\b(dieses|diesem|aktuelle[snm]?|laufende[snm]?|this|current)\s+(quartal|quarter)\b", low):
        return f"{today.year}-Q{current}"
    return None


def export_format(text: str) -> str | None:
    low = fold(text)
    if re.search(r"\bcsv\b", low):
        return "csv"
    if re.search(r"\b(xlsx|excel|xls|tabellenkalkulation|spreadsheet)\b", low):
        return "xlsx"
    return None


QUOTED = re.compile(r"[\"„“”'‚‘’«»]([^\"„“”'‚‘’«»]{2,80})[\"„“”'‚‘’«»]")
_NAME = r"([^\s,;:!?][^,;!?]{1,79}?)"  # a name: up to 80 characters, to a comma, the end or what follows it
NAME_PATTERNS = (
    re.compile(
        r"(?:\b(?:name|titel|title)\s*[:=]|[,–-]\s*(?:name|titel|title)\b)\s*" + _NAME + r"\s*[.!?]?$", re.IGNORECASE
    ),  # "Name: Vertriebs-Copilot"
    re.compile(
        r"\b(?:namens|names|called|named|heisst|heißt|mit dem namen|with the name|name ist|name is)\s+"
        + _NAME
        + r"\s*[.!?]?$",
        re.IGNORECASE,
    ),  # "… namens Ticket-Bot"
    re.compile(
        r"\b(?:pilot|piloten|pilotprojekt|eintrag|entry|anwendung|application|tool|app)\s*[:–-]\s+"
        + _NAME
        + r"\s*[.!?]?$",
        re.IGNORECASE,
    ),  # "Neuer Pilot: Rechnungseingang-KI"
    re.compile(
        r"\b(?:anlegen|erfassen|eintragen|aufnehmen|create|add|register)\s*:\s*" + _NAME + r"\s*[.!?]?$", re.IGNORECASE
    ),  # "Eintrag im KI-Register anlegen: Personio KI-Assistent"
    re.compile(
        r"\b(?:[\w-]*reg(?:ister|siter|istry|ister\w*)|verzeichnis|inventar|inventory)\s*:\s*" + _NAME + r"\s*[.!?]?$",
        re.IGNORECASE,
    ),  # "neuer eintrag ins regsiter: Otter.ai"
    re.compile(
        r"\b(?i:create|add|new|start|set up)\s+(?i:a\s+)?(?i:new\s+)?(?i:pilot)(?i:\s+project)?\s+"
        r"(?i:called\s+|named\s+)?"
        r"([A-Z][\w.+-]*(?:\s+[A-Z0-9][\w.+-]*){0,3})\s*[.!?]?$"
    ),  # "create pilot Angebotsassistent"
    re.compile(
        r"\b(?i:neue[rnms]?\s+)?(?i:pilot|piloten|pilotprojekt)\s+([A-Z][\w.+-]*(?:\s+[A-Z0-9][\w.+-]*){0,3})\s+"
        r"(?i:anlegen|erstellen|einrichten|aufsetzen|starten)\b"
    ),  # "bitte Pilot Angebotsassistent anlegen"
    re.compile(
        r"\b(?:add|put|list|enter)\s+(?!it\b|this\b|that\b|them\b|a\b|an\b|new\b)"
        + _NAME
        + r"\s+(?:to|in|into|on)\s+(?:the|our)\s+(?:ai\s+)?(?:register|inventory|list|registry)",
        re.IGNORECASE,
    ),  # "please put Notion AI in the register"
    *(
        re.compile(
            start
            + r"(?!das\b|es\b|ihn\b|sie\b|den\b|die\b|was\b|wer\b|wie\b|welche\w*\b)"
            + _NAME
            + r"\s+(?:ins|in das|in unser|im|in unserem)\s+(?:ki-)?(?:register|verzeichnis)",
            re.IGNORECASE,
        )
        for start in (r"\b(?:du|bitte|mal|doch)\s+", r"^")
    ),  # "kannst du SAP Joule im KI-Verzeichnis eintragen", "bitte Grammarly ins Register"
    re.compile(
        r"\btrag(?:e|t)?\s+(?:bitte\s+|mal\s+|doch\s+)*(?!das\b|es\b|ihn\b|sie\b|den\b|die\b)"
        + _NAME
        + r"\s+(?:ins|in das|in unser|im)\s+",
        re.IGNORECASE,
    ),  # "trag bitte ChatGPT ins KI-Register ein"
    re.compile(
        r"\b(?:ergaenz|ergänz)\w*\s+(?:bitte\s+)?(?:das|unser)\s+(?:ki-)?\w*\s+um\s+" + _NAME + r"\s*[.!?]?$",
        re.IGNORECASE,
    ),  # "Ergänze das Register um Midjourney"
    re.compile(r"[,;:–-]\s*" + _NAME + r"\s+(?:heisst|heißt)\s+(?:der|die|das|er|sie|es)\b", re.IGNORECASE),
    re.compile(
        r"\b(?:anlegen|erfassen|eintragen|aufnehmen|ergaenzen|ergänzen)\s+(?:fuer|für|mit)\s+(?:(?:das|die|den)\s+)?"
        + _NAME
        + r"\s*[.!?]?$",
        re.IGNORECASE,
    ),  # "Register-Eintrag anlegen für Personio KI-Assistent"
    re.compile(
        r"\b(?:nutzen|nutzt|verwenden|verwendet|testen|testet|einsetzen|using|use|uses|testing|started using)\s+"
        r"(?:jetzt\s+|now\s+|seit\s+\w+\s+)?([A-Z0-9][\w.+-]*(?:\s+[A-Z0-9][\w.+-]*){0,3})"
    ),  # "Wir nutzen jetzt Perplexity im Marketing"
)


PARTICLE = re.compile(r"\s+(?:an|ein|auf|hinzu|bitte)$", re.IGNORECASE)  # "namens Ticket-Bot an[legen]"
LEADING = re.compile(  # "kannst du evtl. Personio KI ins Register …", "und noch SAP Joule …"
    r"^(?:(?:evtl\.?|eventuell|vielleicht|noch|mal|bitte|doch|kurz|schnell|auch|gerne|gern|maybe|also|just|please)\s+)+",
    re.IGNORECASE,
)


def name(text: str) -> str | None:
    """A new pilot's or register entry's name when the request gives one ("… namens Ticket-Bot", "Neuer
    Pilot: Rechnungseingang-KI", "add GitHub Copilot to the register", "trag Fireflies ins Register ein")."""
    if m := QUOTED.search(text):
        return m[1].strip()
    for pattern in NAME_PATTERNS:
        if m := pattern.search(text.strip()):
            found = LEADING.sub("", PARTICLE.sub("", m[1].strip())).strip("\"'„“”").strip()
            if found and found.lower() not in {"der", "die", "das", "it", "this", "that", "einen", "ein"}:
                return found
    return None


def pick(text: str, names: Sequence[str], parts: bool = True) -> str | None:
    """Which of `names` (live: pilots, register entries) a message means: by its number ("Pilot 2"), its
    full name, a word of it, or a close spelling ("dokumentsuche"); None if none or several fit.
    `parts=False`: only the number, the whole name, its beginning ("Ticket-Assi") or a close spelling of
    the whole — "Copilot" alone then names no "Protokoll-Copilot"."""
    low = fold(text)
    folded = [fold(n) for n in names]
    if m := re.search(r"\b(?:pilot|nr\.?|nummer|number|no\.?|#)\s*(\d{1,2})\b", low):
        number = int(m[1])
        if 1 <= number <= len(names):
            return names[number - 1]
    exact = [n for n, f in zip(names, folded, strict=True) if re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", low)]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        return max(exact, key=len)
    words = re.findall(r"[\w-]{4,}", low)
    scored = []
    split = parts
    for original, f in zip(names, folded, strict=True):
        parts = [p for p in re.split(r"[\s-]+", f) if len(p) >= 4]
        best = 0.0
        for word in words:
            best = max(best, difflib.SequenceMatcher(None, word, f).ratio())
            if len(word) >= 6 and f.startswith(word):
                best = max(best, 0.9)
            for part in parts if split else ():
                if word == part or (len(word) >= 5 and part.startswith(word)):
                    best = max(best, 0.9)
                else:
                    best = max(best, difflib.SequenceMatcher(None, word, part).ratio() - 0.05)
        scored.append((best, original))
    for number, (original, f) in enumerate(zip(names, folded, strict=True)):
        if _shortened(low, f):
            scored[number] = (max(scored[number][0], 0.9), original)
    scored.sort(reverse=True)
    if scored and scored[0][0] >= 0.8 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 0.08):
        return scored[0][1]
    return None


# words of a German name as English speakers say them ("doc search" for "Dokumentensuche")
ENGLISH_PARTS = {"doc": "doku", "docs": "doku", "document": "dokument", "documents": "dokumente", "search": "suche",
                 "assistant": "assistent", "protocol": "protokoll"}  # fmt: skip


def _shortened(low: str, name: str) -> bool:
    """Two words that shorten a compound name: the first begins it, the second ends it ("Doku-Suche",
    "doc search" for "Dokumentensuche"; "ticket assistant" for "Ticket-Assistent")."""
    compact = re.sub(r"[\s-]+", "", name)
    words = [ENGLISH_PARTS.get(w, w) for w in re.findall(r"\w+", low)]
    return any(
        len(first) >= 3
        and len(last) >= 4
        and compact.startswith(first)
        and compact.endswith(last)
        and len(first) + len(last) < len(compact) + 1
        for first, last in itertools.pairwise(words)
    )


# each slot type's parser, as (the message, today) → the normalised value or None; pilot and register
# names are live data (`pick`)
PARSERS = {
    "assessment": lambda text, today: assessment(text),
    "date": start_date,
    "weekday": lambda text, today: weekday(text),
    "time": lambda text, today: clock_time(text),
    "state": lambda text, today: state(text),
    "task": lambda text, today: task(text),
    "quarter": quarter,
    "format": lambda text, today: export_format(text),
    "text": lambda text, today: name(text),
}
