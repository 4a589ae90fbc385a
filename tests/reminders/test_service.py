"""The scheduler itself: APScheduler with its job in Lotse's database, one leading process at a time
(a lease row on SQLite, an advisory lock on PostgreSQL), and another taking over when it dies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text

from bot.reminders.dispatch import Dispatcher
from bot.reminders.planner import Reminders
from bot.reminders.service import JOB_ID, SchedulerService
from bot.storage.db import Database
from tests.reminders.conftest import Collect
from tests.reminders.test_delivery import start_plan


def service_for(url, spec, clock, worker: str, sender: Collect, lease_seconds: float = 30.0) -> SchedulerService:
    reminders = Reminders(Database(url), spec, clock)
    return SchedulerService(
        Dispatcher(reminders, [sender], worker=worker),
        reminders.db,
        role="test",
        renew_seconds=0.05,
        lease_seconds=lease_seconds,
    )


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_the_leader_sends_on_taking_over_and_keeps_one_persistent_job(db_url, spec, clock):
    start_plan(Reminders(Database(db_url), spec, clock))
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    sender = Collect()
    for attempt in range(3):  # three starts of the process: the job is found again, not added again
        service = service_for(db_url, spec, clock, f"w{attempt}", sender)
        await service.start()
        await wait_for(lambda s=service: s.runs >= 1)
        job = service.scheduler.get_job(JOB_ID)
        assert job is not None and job.coalesce is True and job.misfire_grace_time is None
        await service.stop()
    with Database(db_url).engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM scheduler_jobs_test")).scalar() == 1
    assert len(sender.sent) == 1  # week 1 once, in spite of three starts


async def test_the_minute_job_fires_through_apscheduler(sqlite_url, spec, clock):
    start_plan(Reminders(Database(sqlite_url), spec, clock))
    sender = Collect()
    service = service_for(sqlite_url, spec, clock, "w", sender)
    await service.start()
    await wait_for(lambda: service.runs >= 1)
    assert sender.sent == []  # before the first Monday
    clock.now = datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)
    service.scheduler.modify_job(JOB_ID, next_run_time=datetime.now(UTC))  # instead of waiting for the minute
    await wait_for(lambda: len(sender.sent) == 1)
    await service.stop()


async def test_only_one_process_leads_and_another_takes_over_when_it_dies(db_url, spec, clock):
    start_plan(Reminders(Database(db_url), spec, clock))
    a_sent, b_sent = Collect(), Collect()
    a = service_for(db_url, spec, clock, "A", a_sent, lease_seconds=0.5)
    b = service_for(db_url, spec, clock, "B", b_sent, lease_seconds=0.5)
    await a.start()
    await wait_for(a.leading.is_set)
    await b.start()
    await asyncio.sleep(0.4)
    assert not b.leading.is_set()  # A holds the lock (PostgreSQL) or a fresh lease (SQLite)
    # A dies without a goodbye: its task stops renewing; on PostgreSQL its connection goes with it
    a._task.cancel()
    if a.lease._connection is not None:
        a.lease._connection.invalidate()
        a.lease._connection.close()
    if a.scheduler is not None:
        a.scheduler.shutdown(wait=False)
    await wait_for(b.leading.is_set, timeout=5)
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    await b.run_once()
    assert len(b_sent.sent) == 1 and a_sent.sent == []
    await b.stop()
