"""When nudges are due: the plan's weekday and local time in a time zone, moved past weekends and the
public holidays of a German state (the `holidays` package). Every occurrence has a local calendar key
(`W03`, `F09`, `2027-Q2`, `S2026-12-01`), never a UTC timestamp, so a daylight-saving fold or a
recomputation cannot give one nudge two keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = {
    "mo": 0, "mon": 0, "montag": 0, "monday": 0, "di": 1, "die": 1, "tue": 1, "dienstag": 1, "tuesday": 1,
    "mi": 2, "wed": 2, "mittwoch": 2, "wednesday": 2, "do": 3, "thu": 3, "donnerstag": 3, "thursday": 3,
    "fr": 4, "fri": 4, "freitag": 4, "friday": 4,
}  # fmt: skip
DAY_NAMES = {"de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def day_name(day: date, language: str) -> str:
    return DAY_NAMES[language if language in DAY_NAMES else "de"][day.weekday()]


def day_label(day: date, language: str) -> str:
    """ "Mo 2026-11-30" / "Mon 2026-11-30"."""
    return f"{day_name(day, language)} {day.isoformat()}"


class CalendarError(ValueError):
    """A setting that cannot be scheduled (unknown state or time zone); the message says what to use."""


def state_code(value: str | None) -> str | None:
    """A German state as its code (BY), from a code or a name (Bayern); None for none (national holidays)."""
    if not value:
        return None
    wanted = value.strip()
    codes = holidays.Germany.subdivisions
    for code in codes:
        if code.lower() == wanted.lower():
            return code
    for alias, code in holidays.Germany.subdivisions_aliases.items():
        if alias.lower() == wanted.lower():
            return code
    states = ", ".join(c for c in codes if len(c) == 2)
    raise CalendarError(f"unknown German state {value!r}: use one of {states}")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin") from None


@lru_cache(maxsize=32)
def _holidays(state: str | None) -> holidays.HolidayBase:
    # filled for the years a plan can touch up front: the lazy expansion is not thread-safe
    return holidays.Germany(subdiv=state, years=range(2000, 2061), language="de")


class Calendar:
    """Working days in one German state (weekends and public holidays are off)."""

    def __init__(self, state: str | None) -> None:
        self.state = state_code(state)
        self.holidays = _holidays(self.state)

    def off_reason(self, day: date) -> str:
        """Why `day` is not a working day ("" if it is one): the holiday's German name, or the weekend."""
        name = self.holidays.get(day)
        if name:
            return name
        return "Wochenende" if day.weekday() >= 5 else ""

    def next_working_day(self, day: date) -> tuple[date, str]:
        """`day` itself if it is a working day, else the next one, with the reason of the first day skipped."""
        reason = self.off_reason(day)
        while self.off_reason(day):
            day += timedelta(days=1)
        return day, reason

    def add_working_days(self, day: date, count: int) -> date:
        while count > 0:
            day += timedelta(days=1)
            if not self.off_reason(day):
                count -= 1
        return day


@dataclass(frozen=True)
class Schedule:
    start: date
    weekday: int = 0  # 0 = Monday
    at: time = time(9, 0)
    tz: str = "Europe/Berlin"
    state: str | None = None

    def first_week(self) -> date:
        return self.start + timedelta(days=(self.weekday - self.start.weekday()) % 7)

    def due(self, day: date, tz: str | None = None) -> datetime:
        """The moment (UTC) of the local time `at` on `day` in the zone. A wall time that does not exist
        (spring forward) lands just after the gap; one that exists twice (fall back) is the first."""
        return datetime.combine(day, self.at, tzinfo=zone(tz or self.tz)).astimezone(UTC)


@dataclass(frozen=True)
class Occurrence:
    key: str  # W03, F09, 2027-Q2, S2026-12-01
    kind: str  # week, feedback, quarter, snooze
    number: int  # the week for week and feedback nudges, else 0
    day: date  # local date it is sent on
    nominal: date  # the date before moving past holidays and weekends
    due_at: datetime  # UTC
    reason: str  # why it moved ("" if it did not)
    window: timedelta  # how late it may still be sent; older missed ones are summarised instead


WEEK_WINDOW = timedelta(days=6)
QUARTER_WINDOW = timedelta(days=30)
SNOOZE_WINDOW = timedelta(days=1)
DIGEST_WINDOW = timedelta(days=1)  # a digest is of its week: a day late at most, else the next one comes


def week_occurrences(schedule: Schedule, weeks: int, tz: str | None = None) -> list[Occurrence]:
    calendar = Calendar(schedule.state)
    first = schedule.first_week()
    result = []
    for n in range(1, weeks + 1):
        nominal = first + timedelta(weeks=n - 1)
        day, reason = calendar.next_working_day(nominal)
        result.append(Occurrence(f"W{n:02d}", "week", n, day, nominal, schedule.due(day, tz), reason, WEEK_WINDOW))
    return result


def feedback_occurrences(schedule: Schedule, weeks: list[int], days_after: int, tz: str | None = None):
    calendar = Calendar(schedule.state)
    by_week = {o.number: o for o in week_occurrences(schedule, max(weeks, default=0), tz)}
    result = []
    for n in weeks:
        nominal = calendar.add_working_days(by_week[n].day, days_after)
        day, reason = calendar.next_working_day(nominal)
        result.append(Occurrence(f"F{n:02d}", "feedback", n, day, nominal, schedule.due(day, tz), reason, WEEK_WINDOW))
    return result


def quarter_occurrences(schedule: Schedule, until: date, tz: str | None = None) -> list[Occurrence]:
    """The review on the first working day of each quarter that begins after the plan's start."""
    calendar = Calendar(schedule.state)
    year, quarter = schedule.start.year, (schedule.start.month - 1) // 3 + 1
    result = []
    while True:
        quarter += 1
        if quarter == 5:
            year, quarter = year + 1, 1
        nominal = date(year, 3 * (quarter - 1) + 1, 1)
        if nominal > until:
            return result
        day, reason = calendar.next_working_day(nominal)
        due = schedule.due(day, tz)
        result.append(Occurrence(f"{year}-Q{quarter}", "quarter", 0, day, nominal, due, reason, QUARTER_WINDOW))


def digest_occurrences(schedule: Schedule, until: date, tz: str | None = None) -> list[Occurrence]:
    """The knowledge owners' weekly digest of knowledge gaps (issue 25): on the plan's weekday and time
    from its first week on, as long as the plan runs (not only its 12 weeks), moved past holidays."""
    calendar = Calendar(schedule.state)
    nominal, result = schedule.first_week(), []
    while nominal <= until:
        day, reason = calendar.next_working_day(nominal)
        key = f"G{nominal.isoformat()}"
        result.append(Occurrence(key, "gaps", 0, day, nominal, schedule.due(day, tz), reason, DIGEST_WINDOW))
        nominal += timedelta(weeks=1)
    return result


def snooze_occurrence(schedule: Schedule, day: date, tz: str | None = None) -> Occurrence:
    return Occurrence(f"S{day.isoformat()}", "snooze", 0, day, day, schedule.due(day, tz), "", SNOOZE_WINDOW)


def snooze_day(calendar: Calendar, today: date, until: str) -> date:
    """The day a snoozed task comes back: the next working day ("tomorrow") or next Monday (moved to
    the next working day if that Monday is a holiday)."""
    if until == "monday":
        return calendar.next_working_day(today + timedelta(days=7 - today.weekday()))[0]
    return calendar.next_working_day(today + timedelta(days=1))[0]
