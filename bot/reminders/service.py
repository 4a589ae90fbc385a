"""The scheduler: APScheduler (3.x, asyncio) wakes Lotse every minute to plan and send nudges. Its job
store lives in Lotse's database (SQLAlchemy), so the job survives restarts; `coalesce=True` turns any
number of wake-ups missed during downtime into one, and `misfire_grace_time=None` runs that one
however late it is. What gets sent after downtime is the planner's decision (the latest missed
nudge once, late; older ones summarised in it), and "once" is the nudge log's unique key — not the
scheduler's.

Only one process runs the scheduler at a time (APScheduler 3 must not share a job store between
running schedulers): on PostgreSQL it holds an advisory lock on its own connection, which the
database drops when the process dies; on SQLite a lease row it renews. Others wait and take over.
The lead only saves work; correctness never depends on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text, update
from sqlalchemy.dialects import sqlite

from bot import metrics
from bot.reminders.dispatch import Dispatcher
from bot.storage.db import Database
from bot.storage.models import LeaseRow

log = logging.getLogger(__name__)
JOB_ID = "lotse-nudges"
PURGE_JOB_ID = "lotse-purge"  # daily at 03:30 Berlin time: the retention period (Lotse.purge)
LEASE_SECONDS = 30.0
RENEW_SECONDS = 10.0
_RUNNING: dict[str, SchedulerService] = {}  # role → the service leading it in this process (for the job)


async def tick(role: str) -> None:
    """The persisted job: run one dispatch pass for the service that leads `role` in this process."""
    service = _RUNNING.get(role)
    if service is not None:
        await service.run_once()


async def purge(role: str) -> None:
    """The persisted daily job: delete what is older than the retention period."""
    service = _RUNNING.get(role)
    if service is not None and service.housekeeping is not None:
        try:
            counts = await asyncio.to_thread(service.housekeeping)
            log.info("retention purge: %s", counts)
        except Exception:
            log.exception("the retention purge failed; it runs again tomorrow")


class Lease:
    """Leadership for one role. PostgreSQL: a session advisory lock on a dedicated connection (it
    vanishes with the connection, so a dead process frees it). SQLite: a row with an expiry."""

    def __init__(self, db: Database, name: str, holder: str, seconds: float = LEASE_SECONDS) -> None:
        self.db, self.name, self.holder, self.seconds = db, name, holder, seconds
        self.postgres = db.engine.dialect.name == "postgresql"
        self._connection = None

    def acquire(self) -> bool:
        """Take or renew the lead; False if another process holds it."""
        if self.postgres:
            return self._advisory()
        now = datetime.now(UTC).replace(tzinfo=None)
        expires = now + timedelta(seconds=self.seconds)
        with self.db.session() as s:
            s.execute(
                sqlite.insert(LeaseRow)
                .values(name=self.name, holder=self.holder, expires_at=expires)
                .on_conflict_do_nothing()
            )
            taken = s.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name)
                .where((LeaseRow.holder == self.holder) | (LeaseRow.expires_at < now))
                .values(holder=self.holder, expires_at=expires)
            ).rowcount
        return bool(taken)

    def _advisory(self) -> bool:
        try:
            if self._connection is not None:
                self._connection.execute(text("SELECT 1"))  # still alive: the lock is still ours
                self._connection.commit()  # not left "idle in transaction" while it leads
                return True
            connection = self.db.engine.connect()
            key = zlib.crc32(self.name.encode())
            got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            connection.commit()
            if got:
                self._connection = connection
                return True
            connection.close()
            return False
        except Exception as exc:
            log.warning("scheduler lock: %s", exc)
            self.release()
            return False

    def release(self) -> None:
        if self.postgres:
            if self._connection is not None:
                with contextlib.suppress(Exception):  # unlocked now: the server ends a closed session a little later
                    key = zlib.crc32(self.name.encode())
                    self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    self._connection.commit()
                with contextlib.suppress(Exception):
                    # end the session too (nothing of it left in the pool): close() alone would hand the
                    # connection back to the pool with whatever it holds
                    self._connection.invalidate()
                    self._connection.close()
                self._connection = None
            return
        with contextlib.suppress(Exception), self.db.session() as s:
            s.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                .values(expires_at=datetime(1970, 1, 1))
            )


class SchedulerService:
    """Runs in an asyncio loop: waits for the lead, then runs APScheduler with the persistent job."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        db: Database,
        *,
        role: str = "serve",
        renew_seconds: float = RENEW_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        housekeeping: Callable[[], dict] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.housekeeping = housekeeping  # run daily by the leader (the retention purge)
        self.db = db
        self.role = role
        self.renew_seconds = renew_seconds
        self.lease = Lease(db, f"scheduler:{role}", dispatcher.worker, lease_seconds)
        self.scheduler: AsyncIOScheduler | None = None
        self.leading = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.runs = 0
        metrics.SCHEDULER_LEADER.labels(role)  # a follower shows 0, not nothing

    async def start(self) -> None:
        self._task = asyncio.create_task(self._lead(), name=f"lotse-scheduler-{self.role}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._step_down()

    async def run_once(self) -> None:
        async with self._lock:  # the minute job and a start-up pass never overlap
            try:
                stats = await self.dispatcher.run_once()
                self.runs += 1
                metrics.SCHEDULER_PASSES.labels(self.role, "ok").inc()
                if stats.planned or stats.sent or stats.failed or stats.unknown:
                    log.info("nudges: %s", stats)
            except Exception:
                metrics.SCHEDULER_PASSES.labels(self.role, "failed").inc()
                log.exception("the nudge pass failed; the next one runs in a minute")

    async def _lead(self) -> None:
        while True:
            try:
                held = await asyncio.to_thread(self.lease.acquire)
                if held and self.scheduler is None:
                    self._take_over()
                    await self.run_once()  # catch up at once, not only at the next full minute
                elif not held and self.scheduler is not None:
                    log.warning("scheduler: lost the lead (%s); stepping down", self.role)
                    self._step_down()
            except Exception:  # e.g. the database gone while taking over: never keep the lock without leading
                log.exception("scheduler: taking the lead of %s failed; trying again", self.role)
                self._step_down()
            await asyncio.sleep(self.renew_seconds)

    def _take_over(self) -> None:
        log.info("scheduler: this process (%s) leads %s", self.dispatcher.worker, self.role)
        store = SQLAlchemyJobStore(engine=self.db.engine, tablename=f"scheduler_jobs_{self.role}")
        scheduler = AsyncIOScheduler(
            jobstores={"default": store},
            timezone=UTC,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self.scheduler = scheduler  # from here on _step_down shuts it down, also if the rest fails
        scheduler.start()
        if scheduler.get_job(JOB_ID) is None:  # a fixed id: restarts find it instead of adding another copy
            scheduler.add_job(
                tick,
                CronTrigger(second=0, timezone=UTC),
                args=[self.role],
                id=JOB_ID,
                name="plan and send due nudges",
                replace_existing=True,
            )
        if self.housekeeping is not None and scheduler.get_job(PURGE_JOB_ID) is None:
            scheduler.add_job(
                purge,
                CronTrigger(hour=3, minute=30, timezone="Europe/Berlin"),
                args=[self.role],
                id=PURGE_JOB_ID,
                name="retention purge",
                replace_existing=True,
            )
        _RUNNING[self.role] = self
        self.leading.set()
        metrics.SCHEDULER_LEADER.labels(self.role).set(1)

    def _step_down(self) -> None:
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if _RUNNING.get(self.role) is self:
            del _RUNNING[self.role]
            metrics.SCHEDULER_LEADER.labels(self.role).set(0)
        self.leading.clear()
        self.lease.release()
