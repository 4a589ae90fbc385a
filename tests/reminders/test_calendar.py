"""When nudges fall due: weekdays, German public holidays per state, daylight saving, quarters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.reminders.calendar import (
    Calendar,
    CalendarError,
    Schedule,
    feedback_occurrences,
    quarter_occurrences,
    snooze_day,
    state_code,
    week_occurrences,
    zone,
)


def days(schedule: Schedule, weeks: int = 12) -> list[date]:
    return [o.day for o in week_occurrences(schedule, weeks)]


def test_twelve_mondays_from_the_start_date():
    schedule = Schedule(date(2026, 11, 25), weekday=0, state="BY")  # a Wednesday: week 1 is the next Monday
    got = days(schedule)
    assert got[0] == date(2026, 11, 30) and got[-1] == date(2027, 2, 15)
    assert all((b - a).days == 7 for a, b in zip(got, got[1:], strict=False))
    assert [o.key for o in week_occurrences(schedule, 12)] == [f"W{n:02d}" for n in range(1, 13)]


def test_christmas_and_new_year_move_friday_nudges_to_the_next_working_day():
    occurrences = week_occurrences(Schedule(date(2026, 12, 4), weekday=4, state="BY"), 6)
    by_week = {o.number: o for o in occurrences}
    assert by_week[4].nominal == date(2026, 12, 25) and by_week[4].day == date(2026, 12, 28)
    assert by_week[4].reason == "Erster Weihnachtstag"
    assert by_week[5].nominal == date(2027, 1, 1) and by_week[5].day == date(2027, 1, 4)
    assert by_week[5].reason == "Neujahr"
    assert by_week[6].day == date(2027, 1, 8) and by_week[6].reason == ""


def test_easter_monday_and_good_friday():
    monday = {o.number: o for o in week_occurrences(Schedule(date(2027, 2, 1), weekday=0, state="NW"), 12)}
    assert monday[9].nominal == date(2027, 3, 29) and monday[9].day == date(2027, 3, 30)
    assert monday[9].reason == "Ostermontag"
    assert monday[10].day == date(2027, 4, 5)


def test_good_friday_then_easter_monday_skips_to_tuesday():
    friday = {o.number: o for o in week_occurrences(Schedule(date(2027, 2, 5), weekday=4, state="NW"), 12)}
    week = next(o for o in friday.values() if o.nominal == date(2027, 3, 26))
    assert week.reason == "Karfreitag" and week.day == date(2027, 3, 30)  # Fri holiday, weekend, Easter Monday


def test_daylight_saving_keeps_the_local_time_in_spring_and_autumn():
    berlin = zone("Europe/Berlin")
    spring = {o.number: o for o in week_occurrences(Schedule(date(2027, 2, 1), state="BY"), 12)}
    assert spring[8].due_at == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert spring[9].due_at == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST (Easter Monday moved it)
    autumn = {o.number: o for o in week_occurrences(Schedule(date(2026, 9, 28), state="BY"), 12)}
    assert autumn[4].due_at == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    assert autumn[5].due_at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    for o in list(spring.values()) + list(autumn.values()):
        assert o.due_at.astimezone(berlin).time() == time(9, 0)


def test_a_time_in_the_spring_gap_or_the_autumn_fold_gives_one_moment_per_week():
    # 02:30 on the switch days (a time `/plan start` refuses; the calendar must still give one moment)
    schedule = Schedule(date(2026, 10, 19), at=time(2, 30))
    assert schedule.due(date(2026, 10, 25)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first of two 02:30s
    assert schedule.due(date(2027, 3, 28)) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # none exists: 03:30 CEST


def test_fronleichnam_is_a_holiday_in_bavaria_but_not_in_lower_saxony():
    bavaria = week_occurrences(Schedule(date(2026, 6, 4), weekday=3, state="BY"), 1)[0]
    lower_saxony = week_occurrences(Schedule(date(2026, 6, 4), weekday=3, state="NI"), 1)[0]
    assert (bavaria.day, bavaria.reason) == (date(2026, 6, 5), "Fronleichnam")
    assert (lower_saxony.day, lower_saxony.reason) == (date(2026, 6, 4), "")


def test_quarterly_review_on_the_first_working_day_of_each_quarter():
    quarters = quarter_occurrences(Schedule(date(2025, 12, 1), state="BY"), date(2026, 12, 31))
    assert [(o.key, o.day) for o in quarters] == [
        ("2026-Q1", date(2026, 1, 2)),
        ("2026-Q2", date(2026, 4, 1)),
        ("2026-Q3", date(2026, 7, 1)),
        ("2026-Q4", date(2026, 10, 1)),
    ]
    assert quarters[0].reason == "Neujahr"
    assert quarter_occurrences(Schedule(date(2027, 3, 15)), date(2027, 5, 1))[0].day == date(2027, 4, 1)


def test_pilot_feedback_two_working_days_after_the_week_nudge():
    schedule = Schedule(date(2026, 11, 30), state="BY")
    feedback = feedback_occurrences(schedule, [9, 10], 2)
    assert [(o.key, o.day) for o in feedback] == [("F09", date(2027, 1, 27)), ("F10", date(2027, 2, 3))]


def test_snooze_to_tomorrow_or_next_monday_skips_weekends_and_holidays():
    bavaria = Calendar("BY")
    assert snooze_day(bavaria, date(2026, 12, 4), "tomorrow") == date(2026, 12, 7)  # Friday → Monday
    assert snooze_day(bavaria, date(2026, 12, 23), "tomorrow") == date(2026, 12, 24)
    assert snooze_day(bavaria, date(2026, 12, 24), "tomorrow") == date(2026, 12, 28)
    assert snooze_day(bavaria, date(2027, 3, 24), "monday") == date(2027, 3, 30)  # Easter Monday → Tuesday


def test_states_by_code_or_name_and_clear_errors():
    assert state_code("by") == "BY" and state_code("Bayern") == "BY" and state_code(None) is None
    with pytest.raises(CalendarError, match="BB, BE, BW, BY"):
        state_code("Bavaria-North")
    with pytest.raises(CalendarError, match="Europe/Berlin"):
        zone("Mars/Olympus")


def test_holiday_names_do_not_depend_on_the_process_locale(monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert Calendar("BY").off_reason(date(2026, 12, 25)) == "Erster Weihnachtstag"
