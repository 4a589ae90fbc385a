"""The daily retention purge: the leading scheduler keeps one persistent job "lotse-purge" (03:30
Europe/Berlin) next to the nudge job, restarts find it instead of adding another, the job calls the
service's `housekeeping` (in `lotse serve`: `Lotse.purge`), and `Lotse.purge` deletes what is older
than the retention period, exports older than a day and report charts older than 90 days."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.answering import AnswerService
from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.pilots.store import Entry
from bot.privacy.requests import months_before
from bot.reminders import service as service_module
from bot.reminders.dispatch import Dispatcher
from bot.reminders.planner import Reminders
from bot.reminders.service import JOB_ID, PURGE_JOB_ID, SchedulerService, purge
from bot.settings import Settings, SlackSettings
from bot.storage.db import Database
from bot.storage.models import MessageRow, PilotFeedbackRow
from tests.conftest import KNOWLEDGE, both_databases
from tests.reminders.conftest import Collect

BERLIN = ZoneInfo("Europe/Berlin")
ROLE = "purgetest"


class Housekeeping:
    """Stands in for `Lotse.purge`: records its calls (from the job's worker thread)."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self) -> dict:
        self.calls += 1
        if self.fail:
            raise RuntimeError("database is locked")
        return {"messages": 0}


def service_for(url, spec, clock, worker: str, housekeeping=None) -> SchedulerService:
    reminders = Reminders(Database(url), spec, clock)
    return SchedulerService(
        Dispatcher(reminders, [Collect()], worker=worker),
        reminders.db,
        role=ROLE,
        renew_seconds=0.05,
        housekeeping=housekeeping,
    )


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def leading(url, spec, clock, worker: str, housekeeping=None) -> SchedulerService:
    service = service_for(url, spec, clock, worker, housekeeping)
    await service.start()
    await wait_for(service.leading.is_set)
    return service


def assert_next_run_is_0330_berlin(job) -> None:
    due = job.next_run_time.astimezone(BERLIN)
    assert (due.hour, due.minute, due.second) == (3, 30, 0)
    now = datetime.now(UTC)
    assert now < job.next_run_time <= now + timedelta(days=1)  # the next 03:30, not a later one


# -- the job -------------------------------------------------------------------------------------------


async def test_the_leader_keeps_one_persistent_purge_job_at_0330_berlin(db_url, spec, clock):
    calls = Housekeeping()
    for attempt in range(3):  # three starts of the process: the job is found again, not added again
        service = await leading(db_url, spec, clock, f"w{attempt}", calls)
        job = service.scheduler.get_job(PURGE_JOB_ID)
        assert job is not None and job.func is purge and tuple(job.args) == (ROLE,)
        assert str(job.trigger.timezone) == "Europe/Berlin"
        assert job.coalesce is True and job.misfire_grace_time is None
        assert_next_run_is_0330_berlin(job)
        assert {j.id for j in service.scheduler.get_jobs()} == {JOB_ID, PURGE_JOB_ID}
        await service.stop()
    with Database(db_url).engine.connect() as c:
        ids = c.execute(text(f"SELECT id FROM scheduler_jobs_{ROLE} ORDER BY id")).scalars().all()
    assert sorted(ids) == sorted([JOB_ID, PURGE_JOB_ID])
    assert calls.calls == 0  # taking the lead runs the nudges at once, not the purge


async def test_the_job_function_calls_housekeeping_of_the_leading_service_once(sqlite_url, spec, clock):
    calls = Housekeeping()
    await purge(ROLE)  # nobody leads the role in this process: nothing to do
    service = await leading(sqlite_url, spec, clock, "w", calls)
    await purge(ROLE)
    assert calls.calls == 1
    await service.stop()
    await purge(ROLE)  # stepped down: not its job any more
    assert calls.calls == 1


async def test_a_failing_purge_is_logged_and_the_scheduler_keeps_running(sqlite_url, spec, clock, caplog):
    caplog.set_level(logging.ERROR, logger=service_module.__name__)
    failing = Housekeeping(fail=True)
    service = await leading(sqlite_url, spec, clock, "w", failing)
    await purge(ROLE)  # does not raise
    assert failing.calls == 1 and "the retention purge failed" in caplog.text
    assert service.scheduler.running and service.scheduler.get_job(PURGE_JOB_ID) is not None
    await service.stop()


async def test_the_purge_job_fires_through_apscheduler_and_is_due_again_the_next_night(sqlite_url, spec, clock):
    calls = Housekeeping()
    service = await leading(sqlite_url, spec, clock, "w", calls)
    service.scheduler.modify_job(PURGE_JOB_ID, next_run_time=datetime.now(UTC))  # instead of waiting for 03:30
    await wait_for(lambda: calls.calls == 1)
    await asyncio.sleep(0.3)
    assert calls.calls == 1
    await wait_for(lambda: service.scheduler.get_job(PURGE_JOB_ID).next_run_time > datetime.now(UTC))
    assert_next_run_is_0330_berlin(service.scheduler.get_job(PURGE_JOB_ID))
    await service.stop()


async def test_without_housekeeping_there_is_no_purge_job(sqlite_url, spec, clock):
    service = await leading(sqlite_url, spec, clock, "w")
    assert service.scheduler.get_job(PURGE_JOB_ID) is None and service.scheduler.get_job(JOB_ID) is not None
    await service.stop()


async def test_lotse_serve_hands_the_cores_purge_to_the_scheduler(tmp_path):
    from bot.app.server import EXECUTOR, build_app, build_scheduler

    slack = SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url="http://127.0.0.1:9/")
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=KNOWLEDGE, slack=slack)
    core = build_core(settings, AnswerService(settings))
    app = build_app(core, settings)
    try:
        scheduler = build_scheduler(core, app)
        assert scheduler is not None and scheduler.housekeeping == core.services.purge
    finally:
        app[EXECUTOR].shutdown(wait=True)


