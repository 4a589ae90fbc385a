"""Times as exports and people read them: in Europe/Berlin, the company's time, with the offset written
out ("2026-10-05T11:30:00+02:00"), so a script reads the same instant a person sees. Stored times are UTC;
SQLite gives them back without a zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
ZONE = "Europe/Berlin"  # as headers state it


def local(value: datetime) -> datetime:
    """A stored time (UTC, with or without its zone) in Berlin time, with its offset."""
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(BERLIN)


def stamp(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 in Berlin time with its offset, to the second; None stays None."""
    return None if value is None else local(value).isoformat(timespec="seconds")


DAY_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")  # "2026-12-07" and "7.12.2026", wherever a day is typed


def read_day(token: str) -> date | None:
    """The day `token` names in one of `DAY_FORMATS`, or None."""
    for pattern in DAY_FORMATS:
        try:
            return datetime.strptime(token.strip(), pattern).date()
        except ValueError:
            continue
    return None
