"""What the chat commands share: splitting `/command [subcommand] [rest]`, and reading numbers, ids and
dates out of what a user typed or a button carried. Only ASCII digits count: `str.isdigit()` also
accepts "²" and other Unicode digits, some of which `int()` rejects."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Protocol, TypeVar

# an id from a command or a button: fewer digits than 2**63 - 1 has (PostgreSQL's bigint, SQLite's INTEGER)
ID_DIGITS = 18
# a date further from today than this is a typo; near the years 1 and 9999 it breaks date arithmetic
YEARS = 50


# month names and their short forms, German and English, umlauts written out (as typed without them too)
MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "jaenner": 1, "februar": 2, "feb": 2, "february": 2, "maerz": 3,
    "marz": 3, "mar": 3, "march": 3, "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10,
    "okt": 10, "oct": 10, "october": 10, "november": 11, "nov": 11, "dezember": 12, "dez": 12, "dec": 12,
    "december": 12,
}  # fmt: skip


def is_number(text: str) -> bool:
    """Whether `text` is one or more ASCII digits."""
    return text.isascii() and text.isdigit()


def id_number(text: str) -> int | None:
    """An id or a number in a list as typed or carried by a button: 1 to 18 ASCII digits; else None."""
    return int(text) if is_number(text) and len(text) <= ID_DIGITS else None


class _Named(Protocol):
    name: str


Named = TypeVar("Named", bound=_Named)


def pick(listed: Sequence[Named], typed: str) -> Named | None:
    """What a user means by `typed` in a numbered list of named things (`/pilot`, `/register`): its number,
    its name, or an unambiguous beginning of a name; None if nothing or several fit."""
    wanted = " ".join(typed.split()).lower()
    if not wanted:
        return None
    if is_number(wanted):
        number = int(wanted) if len(wanted) <= ID_DIGITS else 0
        return listed[number - 1] if 1 <= number <= len(listed) else None
    exact = [item for item in listed if item.name.lower() == wanted]
    if exact:
        return exact[0]
    starts = [item for item in listed if item.name.lower().startswith(wanted)]
    return starts[0] if len(starts) == 1 else None


def years_in_reach(today: date, years: int = YEARS) -> tuple[int, int]:
    """The first and the last year a date typed today may have."""
    return today.year - years, today.year + years


def in_reach(day: date, today: date, years: int = YEARS) -> bool:
    first, last = years_in_reach(today, years)
    return first <= day.year <= last


def split_subcommand(
    text: str, subcommands: Mapping[str, str], english: Collection[str], german: Collection[str], language: str
) -> tuple[str, str, str]:
    """(subcommand, rest, language) of `/command [subcommand] [rest]`. No words: "list"; a first word
    that is no subcommand: "show" with all the words (`/pilot Dokumentensuche`). A subcommand that is
    plainly English or German sets the language, whatever the guess from the text said."""
    words = text.strip().split()[1:]
    first = words[0].lower() if words else ""
    sub = subcommands.get(first) if words else "list"
    if first in english or first in german:
        language = "en" if first in english else "de"
    rest = " ".join(words[1:]) if sub else " ".join(words)
    return sub or "show", rest, language


MONTH = re.compile(r"^(?:(\d{4})\s*-\s*(\d{1,2})|(\d{1,2})\s*[/.]\s*(\d{4})|([a-zäöü]+)\.?\s*(\d{4})?)$")


def parse_month(text: str, today: date) -> date | None:
    """ "2026-10", "10/2026", "10.2026", "Oktober 2026", "okt 2026", "October" (this year) → the month's
    first day; None if it is none or out of reach."""
    match = MONTH.match(text.strip().lower())
    if not match:
        return None
    iso_year, iso_month, month_, year_, name, name_year = match.groups()
    if name is not None:
        month = MONTHS.get(name.replace("ä", "ae"))
        year = int(name_year) if name_year else today.year
    else:
        month, year = int(iso_month or month_), int(iso_year or year_)
    if not month or not 1 <= month <= 12 or not in_reach(date(year, month, 1), today):
        return None
    return date(year, month, 1)
