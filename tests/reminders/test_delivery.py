"""Exactly once, on time: 12 weeks of nudges under a controlled clock, restarts, two senders racing on
SQLite and PostgreSQL, crashes around the send, downtime, pause, snooze and done."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from bot.core.messages import Incoming
from bot.core.ports import Outcome
from bot.reminders.commands import PlanCommands
from bot.reminders.dispatch import Dispatcher
from bot.reminders.planner import Reminders
from bot.reminders.store import STALE_CLAIM
from bot.storage.db import Database
from tests.conftest import both_databases
from tests.reminders.conftest import Clock, Collect

ADMIN = Incoming("", "lead", channel="console", admin=True)


def start_plan(reminders: Reminders, words: str = "2026-11-30 mo 09:00 BY", message: Incoming = ADMIN) -> int:
    command = Incoming(
        f"/plan start {words}", message.user, message.channel, message.workspace, message.conversation, admin=True
    )
    reply = PlanCommands(reminders).handle(command, "de")
    assert reply.answered, reply.text
    return reminders.plans.current(message.scope).id


def tick(dispatchers, clock: Clock, until: datetime, step: timedelta = timedelta(hours=1)) -> None:
    while clock.now <= until:
        for d in dispatchers:
            asyncio.run(d.run_once(clock.now))
        clock.now += step


def occurrences(sender: Collect) -> list[str]:
    return [reply.text for _, reply in sender.sent]


def sent_keys(reminders: Reminders) -> list[str]:
    return [r.occurrence for r in reminders.log.rows() if r.status == "sent"]


# This test, the next and pause/resume run on SQLite only: each takes ten seconds to a minute (thousands of
# dispatch passes). On PostgreSQL, claims, restarts and races are the tests marked @both_databases below,
# and a paused plan is in test_commands.
def test_twelve_weeks_land_on_their_days_once(reminders, clock):
    start_plan(reminders)
    sender = Collect()
    tick([Dispatcher(reminders, [sender])], clock, datetime(2027, 4, 2, tzinfo=UTC))
    rows = {r.occurrence: r for r in reminders.log.rows()}
    assert sorted(k for k in rows if k.startswith("W")) == [f"W{n:02d}" for n in range(1, 13)]
    assert {"F09", "F10", "2027-Q1", "2027-Q2"} <= set(rows)
    assert all(r.status == "sent" for r in rows.values())
    assert len(sender.sent) == len(rows)  # nothing twice
    # on time: the first tick at or after 09:00 Berlin, i.e. 08:00 UTC in winter (07:00 from April)
    assert rows["W01"].sent_at.replace(tzinfo=UTC) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert rows["W06"].sent_at.replace(tzinfo=UTC) == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    assert rows["2027-Q1"].sent_at.replace(tzinfo=UTC) == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # after Neujahr
    assert rows["2027-Q2"].sent_at.replace(tzinfo=UTC) == datetime(2027, 4, 1, 7, 0, tzinfo=UTC)  # CEST
    week3 = next(reply for _, reply in sender.sent if reply.text.startswith("*Woche 3 von 12"))
    assert [t.id for t in week3.tasks if not t.note] == ["3.1", "3.2", "3.3", "3.4"]
    assert {t.id for t in week3.tasks if t.note} == {"2.1", "2.2", "2.3", "2.4"}  # carried once, from week 2 only
    assert week3.footer == "Woche 3 von 12 · 0/11 Aufgaben erledigt"
    assert all(a.value.endswith(":W03") for t in week3.tasks for a in t.actions)


def test_a_restart_in_the_middle_delivers_each_nudge_once(sqlite_url, spec, clock):
    first = Reminders(Database(sqlite_url), spec, clock)
    start_plan(first)
    sender = Collect()
    tick([Dispatcher(first, [sender])], clock, datetime(2027, 1, 4, 8, 0, tzinfo=UTC))
    first.db.dispose()
    for _ in range(5):  # five restarts in a row at the same moment
        again = Reminders(Database(sqlite_url), spec, clock)
        asyncio.run(Dispatcher(again, [sender]).run_once(clock.now))
        again.db.dispose()
    again = Reminders(Database(sqlite_url), spec, clock)
    tick([Dispatcher(again, [sender])], clock, datetime(2027, 2, 20, tzinfo=UTC))
    keys = sent_keys(again)
    assert len(keys) == len(set(keys)) == len(sender.sent)
    assert sorted(k for k in keys if k.startswith("W")) == [f"W{n:02d}" for n in range(1, 13)]


def test_two_schedulers_racing_send_each_nudge_once(db_url, spec, clock):
    """Two processes (own engines, own threads) on one database, at every tick, with 50 targets."""
    a = Reminders(Database(db_url), spec, clock)
    b = Reminders(Database(db_url), spec, clock)
    plan_id = start_plan(a, "2026-11-30 BY")
    with a.db.session() as s:
        from bot.storage.models import PlanTargetRow

        for n in range(49):
            s.add(PlanTargetRow(plan_id=plan_id, channel="console", address=f"p{n}", role="team"))
    senders = [Collect(), Collect()]
    dispatchers = [Dispatcher(a, [senders[0]], worker="A", batch=7), Dispatcher(b, [senders[1]], worker="B", batch=7)]
    end = datetime(2026, 12, 15, tzinfo=UTC)
    while clock.now <= end:
        barrier = threading.Barrier(2)

        def run(d, moment=clock.now, barrier=barrier):
            barrier.wait()
            asyncio.run(d.run_once(moment))

        threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        clock.now += timedelta(hours=6)
    delivered = [(address, reply.text.splitlines()[0]) for s in senders for address, reply in s.sent]
    assert len(delivered) == len(set(delivered)) == 50 * 3  # W01, W02, W03 to 50 targets, none twice


@both_databases
def test_killed_after_recording_before_sending_another_process_sends_it(reminders, spec, clock):
    start_plan(reminders)
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert reminders.plan_due(clock.now, ["console"]) == 1  # recorded, then the process died
    other = Reminders(Database(reminders.db.url), spec, clock)
    sender = Collect()
    asyncio.run(Dispatcher(other, [sender]).run_once(clock.now + timedelta(minutes=1)))
    assert len(sender.sent) == 1


@both_databases
def test_a_crash_after_claiming_never_sends_twice(reminders, spec, clock):
    """Claimed (and maybe posted) but the outcome was never recorded: marked unknown, not re-sent."""
    start_plan(reminders)
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    reminders.plan_due(clock.now, ["console"])
    claimed = reminders.log.claim("dead-worker", ["console"], clock.now)
    assert len(claimed) == 1
    sender = Collect()
    other = Dispatcher(Reminders(Database(reminders.db.url), spec, clock), [sender])
    asyncio.run(other.run_once(clock.now + timedelta(minutes=1)))
    assert sender.sent == []  # still claimed by the dead worker
    asyncio.run(other.run_once(clock.now + STALE_CLAIM + timedelta(minutes=2)))
    assert sender.sent == []
    row = reminders.log.rows()[0]
    assert row.status == "unknown" and "stopped after claiming" in row.error


@both_databases
def test_downtime_sends_the_missed_week_once_late_and_summarises_older_ones(reminders, clock):
    start_plan(reminders)
    sender = Collect()
    dispatcher = Dispatcher(reminders, [sender])
    tick([dispatcher], clock, datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # weeks 1 and 2 arrive
    # Lotse is down from 7 Dec until 30 Dec 10:00 (week 5 fell due on 28 Dec at 08:00 UTC)
    clock.now = datetime(2026, 12, 30, 10, 0, tzinfo=UTC)
    tick([dispatcher], clock, datetime(2026, 12, 31, tzinfo=UTC))
    headings = [reply.text.splitlines()[0] for _, reply in sender.sent]
    assert headings == [
        "*Woche 1 von 12 · Tage 1–30 · Fundamentanalyse*",
        "*Woche 2 von 12 · Tage 1–30 · Fundamentanalyse*",
        "*Woche 5 von 12 · Tage 31–60 · Pilotprojekt*",
    ]
    week5 = sender.sent[-1][1]
    assert "Wochen 2–4" in week5.text
    assert {t.id.split(".")[0] for t in week5.tasks} == {"2", "3", "4", "5"}


@both_databases
def test_downtime_longer_than_the_window_waits_for_the_next_week(reminders, clock):
    start_plan(reminders)
    sender = Collect()
    clock.now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # week 1 (30 Nov) is more than six days old
    tick([Dispatcher(reminders, [sender])], clock, datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    assert [r.text.splitlines()[0][:10] for _, r in sender.sent] == ["*Woche 2 v"]
    assert "Wochen 1–1" not in sender.sent[0][1].text and {t.id[0] for t in sender.sent[0][1].tasks} == {"1", "2"}


def test_pause_and_resume_do_not_replay_the_weeks_in_between(reminders, clock):
    start_plan(reminders)
    commands = PlanCommands(reminders)
    sender = Collect()
    dispatcher = Dispatcher(reminders, [sender])
    tick([dispatcher], clock, datetime(2026, 12, 10, tzinfo=UTC))
    commands.handle(Incoming("/plan pause", "lead", admin=True), "de")
    tick([dispatcher], clock, datetime(2026, 12, 22, tzinfo=UTC))
    commands.handle(Incoming("/plan fortsetzen", "lead", admin=True), "de")
    tick([dispatcher], clock, datetime(2026, 12, 29, tzinfo=UTC))
    assert sent_keys(reminders) == ["W01", "W02", "W05"]


@both_databases
def test_done_and_snooze_update_progress_and_snoozed_tasks_come_back_once(reminders, clock):
    plan_id = start_plan(reminders)
    sender = Collect()
    dispatcher = Dispatcher(reminders, [sender])
    tick([dispatcher], clock, datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    week1 = sender.sent[0][1]
    done = next(a.value for a in week1.tasks[0].actions if ":done:" in a.value)
    commands = PlanCommands(reminders)
    redrawn = commands.button(Incoming("", "anna", value=done), "de")
    assert redrawn.tasks[0].status == "done" and redrawn.tasks[0].actions == []
    assert redrawn.footer == "Woche 1 von 12 · 1/3 Aufgaben erledigt"
    # Friday: snooze 1.2 "tomorrow" → Monday 7 Dec, together with week 2's nudge, as its own message
    clock.now = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    later = next(a.value for a in week1.tasks[1].actions if ":tomorrow:" in a.value)
    snoozed = commands.button(Incoming("", "anna", value=later), "de")
    assert snoozed.tasks[1].status == "snoozed" and "2026-12-07" in snoozed.tasks[1].note
    assert reminders.plans.tasks(plan_id)["1.2"].snoozed_until.isoformat() == "2026-12-07"
    na = PlanCommands(reminders).handle(Incoming("/plan entfällt 1.3", "anna"), "de")
    assert na.footer == "Woche 1 von 12 · 1/2 Aufgaben erledigt"
    tick([dispatcher], clock, datetime(2026, 12, 8, 12, 0, tzinfo=UTC))
    texts = [r.text for _, r in sender.sent[1:]]
    assert len(texts) == 2 and any(t.startswith("Wieder da") for t in texts)
    back = next(r for _, r in sender.sent[1:] if r.text.startswith("Wieder da"))
    assert [t.id for t in back.tasks] == ["1.2"]
    week2 = next(r for _, r in sender.sent[1:] if r.text.startswith("*Woche 2"))
    assert [t.id for t in week2.tasks if t.note] == ["1.2"]  # the snoozed task, now open, carried once


@both_databases
def test_a_rate_limited_send_is_retried_later_and_a_refused_one_not_at_all(reminders, clock):
    start_plan(reminders)
    sender = Collect(outcomes=[Outcome("retry", error="rate limited", retry_after=30)])
    dispatcher = Dispatcher(reminders, [sender])
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    asyncio.run(dispatcher.run_once(clock.now))
    assert sender.sent == [] and reminders.log.rows()[0].status == "pending"
    asyncio.run(dispatcher.run_once(clock.now + timedelta(seconds=10)))
    assert sender.sent == []  # not before Retry-After
    asyncio.run(dispatcher.run_once(clock.now + timedelta(seconds=31)))
    assert len(sender.sent) == 1 and reminders.log.rows()[0].status == "sent"
    refused = Collect(outcomes=[Outcome("failed", error="channel_not_found")])
    clock.now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    tick([Dispatcher(reminders, [refused])], clock, datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    row = next(r for r in reminders.log.rows() if r.occurrence == "W02")
    assert refused.sent == [] and row.status == "failed" and row.error == "channel_not_found"
    status = PlanCommands(reminders).handle(Incoming("/plan", "anna"), "de")
    assert "channel_not_found" in status.text


@both_databases
def test_each_target_gets_its_nudge_at_nine_in_its_own_time_zone(reminders, clock):
    plan_id = start_plan(reminders)
    with reminders.db.session() as s:
        from bot.storage.models import PlanTargetRow

        s.add(PlanTargetRow(plan_id=plan_id, channel="console", address="ny", role="team", tz="America/New_York"))
    sender = Collect()
    tick([Dispatcher(reminders, [sender])], clock, datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    rows = {r.target_id: r for r in reminders.log.rows() if r.occurrence == "W01"}
    times = sorted(r.sent_at.replace(tzinfo=UTC) for r in rows.values())
    assert times == [datetime(2026, 11, 30, 8, 0, tzinfo=UTC), datetime(2026, 11, 30, 14, 0, tzinfo=UTC)]


@both_databases
def test_a_plan_started_in_the_past_sends_the_current_week_now(reminders, clock):
    clock.now = datetime(2026, 12, 16, 10, 0, tzinfo=UTC)
    start_plan(reminders, "2026-11-30 BY")
    sender = Collect()
    asyncio.run(Dispatcher(reminders, [sender]).run_once(clock.now))
    assert [r.text.splitlines()[0][:12] for _, r in sender.sent] == ["*Woche 3 von"]
    assert "Wochen 1–2" in sender.sent[0][1].text
