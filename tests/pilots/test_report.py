"""Report figures of pilots checked against values worked out by hand (the arithmetic is in the
comments): KPI now/change/progress in both directions, rating distribution and group weighting, time
saved, ROI and payback, the anonymity threshold, the quarter's window and ROI timeline, and the 👍/👎
figures of Lotse's own answers — on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from bot.pilots.report import Reports
from bot.pilots.store import Entry, Kpi, PilotStore
from bot.pilots.texts import pilot_text, quarter_text
from bot.storage.answer_feedback import AnswerFeedbackStore
from bot.storage.conversations import ConversationStore
from bot.storage.models import AnswerFeedbackRow

SCOPE = "console:w1"
NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
AFTER = datetime(2027, 1, 15, tzinfo=UTC)


@pytest.fixture
def store(db) -> PilotStore:
    return PilotStore(db, b"k" * 32)


@pytest.fixture
def reports(db) -> Reports:
    return Reports(db, clock=lambda: AFTER)  # after the quarters looked at: their ROI timelines are complete


def pilot(store: PilotStore, name: str, start=date(2026, 10, 1), end=date(2026, 12, 31), scope: str = SCOPE, **fields):
    return store.create(scope, name, f"{scope}:lead", start=start, end=end, **fields)


def add(
    store: PilotStore,
    pilot_id: int,
    user: str,
    satisfaction: int,
    minutes: float | None = None,
    *,
    at: datetime = NOV,
    kpis: dict[int, float] | None = None,
    anonymous: bool = False,
    group_size: int = 1,
    works: str | None = None,
) -> int:
    entry = Entry(
        satisfaction, minutes_saved=minutes, kpis=kpis, anonymous=anonymous, group_size=group_size, works=works
    )
    with store.db.session() as s:
        return store.add_entry(s, pilot_id, f"{SCOPE}:{user}", user, entry, created_at=at).id


# -- KPIs ------------------------------------------------------------------------------------------


def test_kpi_now_change_and_progress_where_lower_and_where_higher_is_better(store, reports):
    p = pilot(
        store,
        "Dokumentensuche",
        users=20,
        kpis=[Kpi("Suchzeit", "min", "lower", 15, 3), Kpi("Erstlösungsquote", "%", "higher", 40, 60)],
    )
    search, fcr = store.kpis(p.id)
    add(store, p.id, "anna", 4, kpis={search.id: 4, fcr.id: 45})
    add(store, p.id, "ben", 4, kpis={search.id: 5, fcr.id: 50})
    add(store, p.id, "carl", 4, kpis={search.id: 6, fcr.id: 55})
    add(store, p.id, "dora", 4)  # no measurement: counts for neither KPI

    figures = reports.pilot(p.id)
    lower, higher = figures.kpis
    # search time (lower is better): now = (4 + 5 + 6) / 3 = 5
    #   change = (5 − 15) / 15 = −66.67 %; progress = (5 − 15) / (3 − 15) = −10 / −12 = 83.33 %
    assert (lower.name, lower.direction, lower.measurements) == ("Suchzeit", "lower", 3)
    assert lower.now == pytest.approx(5)
    assert lower.change_pct == pytest.approx(-66.6667, abs=1e-3)
    assert lower.progress_pct == pytest.approx(83.3333, abs=1e-3)
    assert lower.improved is True
    # first-contact resolution (higher is better): now = (45 + 50 + 55) / 3 = 50
    #   change = (50 − 40) / 40 = +25 %; progress = (50 − 40) / (60 − 40) = 10 / 20 = 50 %
    assert (higher.name, higher.direction, higher.measurements) == ("Erstlösungsquote", "higher", 3)
    assert higher.now == pytest.approx(50)
    assert higher.change_pct == pytest.approx(25)
    assert higher.progress_pct == pytest.approx(50)
    assert higher.improved is True
    # the target as a change: 3 vs 15 is −80 %, 60 vs 40 is +50 %
    assert lower.target_change_pct == pytest.approx(-80)
    assert higher.target_change_pct == pytest.approx(50)

    text = pilot_text(figures, "de")
    assert (
        "Suchzeit: jetzt 5 min · Ausgangswert 15 min · Ziel 3 min → −66,7 % ggü. Ausgangswert, "
        "83 % des Wegs zum Ziel (Messwerte: 3; niedriger ist besser)"
    ) in text
    assert (
        "Erstlösungsquote: jetzt 50 % · Ausgangswert 40 % · Ziel 60 % → +25,0 % ggü. Ausgangswert, "
        "50 % des Wegs zum Ziel (Messwerte: 3; höher ist besser)"
    ) in text


def test_a_kpi_that_got_worse_has_negative_progress_and_is_not_improved(store, reports):
    p = pilot(
        store,
        "Rückschritt",
        kpis=[Kpi("Bearbeitungszeit", "min", "lower", 20, 12), Kpi("Quote", "%", "higher", 50, 70)],
    )
    time_kpi, rate_kpi = store.kpis(p.id)
    add(store, p.id, "anna", 2, kpis={time_kpi.id: 22, rate_kpi.id: 45})
    add(store, p.id, "ben", 2, kpis={time_kpi.id: 26, rate_kpi.id: 45})
    worse_time, worse_rate = reports.pilot(p.id).kpis
    # time: now = (22 + 26) / 2 = 24; change = (24 − 20) / 20 = +20 %; progress = (24 − 20) / (12 − 20) = −50 %
    assert worse_time.now == pytest.approx(24)
    assert worse_time.change_pct == pytest.approx(20)
    assert worse_time.progress_pct == pytest.approx(-50)
    assert worse_time.improved is False
    # rate: now = 45; change = (45 − 50) / 50 = −10 %; progress = (45 − 50) / (70 − 50) = −25 %
    assert worse_rate.change_pct == pytest.approx(-10)
    assert worse_rate.progress_pct == pytest.approx(-25)
    assert worse_rate.improved is False


# -- ratings, people, time saved ------------------------------------------------------------------


def test_rating_distribution_mean_and_a_group_entry_weighted_by_its_size(store, reports):
    p = pilot(store, "Gruppen", users=0, hourly_rate=60)  # no user count: the people who answered count
    add(store, p.id, "anna", 2, 10)
    add(store, p.id, "champ", 4, 40, group_size=5)  # a group meeting of 5 people
    add(store, p.id, "carl", 5, None)  # no minutes given
    f = reports.pilot(p.id)
    # responses: 3 entries (the group meeting is one); people: 1 + 5 + 1 = 7
    assert (f.responses, f.people, f.anonymous, f.withheld) == (3, 7, 0, False)
    # distribution per response: one 2, one 4, one 5; mean = (2 + 4 + 5) / 3 = 3.667
    assert f.ratings == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert f.mean_rating == pytest.approx(11 / 3)
    # minutes per person and week, weighted by people, only entries with minutes:
    #   (10 × 1 + 40 × 5) / (1 + 5) = 210 / 6 = 35   (unweighted it would be (10 + 40) / 2 = 25)
    assert f.minutes_per_week == pytest.approx(35)
    # hours a month with the 7 people: 35 × 7 × 52 / 12 / 60 = 17.694 h; × 60 €/h = 1061.67 €
    assert f.hours_per_month == pytest.approx(17.6944, abs=1e-3)
    assert f.benefit_per_month == pytest.approx(1061.667, abs=1e-2)
    assert "Rückmeldungen: 3 (Personen: 7) · Zufriedenheit Ø 3,7 von 5 · 1★ 0 · 2★ 1 · 3★ 0 · 4★ 1 · 5★ 1" in (
        pilot_text(f, "de")
    )


@pytest.mark.parametrize(
    ("users", "minutes", "rate", "one_off", "monthly", "hours", "benefit", "roi", "payback"),
    [
        # 20 users, mean 60 min/week: 60 × 20 × 52 / 12 / 60 = 86.67 h/month; × 50 €/h = 4333.33 €/month
        # costs over 12 months: 6000 + 12 × 500 = 12000; ROI = (12 × 4333.33 − 12000) / 12000 = 333.33 %
        # payback: ceil(6000 / (4333.33 − 500)) = ceil(1.565) = 2 (month 1: 4333 < 6500; month 2: 8667 ≥ 7000)
        (20, 60, 50, 6000, 500, 86.6667, 4333.333, 333.333, 2),
        # 10 users, 6 min/week: 6 × 10 × 52 / 12 / 60 = 4.333 h; × 50 = 216.67 €/month ≤ 300 €/month running
        # costs: no payback; ROI = (12 × 216.67 − (1000 + 12 × 300)) / 4600 = (2600 − 4600) / 4600 = −43.48 %
        (10, 6, 50, 1000, 300, 4.3333, 216.667, -43.478, None),
        # one-off 0: 216.67 €/month vs 100 €/month: ROI = (2600 − 1200) / 1200 = 116.67 %; pays back in month 1
        (10, 6, 50, 0, 100, 4.3333, 216.667, 116.667, 1),
        # high running costs: 4333.33 − 2000 = 2333.33 €/month towards 10000 one-off: ceil(4.29) = 5
        # (month 4: 17333 < 18000; month 5: 21667 ≥ 20000); ROI = (52000 − (10000 + 24000)) / 34000 = 52.94 %
        (20, 60, 50, 10000, 2000, 86.6667, 4333.333, 52.941, 5),
        # exactly on a month: 12 users × 60 min = 52 h = 2600 €/month; 2600 − 1600 = 1000 towards 3000: month 3
        # (month 3: 3 × 2600 = 7800 = 3000 + 3 × 1600); ROI = (31200 − (3000 + 19200)) / 22200 = 40.54 %
        (12, 60, 50, 3000, 1600, 52.0, 2600.0, 40.541, 3),
    ],
)
def test_time_saved_roi_and_payback(
    store, reports, users, minutes, rate, one_off, monthly, hours, benefit, roi, payback
):
    p = pilot(store, "ROI", users=users, hourly_rate=rate, one_off_cost=one_off, monthly_cost=monthly)
    # three answers whose mean is `minutes`
    for user, m in (("anna", minutes / 2), ("ben", minutes), ("carl", minutes * 1.5)):
        add(store, p.id, user, 4, m)
    f = reports.pilot(p.id)
    assert f.minutes_per_week == pytest.approx(minutes)
    assert f.hours_per_month == pytest.approx(hours, abs=1e-3)
    assert f.benefit_per_month == pytest.approx(benefit, abs=1e-2)
    assert f.roi_pct == pytest.approx(roi, abs=1e-2)
    assert f.payback_month == payback


def test_roi_and_payback_in_the_report_text(store, reports):
    p = pilot(store, "Suche", users=20, hourly_rate=50, one_off_cost=6000, monthly_cost=500)
    for user in ("anna", "ben", "carl"):
        add(store, p.id, user, 4, 60)
    text = pilot_text(reports.pilot(p.id), "de")
    # 86.67 h and 4333 € a month (see above); the 2nd month from a start in October 2026 is November 2026
    assert "Ø 60 min pro Person und Woche → 86,7 h im Monat (Nutzer: 20) = 4.333 € im Monat (zu 50 €/h)" in text
    assert (
        "*ROI-Prognose 12 Monate (zum heutigen Nutzen): +333,3 %* · Amortisation (Prognose) im 2. Monat (11/2026)"
        in text
    )
    # and what was measured, labelled apart: Oct costs 6,500, no feedback yet; Nov 7,000 against 4,333;
    # Dec 7,500 against 8,667 → +15.6 % (the report looks from 2027-01-15, after the pilot's end)
    assert "ROI bisher (kumuliert vom Start bis 2027-01, gemessen): +15,6 %." in text

    cheap = pilot(store, "Teuer", users=10, hourly_rate=50, one_off_cost=1000, monthly_cost=300)
    for user in ("anna", "ben", "carl"):
        add(store, cheap.id, user, 3, 6)
    text = pilot_text(reports.pilot(cheap.id), "de")
    assert "*ROI-Prognose 12 Monate (zum heutigen Nutzen): −43,5 %* · keine Amortisation" in text


# -- anonymity -------------------------------------------------------------------------------------


def test_a_payback_beyond_the_projection_says_so(store, reports):
    """A pilot that pays back only after years: the month is named with what it means, not bare."""
    p = pilot(store, "Langsam", users=2, hourly_rate=50, one_off_cost=30000, monthly_cost=100)
    for user in ("anna", "ben", "carl"):
        add(store, p.id, user, 4, 10)  # 10 min a week × 2 people: 1.44 h, 72 € a month
    figures = reports.pilot(p.id)
    assert figures.payback_month is None  # 72 € a month never cover 100 €
    p = pilot(store, "Spaet", users=4, hourly_rate=50, one_off_cost=30000, monthly_cost=100)
    for user in ("anna", "ben", "carl"):
        add(store, p.id, user, 4, 60)  # 60 min × 4: 17.3 h, 867 € a month; 30,000 / 767 → month 40
    figures = reports.pilot(p.id)
    assert figures.payback_month == 40
    text = pilot_text(figures, "de")
    assert "Amortisation (Prognose) erst im 40. Monat (01/2030) – nach den 12 Monaten der Prognose" in text
    assert "beyond the 12 months of the projection" in pilot_text(figures, "en")


def test_figures_with_anonymous_entries_are_withheld_below_three_responses(store, reports):
    p = pilot(store, "Anonym", users=10, hourly_rate=50, anonymous=True, kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)])
    (kpi,) = store.kpis(p.id)
    add(store, p.id, "anna", 4, 30, kpis={kpi.id: 5}, works="schnell")
    add(store, p.id, "ben", 2, 60, kpis={kpi.id: 7}, anonymous=True)

    f = reports.pilot(p.id)
    assert f.withheld is True
    assert (f.responses, f.anonymous) == (2, 1)
    assert f.ratings == {} and f.mean_rating is None
    assert f.minutes_per_week is None and f.roi_pct is None
    assert f.kpis[0].now is None and f.kpis[0].measurements == 0
    assert f.works == []
    text = pilot_text(f, "de")
    assert "Noch zu wenige Rückmeldungen für eine Auswertung mit anonymen Einträgen (2 von mindestens 3)" in text
    assert "jetzt" not in text and "Zufriedenheit Ø" not in text and "schnell" not in text

    add(store, p.id, "carl", 5, 90, kpis={kpi.id: 6})
    f = reports.pilot(p.id)
    assert f.withheld is False
    assert f.ratings == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    # now = (5 + 7 + 6) / 3 = 6; minutes = (30 + 60 + 90) / 3 = 60
    assert f.kpis[0].now == pytest.approx(6) and f.kpis[0].measurements == 3
    assert f.minutes_per_week == pytest.approx(60)


def test_a_pilot_with_named_entries_only_shows_figures_from_one_response(store, reports):
    p = pilot(store, "Namentlich", anonymous=True, kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)])
    (kpi,) = store.kpis(p.id)
    add(store, p.id, "anna", 4, 30, kpis={kpi.id: 9})
    f = reports.pilot(p.id)
    assert f.withheld is False
    assert f.ratings == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}
    assert f.kpis[0].now == pytest.approx(9)


def test_the_quarter_withholds_a_pilots_feedback_but_counts_its_costs(store, reports):
    hidden = pilot(store, "Verdeckt", users=10, hourly_rate=50, one_off_cost=100, anonymous=True)
    add(store, hidden.id, "anna", 1, 600, anonymous=True)
    report = reports.quarter(SCOPE, "2026-Q4")
    (figures,) = report.pilots
    assert figures.withheld is True and figures.ratings == {}
    # costs are no one's feedback: the 100 € one-off counts from October, the withheld time saved does not
    # (600 min would be 10 × 600 × 52/12 / 60 × 50 = 21,667 € a month) → (0 − 100) / 100 = −100 % each month
    assert report.roi_timeline == [("2026-10", -100.0), ("2026-11", -100.0), ("2026-12", -100.0)]
    text = quarter_text(report, "de")
    assert "• Verdeckt: weniger als 3 Rückmeldungen mit anonymen Einträgen – keine Zahlen" in text
    assert "Kosten: laufend 0 € im Monat · einmalig 100 €" in text
    assert "Zufriedenheit Ø" not in text


# -- the quarter -----------------------------------------------------------------------------------


def test_the_quarter_takes_only_its_entries_and_the_pilots_running_in_it(store, reports):
    autumn = pilot(store, "Herbst", date(2026, 10, 1), date(2026, 12, 31))
    pilot(store, "Sommer", date(2026, 7, 1), date(2026, 9, 30))  # ended the day before
    pilot(store, "Übergang", date(2026, 8, 1), date(2026, 10, 1))  # runs one day into the quarter
    pilot(store, "Winter", date(2027, 1, 1), date(2027, 3, 31))  # starts the day after
    pilot(store, "Jahresende", date(2026, 12, 31), date(2027, 2, 28))  # starts on its last day
    pilot(store, "Anderswo", date(2026, 10, 1), date(2026, 12, 31), scope="slack:T2")  # another team
    # the quarter runs from midnight to midnight in Berlin: 22:00 UTC in summer time, 23:00 UTC in winter
    add(store, autumn.id, "anna", 1, at=datetime(2026, 9, 30, 21, 59, 59, tzinfo=UTC))  # 23:59:59 CEST, Q3
    add(store, autumn.id, "ben", 5, at=datetime(2026, 9, 30, 22, 0, tzinfo=UTC))  # 1 October 00:00 CEST
    add(store, autumn.id, "carl", 4, at=datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC))  # 23:59:59 CET
    add(store, autumn.id, "dora", 1, at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC))  # 1 January 00:00 CET, Q1

    report = reports.quarter(SCOPE, "2026-Q4")
    assert (report.since, report.until) == (
        datetime(2026, 9, 30, 22, tzinfo=UTC),
        datetime(2026, 12, 31, 23, tzinfo=UTC),
    )
    assert (report.since.date(), report.until.date()) == (date(2026, 10, 1), date(2027, 1, 1))  # as shown
    assert [p.name for p in report.pilots] == ["Übergang", "Herbst", "Jahresende"]  # by start
    figures = next(p for p in report.pilots if p.name == "Herbst")
    assert figures.responses == 2
    assert figures.ratings == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    # the whole history of the pilot has all four
    assert reports.pilot(autumn.id).responses == 4
    # every scope: the other team's pilot too
    assert "Anderswo" in [p.name for p in reports.quarter(None, "2026-Q4").pilots]
    # Q3 also lists Herbst: anna's entry was given in Q3 (before its start), and feedback given in a quarter is
    # never left out of every report (the newcomer's entries on a planned pilot showed in no quarter)
    assert [p.name for p in reports.quarter(SCOPE, "2026-Q3").pilots] == ["Sommer", "Übergang", "Herbst"]
    assert next(p for p in reports.quarter(SCOPE, "2026-Q3").pilots if p.name == "Herbst").responses == 1


def test_roi_timeline_month_by_month(store, reports):
    chatbot = pilot(
        store,
        "Chatbot",
        date(2026, 10, 1),
        date(2026, 12, 31),
        users=10,
        hourly_rate=60,
        one_off_cost=1000,
        monthly_cost=100,
    )
    add(store, chatbot.id, "anna", 4, 30, at=datetime(2026, 10, 15, tzinfo=UTC))
    add(store, chatbot.id, "ben", 5, 90, at=datetime(2026, 12, 10, tzinfo=UTC))
    add(store, chatbot.id, "carl", 1, 600, at=datetime(2027, 1, 5, tzinfo=UTC))  # after the quarter

    report = reports.quarter(SCOPE, "2026-Q4")
    # benefit a month at m minutes/week: m × 10 users × 52/12 weeks / 60 × 60 €/h = m × 43.33 €
    #   30 min → 1300 €, 90 min → 3900 €
    # Oct: costs 1000 + 100 = 1100; benefit 1300           → (1300 − 1100) / 1100 = +18.18 %
    # Nov: no feedback, October's 30 min carry on: costs 1200; benefit 2600 → (2600 − 1200) / 1200 = +116.67 %
    # Dec: 90 min: costs 1300; benefit 2600 + 3900 = 6500  → (6500 − 1300) / 1300 = +400 %
    assert [label for label, _ in report.roi_timeline] == ["2026-10", "2026-11", "2026-12"]
    assert [roi for _, roi in report.roi_timeline] == pytest.approx([18.1818, 116.6667, 400.0], abs=1e-3)
    # the quarter's figures: mean minutes (30 + 90) / 2 = 60, two responses
    (figures,) = report.pilots
    assert figures.minutes_per_week == pytest.approx(60) and figures.responses == 2
    assert "ROI bisher (kumuliert vom Start bis 2026-12, " in quarter_text(report, "de")
    assert "Nutzen): +400,0 %." in quarter_text(report, "de")


def test_roi_timeline_starts_with_the_first_pilot_and_carries_earlier_feedback(store, reports):
    chatbot = pilot(
        store,
        "Chatbot",
        date(2026, 10, 1),
        date(2026, 12, 31),
        users=10,
        hourly_rate=60,
        one_off_cost=1000,
        monthly_cost=100,
    )
    add(store, chatbot.id, "anna", 4, 30, at=datetime(2026, 10, 15, tzinfo=UTC))
    add(store, chatbot.id, "ben", 5, 90, at=datetime(2026, 12, 10, tzinfo=UTC))
    early = pilot(store, "Früh", date(2026, 9, 1), date(2026, 12, 31), users=5, hourly_rate=48, monthly_cost=200)
    add(store, early.id, "carl", 3, 60, at=datetime(2026, 9, 20, tzinfo=UTC))  # before the quarter

    report = reports.quarter(SCOPE, "2026-Q4")
    # "Früh": 60 min × 5 users × 52/12 / 60 × 48 €/h = 1040 € a month, 200 € costs a month, from September
    # Sep: Früh only: costs 200; benefit 1040                             → 840 / 200 = +420 %
    # Oct: costs 200 + 200 + (1000 + 100) = 1500; benefit 1040 + 1040 + 1300 = 3380 → 1880 / 1500 = +125.33 %
    # Nov: costs 1500 + 200 + 100 = 1800; benefit 3380 + 1040 + 1300 = 5720       → 3920 / 1800 = +217.78 %
    # Dec: costs 1800 + 200 + 100 = 2100; benefit 5720 + 1040 + 3900 = 10660      → 8560 / 2100 = +407.62 %
    assert [label for label, _ in report.roi_timeline] == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert [roi for _, roi in report.roi_timeline] == pytest.approx([420.0, 125.3333, 217.7778, 407.619], abs=1e-3)
    # in the quarter itself "Früh" has no feedback
    figures = next(p for p in report.pilots if p.name == "Früh")
    assert figures.responses == 0 and figures.minutes_per_week is None and figures.roi_pct is None


# -- Lotse's own answers --------------------------------------------------------------------------


def test_answer_feedback_counts_and_reasons(db, reports):
    conversations, feedback = ConversationStore(db), AnswerFeedbackStore(db)
    a1, a2, a3 = (
        conversations.append_turn(f"{SCOPE}:anna:default", f"Frage {n}", f"Antwort {n}", "de", []) for n in (1, 2, 3)
    )
    feedback.rate(a1, f"{SCOPE}:anna", 1)
    feedback.rate(a1, f"{SCOPE}:ben", -1, "outdated")
    feedback.rate(a2, f"{SCOPE}:anna", -1, "outdated")
    feedback.rate(a2, f"{SCOPE}:carl", -1, "unclear")
    feedback.rate(a3, f"{SCOPE}:dora", -1, "outdated")
    feedback.rate(a3, f"{SCOPE}:erik", -1, "nonsense")  # not one of the form's reasons: stored without one
    feedback.rate(a3, f"{SCOPE}:fenja", -1, "missing")
    feedback.rate(a3, f"{SCOPE}:fenja", 1)  # a second click replaces the first
    feedback.rate(a1, "slack:T2:zoe", 1)  # another team
    feedback.general(f"{SCOPE}:anna", 4, "gut")
    feedback.general(f"{SCOPE}:ben", 2, None)
    feedback.rate(a2, f"{SCOPE}:gerd", -1, "unclear")
    with db.session() as s:
        s.execute(update(AnswerFeedbackRow).values(created_at=NOV))
        s.execute(
            update(AnswerFeedbackRow)
            .where(AnswerFeedbackRow.user == f"{SCOPE}:gerd")
            .values(created_at=datetime(2026, 9, 15, tzinfo=UTC))  # the quarter before
        )

    since, until = datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    figures = reports.answers(since, until, SCOPE)
    # 👍: anna on a1, fenja on a3 (her 👎 replaced) = 2; 👎: ben, anna, carl, dora, erik = 5
    assert (figures.up, figures.down) == (2, 5)
    assert figures.reasons == {"outdated": 3, "unclear": 1, "none": 1}
    # general ratings 4 and 2: mean 3
    assert figures.general == {2: 1, 4: 1}
    assert figures.general_mean == pytest.approx(3)
    # every team: zoe's 👍 too; no window: gerd's 👎 too
    assert reports.answers(since, until).up == 3
    everything = reports.answers(None, None, SCOPE)
    assert (everything.down, everything.reasons["unclear"]) == (6, 2)

    report = reports.quarter(SCOPE, "2026-Q4")
    assert report.answers == figures
    assert (
        "Lotses Antworten: 👍 2 · 👎 5 (häufigster Grund: veraltet) · allgemeine Bewertung Ø 3 (Anzahl: 2)"
    ) in quarter_text(report, "de")


def test_the_roi_timeline_of_the_running_quarter_ends_today(db):
    store = PilotStore(db, b"k" * 32)
    running = pilot(store, "Laufend", users=10, hourly_rate=60, one_off_cost=1000, monthly_cost=100)
    add(store, running.id, "anna", 4, 60, at=datetime(2026, 10, 20, tzinfo=UTC))
    today = Reports(db, clock=lambda: datetime(2026, 11, 25, 12, tzinfo=UTC)).quarter(SCOPE, "2026-Q4")
    # October: cost 1,000 + 100; benefit 60 × 10 × 52/12 / 60 × 60 = 2,600 → +136.36 %
    # November (today): cost 1,200; benefit 5,200 → +333.33 %; December has not happened yet
    assert [(m, round(v, 2)) for m, v in today.roi_timeline] == [("2026-10", 136.36), ("2026-11", 333.33)]


def test_a_changed_running_cost_applies_from_its_month_and_keeps_the_months_before(store, reports):
    chatbot = pilot(store, "Chatbot", users=10, hourly_rate=60, one_off_cost=1000, monthly_cost=100)
    add(store, chatbot.id, "anna", 4, 30, at=datetime(2026, 10, 15, tzinfo=UTC))
    add(store, chatbot.id, "ben", 5, 90, at=datetime(2026, 12, 10, tzinfo=UTC))
    today = date(2026, 12, 5)
    store.update(chatbot.id, "monthly_cost", 400.0, actor="lead", valid_from=date(2026, 11, 1), today=today)

    assert store.cost_history(chatbot.id) == [(date(2026, 10, 1), 100.0), (date(2026, 11, 1), 400.0)]
    assert store.get(chatbot.id).monthly_cost == 400.0  # what it costs now, for the 12-month projection
    # as in the month-by-month test above, but from November the month costs 400 instead of 100:
    # Oct: costs 1100, benefit 1300 → +18.18 % (unchanged: October keeps its cost)
    # Nov: costs 1100 + 400 = 1500, benefit 2600 → +73.33 %
    # Dec: costs 1900, benefit 6500 → +242.11 %
    timeline = reports.quarter(SCOPE, "2026-Q4").roi_timeline
    assert [roi for _, roi in timeline] == pytest.approx([18.1818, 73.3333, 242.1053], abs=1e-3)

    # the same month again replaces its figure; an earlier month is inserted in order
    store.update(chatbot.id, "monthly_cost", 300.0, actor="lead", valid_from=date(2026, 11, 1), today=today)
    store.update(chatbot.id, "monthly_cost", 200.0, actor="lead", valid_from=date(2026, 10, 1), today=today)
    assert store.cost_history(chatbot.id) == [(date(2026, 10, 1), 200.0), (date(2026, 11, 1), 300.0)]
    assert store.get(chatbot.id).monthly_cost == 300.0
    # a month still to come is refused; nothing changes
    assert store.update(chatbot.id, "monthly_cost", 900.0, actor="lead", valid_from=date(2027, 1, 1), today=today) == (
        "pilot_cost_future"
    )
    assert store.get(chatbot.id).monthly_cost == 300.0


def test_the_cost_of_a_pilot_yet_to_start_is_corrected_without_a_history(store):
    later = pilot(store, "Später", start=date(2027, 2, 1), end=date(2027, 6, 30), monthly_cost=100)
    store.update(later.id, "monthly_cost", 250.0, actor="lead", today=date(2026, 12, 5))
    assert store.get(later.id).monthly_cost == 250.0 and store.cost_history(later.id) == []


# -- issue 24: a ROI from a handful of answers says so ---------------------------------------------------


def _figures(basis: int, users: int = 25):
    from bot.pilots.report import PilotFigures

    return PilotFigures(
        id=1, name="Suche", use_case="x", owner="y", start=date(2026, 10, 1), end=date(2027, 3, 31), users=users,
        one_off_cost=5000, monthly_cost=500, hourly_rate=55, responses=basis, people=basis,
        ratings={4: basis}, minutes_per_week=60, time_basis=basis,
    )  # fmt: skip


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_roi_extrapolated_from_one_answer_is_flagged(language):
    text = pilot_text(_figures(1), language)
    assert ("von einer einzigen Person" if language == "de" else "from a single person") in text
    assert (
        "auf alle Nutzer des Pilots (25) hochgerechnet" if language == "de" else "to all the pilot's users (25)"
    ) in text
    three = pilot_text(_figures(3), language)
    assert ("stammt von 3 Personen" if language == "de" else "comes from 3 people") in three


def test_enough_answers_or_every_user_answering_is_not_flagged():
    assert "Vorsicht" not in pilot_text(_figures(5), "de")
    assert "Vorsicht" not in pilot_text(_figures(3, users=3), "de")  # all of a small pilot's users answered


def test_a_projected_payback_already_past_while_the_roi_so_far_is_negative_says_so():
    """The newcomer's run: "Amortisation (Prognose) im 2. Monat (11/2026)" beside "ROI bisher (bis 2026-12):
    −48,8 %" reads as paid back in November."""
    from dataclasses import replace

    figures = replace(_figures(10), start=date(2026, 10, 1), roi_so_far=("2026-12", -48.8))
    assert figures.payback_month is not None and figures.payback_month <= 3
    text = pilot_text(figures, "de")
    assert "tatsächlich ist sie bis 2026-12 noch nicht erreicht" in text
    measured = pilot_text(replace(figures, roi_so_far=("2026-12", 12.0)), "de")
    assert "noch nicht erreicht" not in measured