# -- Lotse.purge ---------------------------------------------------------------------------------------


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(datetime(2026, 3, 31, 12, tzinfo=UTC), 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 2) == datetime(2025, 11, 15, tzinfo=UTC)
    assert months_before(datetime(2026, 11, 25, tzinfo=UTC), 24) == datetime(2024, 11, 25, tzinfo=UTC)


@pytest.fixture
def core(tmp_path, database_url) -> Lotse:
    settings = Settings(
        data_dir=tmp_path / "data", knowledge_dir=KNOWLEDGE, database_url=database_url, retention_months=1
    )
    return build_core(settings, AnswerService(settings))


@both_databases
def test_lotse_purge_deletes_old_rows_exports_older_than_a_day_and_report_charts_older_than_90_days(core):
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)  # one month before: 2026-02-28 12:00
    conversation = "slack:T1:U1:D1"
    with core.services.pilot_store.db.session() as s:
        for label, at in (
            ("two months old", datetime(2026, 1, 31, 12, tzinfo=UTC)),
            ("a month and three days old", datetime(2026, 2, 28, 11, tzinfo=UTC)),
            ("thirty days old", datetime(2026, 3, 1, 12, tzinfo=UTC)),
            ("fresh", now - timedelta(hours=1)),
        ):
            s.add(MessageRow(conversation=conversation, role="user", text=label, created_at=at))
    pilot = core.services.pilot_store.create(
        "slack:T1", "Dokumentensuche", "slack:T1:U1", start=date(2026, 1, 1), end=date(2026, 6, 30)
    )
    with core.services.pilot_store.db.session() as s:
        core.services.pilot_store.add_entry(
            s, pilot.id, "slack:T1:U2", "U2", Entry(2), created_at=datetime(2026, 1, 20, tzinfo=UTC)
        )
        core.services.pilot_store.add_entry(
            s, pilot.id, "slack:T1:U3", "U3", Entry(5), created_at=datetime(2026, 3, 20, tzinfo=UTC)
        )

    exports, charts = core.settings.exports_dir, core.settings.charts_dir
    exports.mkdir(parents=True)
    charts.mkdir(parents=True)
    old, fresh = (now - timedelta(days=2)).timestamp(), (now - timedelta(hours=1)).timestamp()
    ancient = (now - timedelta(days=91)).timestamp()  # report charts stay 90 days (posted reports link them)
    files = {
        exports / "meine-daten-20260329-120000-0123456789abcdef.json": old,
        exports / "pilot-feedback-20260329-120000-0123456789abcdef.xlsx": old,
        exports / "meine-daten-20260331-110000-fedcba9876543210.json": fresh,
        charts / "pilot-3-0123456789abcdef-de-kpis.png": ancient,
        charts / "quarter-20261-0123456789abcdef-de-roi.png": ancient,
        charts / "pilot-4-0123456789abcdef-de-kpis.png": old,
        charts / "pilot-3-fedcba9876543210-de-kpis.png": fresh,
        charts / "readiness-1-de.png": ancient,  # an assessment's chart: not the purge's
    }
    for path, mtime in files.items():
        path.write_bytes(b"x")
        os.utime(path, (mtime, mtime))

    counts = core.purge(now)

    with core.services.pilot_store.db.session() as s:
        kept = s.scalars(select(MessageRow.text).order_by(MessageRow.id)).all()
        ratings = s.scalars(select(PilotFeedbackRow.satisfaction)).all()
    assert kept == ["thirty days old", "fresh"]
    assert ratings == [5]
    assert counts["messages"] == 2 and counts["pilot_feedback"] == 1 and counts["files"] == 4
    assert sorted(p.name for p in exports.iterdir()) == ["meine-daten-20260331-110000-fedcba9876543210.json"]
    kept_charts = ["pilot-3-fedcba9876543210-de-kpis.png", "pilot-4-0123456789abcdef-de-kpis.png", "readiness-1-de.png"]
    assert sorted(p.name for p in charts.iterdir()) == kept_charts
    assert core.services.pilot_store.get(pilot.id) is not None  # the pilot itself is team data and stays


@both_databases
def test_lotse_purge_without_files_or_folders_and_with_the_default_now(tmp_path, database_url):
    settings = Settings(
        data_dir=tmp_path / "data", knowledge_dir=KNOWLEDGE, database_url=database_url, retention_months=1
    )
    core = build_core(settings, AnswerService(settings))
    core.conversations.append_turn("console:local:anna:default", "Hallo", "Hallo!", "de", [])
    counts = core.purge()  # no exports or charts folder yet
    assert counts["files"] == 0 and counts["messages"] == 0
    assert len(core.conversations.recent("console:local:anna:default")) == 2
