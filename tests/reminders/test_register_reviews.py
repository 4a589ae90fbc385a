"""The AI register's review dates feed the quarterly review: the nudge lists the applications whose
review falls due within the quarter or is overdue, with how to look at each; an application reviewed
later, or retired, is not in it, and without a due review the nudge is as before."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from bot.register.store import RegisterStore
from bot.reminders.dispatch import Dispatcher
from tests.conftest import both_databases
from tests.reminders.conftest import Collect
from tests.reminders.test_delivery import start_plan

QUARTER_DAY = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # the 2027-Q1 review: 09:00 Berlin, the first working day


def register(reminders, name: str, review: date, status: str = "production") -> None:
    RegisterStore(reminders.db).add(
        "slack:T1:UADMIN", name, purpose="…", owner="IT", risk_class="limited", status=status, next_review=review
    )


def quarterly(reminders, clock) -> str:
    clock.now = QUARTER_DAY
    sender = Collect()
    asyncio.run(Dispatcher(reminders, [sender]).run_once(clock.now))
    [text] = [reply.text for _, reply in sender.sent if reply.text.startswith("*Quartals-Review")]
    return text


@both_databases
def test_the_quarterly_nudge_lists_reviews_due_in_the_quarter_and_overdue_ones(reminders, clock):
    start_plan(reminders)
    register(reminders, "Microsoft 365 Copilot", date(2027, 2, 15))  # due within 2027-Q1
    register(reminders, "Rechnungseingang-KI", date(2026, 12, 1))  # overdue already
    register(reminders, "Bildgenerator", date(2027, 4, 10))  # reviewed later: 2027-Q2
    register(reminders, "Alt-Chatbot", date(2027, 1, 20), status="retired")  # no longer in use
    text = quarterly(reminders, clock)
    assert text.startswith("*Quartals-Review Ihrer KI-Einführung · 2027-Q1*")
    lines = text.split("\n\n", 1)[1].splitlines()
    assert lines == [
        "*KI-Register: fällige Reviews (2)* – prüfen Sie Zweck, Daten, Risikoklasse und Status:",
        "• Rechnungseingang-KI – ⚠️ überfällig seit 01.12.2026 · `/register zeige Rechnungseingang-KI`",
        "• Microsoft 365 Copilot – fällig am 15.02.2027 · `/register zeige Microsoft 365 Copilot`",
    ]
    assert "Bildgenerator" not in text and "Alt-Chatbot" not in text


def test_without_a_due_review_the_quarterly_nudge_is_as_before(reminders, clock):
    start_plan(reminders)
    register(reminders, "Bildgenerator", date(2027, 4, 1))
    text = quarterly(reminders, clock)
    assert "KI-Register" not in text and "/register" not in text
    assert text.endswith("ROI-Bericht des Quartals: `/pilot bericht quartal`.")


def test_a_long_list_is_cut_after_ten(reminders, clock):
    plan_id = start_plan(reminders)
    for number in range(12):
        register(reminders, f"Anwendung {number:02d}", date(2027, 3, 1 + number))
    plan = reminders.plans.get(plan_id)
    text = reminders.nudge(plan, "2027-Q1", now=QUARTER_DAY).text
    assert "*KI-Register: fällige Reviews (12)*" in text
    assert "Anwendung 09" in text and "Anwendung 10" not in text
    assert text.endswith("• … und 2 weitere: `/register`")
