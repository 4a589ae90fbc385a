"""Plans, their targets and task states, and the nudge log that makes every nudge go out once.

The nudge log follows the shape of database-backed job queues: a planner inserts due nudges with
INSERT … ON CONFLICT DO NOTHING under a unique key, a sender claims pending rows in one statement
(PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite has one writer at a time) and commits the claim before
it calls Slack or Teams. A claim whose sender vanished is never re-sent blindly: it becomes
"unknown" (the message may or may not have gone out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.ports import Outcome
from bot.storage.audit import AuditLog
from bot.storage.db import Database, raced
from bot.storage.models import NudgeRow, PlanRow, PlanTargetRow, PlanTaskRow

STALE_CLAIM = timedelta(minutes=5)  # a claim older than this belongs to a sender that died mid-send
MAX_ATTEMPTS = 5


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_utc(value: datetime) -> datetime:
    """What is written: UTC without tzinfo, so SQLite compares the strings correctly."""
    return value.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Due:
    """A nudge the planner found due for a target."""

    plan_id: int
    target_id: int
    channel: str
    occurrence: str
    kind: str
    due_at: datetime

    @property
    def key(self) -> str:
        return f"{self.plan_id}:{self.target_id}:{self.occurrence}"


@dataclass(frozen=True)
class Claimed(Due):
    """A due nudge this sender has claimed; `attempts` counts this one."""

    attempts: int = 1


class PlanStore:
    def __init__(self, db: Database, audit: AuditLog | None = None) -> None:
        self.db = db
        self.audit = audit or AuditLog(db)

    # -- plans -------------------------------------------------------------------------------------

    def create(
        self,
        scope: str,
        start: date,
        weekday: int,
        at: str,
        tz: str,
        state: str | None,
        language: str,
        created_by: str,
        targets: Iterable[tuple[str, str, str, str | None]],
        now: datetime,
        active_from: datetime | None = None,
    ) -> PlanRow:
        """A new active plan for `scope`; a running or paused plan of the scope is stopped first.
        `targets` are (channel, address, role, tz)."""
        with self.db.session() as s:
            s.execute(
                update(PlanRow).where(PlanRow.scope == scope, PlanRow.status != "stopped").values(status="stopped")
            )
            plan = PlanRow(
                scope=scope,
                status="active",
                start=start,
                weekday=weekday,
                at=at,
                tz=tz,
                state=state,
                language=language,
                created_by=created_by,
                active_from=naive_utc(active_from or now),
                created_at=naive_utc(now),
                updated_at=naive_utc(now),
            )
            s.add(plan)
            s.flush()
            unique = dict.fromkeys(targets)
            for channel, address, role, target_tz in unique:
                s.add(PlanTargetRow(plan_id=plan.id, channel=channel, address=address, role=role, tz=target_tz))
            self.audit.record(
                created_by,
                "plan.start",
                scope,
                session=s,
                plan=plan.id,
                start=start.isoformat(),
                weekday=weekday,
                at=at,
                tz=tz,
                targets=len(unique),
            )
            return plan

    def current(self, scope: str) -> PlanRow | None:
        """The scope's running or paused plan."""
        with self.db.session() as s:
            return s.scalars(
                select(PlanRow).where(PlanRow.scope == scope, PlanRow.status != "stopped").order_by(PlanRow.id.desc())
            ).first()

    def get(self, plan_id: int) -> PlanRow | None:
        with self.db.session() as s:
            return s.get(PlanRow, plan_id)

    def all(self) -> list[PlanRow]:
        with self.db.session() as s:
            return list(s.scalars(select(PlanRow).order_by(PlanRow.id)).all())

    def running(self) -> list[PlanRow]:
        with self.db.session() as s:
            return list(s.scalars(select(PlanRow).where(PlanRow.status == "active").order_by(PlanRow.id)).all())

    def change(self, plan_id: int, now: datetime, *, by: str, **values) -> PlanRow | None:
        """Update a plan (status, start, active_from …); the audit entry, written with the change, names
        who did it and what: stopped, paused, resumed or moved to a new start."""
        with self.db.session() as s:
            plan = s.get(PlanRow, plan_id)
            if plan is None:
                return None
            for name, value in values.items():
                setattr(plan, name, naive_utc(value) if isinstance(value, datetime) else value)
            plan.updated_at = naive_utc(now)
            status = values.get("status")
            detail = {"status": status} if status else {}
            if "start" in values:
                detail["start"] = values["start"].isoformat()
            action = "plan.stop" if status == "stopped" else "plan.change"
            self.audit.record(by, action, plan.scope, session=s, plan=plan_id, **detail)
            return plan

    def snoozed_not_before(self, plan_id: int, first: date) -> int:
        """Snoozed tasks due back before `first` (the plan was moved later) come back on `first` instead."""
        with self.db.session() as s:
            moved = s.execute(
                update(PlanTaskRow)
                .where(
                    PlanTaskRow.plan_id == plan_id,
                    PlanTaskRow.status == "snoozed",
                    PlanTaskRow.snoozed_until < first,
                )
                .values(snoozed_until=first)
            )
            return moved.rowcount or 0

    def targets(self, plan_id: int, channels: Iterable[str] | None = None) -> list[PlanTargetRow]:
        query = select(PlanTargetRow).where(PlanTargetRow.plan_id == plan_id, PlanTargetRow.active.is_(True))
        if channels is not None:
            query = query.where(PlanTargetRow.channel.in_(list(channels)))
        with self.db.session() as s:
            return list(s.scalars(query.order_by(PlanTargetRow.id)).all())

    def subscribe(self, plan_id: int, channel: str, address: str, role: str, active: bool = True) -> bool:
        """Add (or switch on or off) one target of a plan, such as a knowledge owner's direct chat for the
        weekly digest; returns whether it is on now."""
        with self.db.session() as s:
            row = s.scalars(
                select(PlanTargetRow).where(
                    PlanTargetRow.plan_id == plan_id,
                    PlanTargetRow.channel == channel,
                    PlanTargetRow.address == address,
                    PlanTargetRow.role == role,
                )
            ).first()
            if row is None and active:
                s.add(PlanTargetRow(plan_id=plan_id, channel=channel, address=address, role=role))
            elif row is not None:
                row.active = active
            return active

    def targets_by_id(self, ids: Iterable[int]) -> dict[int, PlanTargetRow]:
        with self.db.session() as s:
            rows = s.scalars(
                select(PlanTargetRow).where(PlanTargetRow.id.in_(list(ids)), PlanTargetRow.active.is_(True))
            )
            return {row.id: row for row in rows}

    def target(self, target_id: int) -> PlanTargetRow | None:
        with self.db.session() as s:
            return s.get(PlanTargetRow, target_id)

    def deactivate_target(self, target_id: int) -> None:
        with self.db.session() as s:
            s.execute(update(PlanTargetRow).where(PlanTargetRow.id == target_id).values(active=False))

    # -- tasks ---------------------------------------------------------------------------------------

    def tasks(self, plan_id: int) -> dict[str, PlanTaskRow]:
        with self.db.session() as s:
            return {row.task: row for row in s.scalars(select(PlanTaskRow).where(PlanTaskRow.plan_id == plan_id))}

    def set_task(
        self, plan_id: int, task: str, status: str, by: str, now: datetime, snoozed_until: date | None = None
    ) -> None:
        def write() -> None:  # two team members may tick the same task at once
            with self.db.session() as s:
                row = s.get(PlanTaskRow, (plan_id, task))
                if row is None:
                    s.add(
                        PlanTaskRow(
                            plan_id=plan_id,
                            task=task,
                            status=status,
                            snoozed_until=snoozed_until,
                            updated_by=by,
                            updated_at=naive_utc(now),
                        )
                    )
                else:  # the snooze day stays when a snoozed task is ticked off: its reminder still shows it
                    row.status, row.updated_by = status, by
                    row.snoozed_until = snoozed_until if status == "snoozed" else row.snoozed_until
                    row.updated_at = naive_utc(now)

        raced(write)

    def snooze_days(self, plan_id: int) -> list[date]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(PlanTaskRow.snoozed_until)
                    .where(PlanTaskRow.plan_id == plan_id, PlanTaskRow.status == "snoozed")
                    .distinct()
                ).all()
            )


class NudgeLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = db.engine.dialect.name == "postgresql"

    def record(self, due: Iterable[Due]) -> int:
        """Insert due nudges that are not recorded yet; returns how many were new."""
        rows = [
            {
                "key": d.key,
                "plan_id": d.plan_id,
                "target_id": d.target_id,
                "channel": d.channel,
                "occurrence": d.occurrence,
                "kind": d.kind,
                "due_at": naive_utc(d.due_at),
                "status": "pending",
                "attempts": 0,
            }
            for d in due
        ]
        if not rows:
            return 0
        insert = postgresql.insert if self.postgres else sqlite.insert
        new = 0
        with self.db.session() as s:
            for start in range(0, len(rows), 500):
                statement = insert(NudgeRow).values(rows[start : start + 500]).on_conflict_do_nothing()
                # psycopg reports -1 for an INSERT unless SQLAlchemy keeps the row count
                new += max(s.execute(statement, execution_options={"preserve_rowcount": True}).rowcount, 0)
        return new

    def recorded(self, plan_id: int, occurrences: Iterable[str]) -> set[tuple[int, str]]:
        """(target, occurrence) pairs already in the log for these occurrences of a plan."""
        occurrences = list(occurrences)
        if not occurrences:
            return set()
        with self.db.session() as s:
            rows = s.execute(
                select(NudgeRow.target_id, NudgeRow.occurrence).where(
                    NudgeRow.plan_id == plan_id, NudgeRow.occurrence.in_(occurrences)
                )
            )
            return {(t, o) for t, o in rows}

    def claim(self, worker: str, channels: Iterable[str], now: datetime, limit: int = 500) -> list[Claimed]:
        """Take up to `limit` pending nudges that are due, committed as "sending" before any is sent."""
        moment = naive_utc(now)
        pick = (
            select(NudgeRow.key)
            .where(
                NudgeRow.status == "pending",
                NudgeRow.channel.in_(list(channels)),
                NudgeRow.due_at <= moment,
                or_(NudgeRow.not_before.is_(None), NudgeRow.not_before <= moment),
            )
            .order_by(NudgeRow.due_at)
            .limit(limit)
        )
        if self.postgres:
            pick = pick.with_for_update(skip_locked=True)
        statement = (
            update(NudgeRow)
            .where(NudgeRow.key.in_(pick.scalar_subquery()), NudgeRow.status == "pending")
            .values(status="sending", claimed_by=worker, claimed_at=moment, attempts=NudgeRow.attempts + 1)
            .returning(
                NudgeRow.key,
                NudgeRow.plan_id,
                NudgeRow.target_id,
                NudgeRow.channel,
                NudgeRow.occurrence,
                NudgeRow.kind,
                NudgeRow.due_at,
                NudgeRow.attempts,
            )
        )
        with self.db.session() as s:
            rows = s.execute(statement).all()
        claimed = [Claimed(r[1], r[2], r[3], r[4], r[5], as_utc(r[6]), r[7]) for r in rows]
        return sorted(claimed, key=lambda c: (c.due_at, c.key))

    def finish(self, results: Iterable[tuple[Claimed, Outcome]], now: datetime) -> None:
        """Record the outcomes of claimed nudges (only rows this claim still holds are changed)."""
        moment = naive_utc(now)
        rows = []
        for claimed, outcome in results:
            row = {
                "b_key": claimed.key,
                "b_status": outcome.status,
                "b_error": (outcome.error or "")[:2000] or None,
                "b_sent_at": None,
                "b_ref": None,
                "b_not_before": None,
            }
            if outcome.status == "sent":
                row |= {"b_sent_at": moment, "b_ref": outcome.message_ref}
            elif outcome.status == "retry" and claimed.attempts < MAX_ATTEMPTS:
                wait = max(outcome.retry_after, 2.0**claimed.attempts)
                row |= {"b_status": "pending", "b_not_before": moment + timedelta(seconds=wait)}
            elif outcome.status != "unknown":
                row["b_status"] = "failed"
            rows.append(row)
        if not rows:
            return
        statement = (
            update(NudgeRow)
            .where(NudgeRow.key == bindparam("b_key"), NudgeRow.status == "sending")
            .values(
                status=bindparam("b_status"),
                error=bindparam("b_error"),
                sent_at=bindparam("b_sent_at"),
                message_ref=bindparam("b_ref"),
                not_before=bindparam("b_not_before"),
            )
        )
        with self.db.session() as s:
            s.connection().execute(statement, rows)  # one statement, executed for every row

    def expire_claims(self, now: datetime) -> int:
        """Claims older than STALE_CLAIM: the sender died between claiming and recording. The message
        may have gone out, so it is marked "unknown" and not sent again."""
        with self.db.session() as s:
            result = s.execute(
                update(NudgeRow)
                .where(NudgeRow.status == "sending", NudgeRow.claimed_at < naive_utc(now - STALE_CLAIM))
                .values(status="unknown", error="the sender stopped after claiming this nudge")
            )
            return result.rowcount or 0

    def last_sent_week(self, plan_id: int, target_ids: Iterable[int]) -> dict[int, int]:
        """Target → the number of the last week nudge sent to it."""
        with self.db.session() as s:
            rows = s.execute(
                select(NudgeRow.target_id, func.max(NudgeRow.occurrence))
                .where(
                    NudgeRow.plan_id == plan_id,
                    NudgeRow.kind == "week",
                    NudgeRow.status == "sent",
                    NudgeRow.target_id.in_(list(target_ids)),
                )
                .group_by(NudgeRow.target_id)
            )
            return {t: int(o[1:]) for t, o in rows}

    def failures(self, plan_id: int) -> tuple[int, str]:
        """How many of a plan's nudges failed or may not have arrived, and the latest one's error."""
        problem = NudgeRow.status.in_(("failed", "unknown"))
        with self.db.session() as s:
            count = s.scalar(select(func.count()).select_from(NudgeRow).where(NudgeRow.plan_id == plan_id, problem))
            last = s.execute(
                select(NudgeRow.error, NudgeRow.status)
                .where(NudgeRow.plan_id == plan_id, problem)
                .order_by(NudgeRow.due_at.desc(), NudgeRow.key.desc())
                .limit(1)
            ).first()
        return count, (last[0] or last[1]) if last else ""

    def count(self, **where) -> int:
        with self.db.session() as s:
            conditions = and_(*(getattr(NudgeRow, k) == v for k, v in where.items()))
            return s.scalar(select(func.count()).select_from(NudgeRow).where(conditions))

    def rows(self, plan_id: int | None = None) -> list[NudgeRow]:
        query = select(NudgeRow).order_by(NudgeRow.due_at, NudgeRow.key)
        if plan_id is not None:
            query = query.where(NudgeRow.plan_id == plan_id)
        with self.db.session() as s:
            return list(s.scalars(query).all())
