"""Pilots, their KPIs and feedback entries in the database. Feedback is keyed by a keyed hash of the
user (`author_key`), so everyone can list, change, withdraw and erase their own entries — anonymous
ones too — while reports and exports never see who gave an anonymous entry.

The hash of an anonymous entry differs from that of the same person's named entries and from their
anonymous entries in other pilots (HMAC over "anon", pilot and user), so joining on `author_key` ties
it to no name. The key is a random secret kept in the database (table `secrets`): every replica and a
restored backup use the same one."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, event, func, select, update

from bot.core.clock import stamp
from bot.core.commands import pick
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import DialogRow, KpiRow, KpiValueRow, PilotCostRow, PilotFeedbackRow, PilotRow, utcnow
from bot.storage.secrets import load_key


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    direction: str  # lower, higher
    baseline: float
    target: float
    target_change: float | None = None  # the target as given, in per cent of the baseline
    method: str = ""


@dataclass(frozen=True)
class Entry:
    """A feedback entry as the store takes it (from the dialog) and gives it back."""

    satisfaction: int
    minutes_saved: float | None = None
    kpis: dict[int, float] | None = None  # KPI id → measured value
    works: str | None = None
    not_working: str | None = None
    comment: str | None = None
    anonymous: bool = False
    group_size: int = 1


ERASED = "erased"  # the author key of a group entry whose champion erased their data
NAMES_TTL = 5.0  # seconds a team's pilot names are reused for reading plain messages (a write here clears them)


class PilotStore:
    def __init__(self, db: Database, key: bytes | None = None, audit: AuditLog | None = None) -> None:
        self.db = db
        self.audit = audit or AuditLog(db)
        self.key = key if key is not None else load_key(db)
        if len(self.key) < 32:
            raise ValueError("the author key must have at least 32 bytes")
        self._names: dict[str | None, tuple[float, list[str]]] = {}
        self._renamed = 0  # counts `_forget_names`: a read that began before one is not kept

    def author_key(self, user_key: str, pilot_id: int | None = None, anonymous: bool = False) -> str:
        """The key of the user's named entries, or of their anonymous entries in one pilot."""
        text = f"anon\0{pilot_id}\0{user_key}" if anonymous else f"named\0{user_key}"
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def keys_of(self, user_key: str, pilot_ids: list[int] | None = None) -> list[str]:
        """Every key the user's entries may carry (named, and anonymous in each pilot)."""
        if pilot_ids is None:
            with self.db.session() as s:
                pilot_ids = list(s.scalars(select(PilotRow.id)).all())
        return [self.author_key(user_key)] + [self.author_key(user_key, p, anonymous=True) for p in pilot_ids]

    # -- pilots --------------------------------------------------------------------------------

    def add_pilot(
        self,
        session,
        scope: str,
        name: str,
        created_by: str,
        *,
        start: date,
        end: date,
        users: int = 0,
        use_case: str = "",
        owner: str = "",
        anonymous: bool = False,
        one_off_cost: float = 0.0,
        monthly_cost: float = 0.0,
        hourly_rate: float = 0.0,
        kpis: list[Kpi] = (),
    ) -> PilotRow:
        pilot = PilotRow(
            scope=scope,
            name=name,
            use_case=use_case,
            owner=owner,
            start=start,
            end=end,
            users=users,
            anonymous=anonymous,
            one_off_cost=one_off_cost,
            monthly_cost=monthly_cost,
            hourly_rate=hourly_rate,
            created_by=created_by,
        )
        session.add(pilot)
        session.flush()
        # forgotten once the caller commits: a read by another thread before that would keep the old names
        event.listen(session, "after_commit", lambda _session: self._forget_names(), once=True)
        for position, kpi in enumerate(kpis):
            session.add(KpiRow(pilot_id=pilot.id, position=position, **kpi.__dict__))
        self.audit.record(created_by, "pilot.create", name, session=session, pilot=pilot.id, kpis=len(kpis))
        session.flush()
        return pilot

    def create(self, scope: str, name: str, created_by: str, **fields) -> PilotRow:
        with self.db.session() as s:
            return self.add_pilot(s, scope, name, created_by, **fields)

    def pilots(self, scope: str | None = None) -> list[PilotRow]:
        query = select(PilotRow).order_by(PilotRow.id)  # numbers in /pilot stay when pilots are added
        if scope is not None:
            query = query.where(PilotRow.scope == scope)
        with self.db.session() as s:
            return list(s.scalars(query).all())

    def names(self, scope: str | None) -> list[str]:
        """The team's pilot names, for understanding plain messages (every message asks, twice). Kept for
        `NAMES_TTL` seconds: a pilot created, renamed or deleted on this replica is seen at once, one
        created on another replica within that time."""
        now = time.monotonic()
        kept = self._names.get(scope)
        if kept is None or now - kept[0] > NAMES_TTL:
            query = select(PilotRow.name).order_by(PilotRow.id)
            if scope is not None:
                query = query.where(PilotRow.scope == scope)
            renamed = self._renamed
            with self.db.autocommit.connect() as connection:
                kept = (now, list(connection.scalars(query)))
            if renamed == self._renamed:  # no pilot was created, renamed or deleted while reading
                self._names[scope] = kept
        return kept[1]

    def _forget_names(self) -> None:
        self._renamed += 1
        self._names.clear()

    def get(self, pilot_id: int) -> PilotRow | None:
        with self.db.session() as s:
            return s.get(PilotRow, pilot_id)

    def find(self, scope: str, name: str) -> PilotRow | None:
        """By number (as `/pilot` lists them), name, or an unambiguous beginning of a name."""
        return pick(self.pilots(scope), name)

    def name_taken(self, scope: str, name: str) -> bool:
        with self.db.session() as s:
            return bool(
                s.scalar(select(func.count()).where(PilotRow.scope == scope, func.lower(PilotRow.name) == name.lower()))
            )

    def update(self, pilot_id: int, field: str, value, kpi_id: int | None = None, **options) -> PilotRow | str:
        try:
            return self._update(pilot_id, field, value, kpi_id, **options)
        finally:
            if field == "name":
                self._forget_names()

    def _update(
        self,
        pilot_id: int,
        field: str,
        value,
        kpi_id: int | None = None,
        *,
        actor: str,
        valid_from: date | None = None,
        today: date | None = None,
    ) -> PilotRow | str:
        """Set one field of a pilot (or of one of its KPIs); returns the pilot, or the locale key of why
        the value does not fit (an end before the start, a target on the wrong side of the baseline).
        The running cost applies from `valid_from` (the first of a month, this month's if not given) and
        keeps the months before at the cost they had. The audit entry names the field (and KPI), not the
        value; it commits with the change."""
        with self.db.session() as s:
            pilot = s.get(PilotRow, pilot_id)
            name = pilot.name  # a renamed pilot is logged under the name it had
            if field == "monthly_cost" and kpi_id is None:
                today = today or utcnow().date()
                first = pilot.start.replace(day=1)
                valid_from = max(valid_from or today.replace(day=1), first)
                if valid_from > today and valid_from > first:  # a pilot yet to start may be corrected
                    return "pilot_cost_future"
                self._cost_from(s, pilot, valid_from, value, today)
                month = valid_from.isoformat()
                self.audit.record(actor, "pilot.update", name, session=s, pilot=pilot_id, field=field, valid_from=month)
                return pilot
            if kpi_id is not None:
                kpi = s.get(KpiRow, kpi_id)
                baseline = value if field == "baseline" else kpi.baseline
                target = value if field == "target" else kpi.target
                if field in ("baseline", "target") and (
                    target == baseline or (target < baseline) != (kpi.direction == "lower")
                ):
                    return "pilot_set_target_side"
                setattr(kpi, field, value)
                if field == "target":
                    kpi.target_change = None
            else:
                start = value if field == "start" else pilot.start
                end = value if field == "end" else pilot.end
                if end <= start:
                    return "pilot_end_before_start"
                setattr(pilot, field, value)
            self.audit.record(
                actor,
                "pilot.update",
                name,
                session=s,
                pilot=pilot_id,
                field=field,
                **({"kpi": kpi.name} if kpi_id is not None else {}),
            )
            return pilot

    @staticmethod
    def _cost_from(s, pilot: PilotRow, valid_from: date, value: float, today: date) -> None:
        """Record the running cost from a month on; the pilot's own figure becomes this month's cost."""
        rows = {r.valid_from: r for r in s.scalars(select(PilotCostRow).where(PilotCostRow.pilot_id == pilot.id))}
        first = pilot.start.replace(day=1)
        if not rows and valid_from <= first:  # from its first month on: a correction, no history
            pilot.monthly_cost = value
            return
        if not rows:  # what it cost until now, from its first month
            s.add(PilotCostRow(pilot_id=pilot.id, valid_from=first, monthly_cost=pilot.monthly_cost))
        if valid_from in rows:
            rows[valid_from].monthly_cost = value
        else:
            s.add(PilotCostRow(pilot_id=pilot.id, valid_from=valid_from, monthly_cost=value))
        s.flush()
        pilot.monthly_cost = cost_in(PilotStore._history(s, pilot.id), today, value)

    @staticmethod
    def _history(s, pilot_id: int) -> list[tuple[date, float]]:
        rows = s.execute(
            select(PilotCostRow.valid_from, PilotCostRow.monthly_cost)
            .where(PilotCostRow.pilot_id == pilot_id)
            .order_by(PilotCostRow.valid_from)
        ).all()
        return [(d, c) for d, c in rows]

    def cost_history(self, pilot_id: int) -> list[tuple[date, float]]:
        """The running cost's changes, oldest first, as (first day of the month it applies from, €/month);
        empty if it never changed."""
        with self.db.session() as s:
            return self._history(s, pilot_id)

    def delete(self, pilot_id: int, *, actor: str) -> None:
        """The pilot with its KPIs, feedback and measurements; the audit entry keeps its name and how much
        feedback went with it."""
        with self.db.session() as s:
            pilot = s.get(PilotRow, pilot_id)
            if pilot is None:
                return
            entries = s.scalar(select(func.count()).where(PilotFeedbackRow.pilot_id == pilot_id)) or 0
            self.audit.record(actor, "pilot.delete", pilot.name, session=s, pilot=pilot_id, feedback=entries)
            s.execute(delete(PilotRow).where(PilotRow.id == pilot_id))
        self._forget_names()

    def kpis(self, pilot_id: int) -> list[KpiRow]:
        with self.db.session() as s:
            return list(s.scalars(select(KpiRow).where(KpiRow.pilot_id == pilot_id).order_by(KpiRow.position)).all())

    # -- feedback ------------------------------------------------------------------------------

    def add_entry(
        self,
        session,
        pilot_id: int,
        user_key: str,
        user: str,
        entry: Entry,
        *,
        dialog_id: int | None = None,
        language: str = "de",
        created_at: datetime | None = None,
    ) -> PilotFeedbackRow:
        row = PilotFeedbackRow(pilot_id=pilot_id, dialog_id=dialog_id, language=language)
        row.author_key = self.author_key(user_key, pilot_id, entry.anonymous)
        row.created_at = row.updated_at = _when(created_at or utcnow(), entry.anonymous)
        _fill(row, entry, user)
        session.add(row)
        session.flush()
        for kpi_id, value in (entry.kpis or {}).items():
            session.add(KpiValueRow(feedback_id=row.id, kpi_id=kpi_id, value=value))
        return row

    def replace_entry(self, session, entry_id: int, user_key: str, user: str, entry: Entry) -> PilotFeedbackRow | None:
        """Change one of the user's own entries (None if it is not theirs, or gone)."""
        row = session.get(PilotFeedbackRow, entry_id)
        if row is None or row.author_key not in self.keys_of(user_key, [row.pilot_id]):
            return None
        if entry.anonymous and row.dialog_id is not None:  # the dialog that created it names its author
            created_by, row.dialog_id = row.dialog_id, None
            session.flush()
            session.execute(delete(DialogRow).where(DialogRow.id == created_by))
        _fill(row, entry, user)
        row.author_key = self.author_key(user_key, row.pilot_id, entry.anonymous)
        row.updated_at = _when(utcnow(), entry.anonymous)
        if entry.anonymous:
            row.created_at = _when(row.created_at, True)
        session.execute(delete(KpiValueRow).where(KpiValueRow.feedback_id == entry_id))
        for kpi_id, value in (entry.kpis or {}).items():
            session.add(KpiValueRow(feedback_id=row.id, kpi_id=kpi_id, value=value))
        return row

    def entries_of(self, user_key: str) -> list[tuple[PilotFeedbackRow, str]]:
        """The user's own entries, newest first, with the pilot's name."""
        with self.db.session() as s:
            rows = s.execute(
                select(PilotFeedbackRow, PilotRow.name)
                .join(PilotRow, PilotRow.id == PilotFeedbackRow.pilot_id)
                .where(PilotFeedbackRow.author_key.in_(self.keys_of(user_key)))
                .order_by(PilotFeedbackRow.id.desc())
            ).all()
            return [(row, name) for row, name in rows]

    def entry_of(self, user_key: str, entry_id: int) -> PilotFeedbackRow | None:
        with self.db.session() as s:
            row = s.get(PilotFeedbackRow, entry_id)
            return row if row is not None and row.author_key in self.keys_of(user_key, [row.pilot_id]) else None

    def edit_token(self, entry_id: int) -> str:
        """Names an entry in the id of the dialog that changes it, without its number."""
        return hmac.new(self.key, f"edit\0{entry_id}".encode(), hashlib.sha256).hexdigest()[:16]

    def entry_by_token(self, pilot_id: int, token: str | None) -> int | None:
        with self.db.session() as s:
            ids = s.scalars(select(PilotFeedbackRow.id).where(PilotFeedbackRow.pilot_id == pilot_id)).all()
        return next((i for i in ids if token and hmac.compare_digest(self.edit_token(i), token)), None)

    def answers_of(self, entry_id: int | None) -> dict:
        """An entry's answers by the feedback dialog's step ids (`kpi_<id>` for measurements), for a
        dialog that changes it; skipped questions are left out."""
        with self.db.session() as s:
            row = s.get(PilotFeedbackRow, entry_id) if entry_id else None
            if row is None:
                return {}
            answers = {
                "anonymous": row.anonymous,
                "group_size": row.group_size,
                "satisfaction": row.satisfaction,
                "minutes_saved": row.minutes_saved,
                "works": row.works,
                "not_working": row.not_working,
                "comment": row.comment,
            }
            values = s.execute(select(KpiValueRow.kpi_id, KpiValueRow.value).where(KpiValueRow.feedback_id == row.id))
            answers.update((f"kpi_{kpi}", value) for kpi, value in values.all())
        return {key: value for key, value in answers.items() if value is not None}

    def values(self, entry_id: int) -> dict[int, float]:
        with self.db.session() as s:
            rows = s.execute(select(KpiValueRow.kpi_id, KpiValueRow.value).where(KpiValueRow.feedback_id == entry_id))
            return dict(rows.all())

    def withdraw(self, user_key: str, entry_id: int) -> bool:
        """Delete one of the user's own entries; False if it is not theirs (or already gone)."""
        with self.db.session() as s:
            done = s.execute(
                delete(PilotFeedbackRow).where(
                    PilotFeedbackRow.id == entry_id, PilotFeedbackRow.author_key.in_(self.keys_of(user_key))
                )
            )
            return done.rowcount == 1

    def erase(self, session, user_key: str) -> int:
        """Delete every entry of the user (in the caller's transaction); returns how many. Group meetings
        a champion recorded stay, as the group's: without the champion's name or key."""
        keys = self.keys_of(user_key)
        session.execute(
            update(PilotFeedbackRow)
            .where(PilotFeedbackRow.author_key.in_(keys), PilotFeedbackRow.group_size > 1)
            .values(author=None, author_key=ERASED, dialog_id=None)
        )
        return session.execute(delete(PilotFeedbackRow).where(PilotFeedbackRow.author_key.in_(keys))).rowcount

    def count_of(self, session, user_key: str) -> int:
        return session.scalar(select(func.count()).where(PilotFeedbackRow.author_key.in_(self.keys_of(user_key))))

    def export_of(self, user_key: str) -> list[dict]:
        """The user's own entries as plain data, for "meine Daten"."""
        out = []
        with self.db.session() as s:
            names = dict(s.execute(select(KpiRow.id, KpiRow.name)).all())
        for row, pilot in self.entries_of(user_key):
            out.append(
                {
                    "id": row.id,
                    "pilot": pilot,
                    "created_at": stamp(row.created_at),
                    "updated_at": stamp(row.updated_at),
                    "anonymous": row.anonymous,
                    "group_size": row.group_size,
                    "satisfaction": row.satisfaction,
                    "minutes_saved_per_week": row.minutes_saved,
                    "works": row.works,
                    "not_working": row.not_working,
                    "comment": row.comment,
                    "kpi_values": {names.get(k, str(k)): v for k, v in self.values(row.id).items()},
                }
            )
        return out


def _when(moment: datetime, anonymous: bool) -> datetime:
    """An anonymous entry keeps only the day: exact times could be matched with other traces."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) if anonymous else moment


def _fill(row: PilotFeedbackRow, entry: Entry, user: str) -> None:
    row.author = None if entry.anonymous else user  # a group entry names the champion who collected it
    row.anonymous = entry.anonymous
    row.group_size = entry.group_size
    row.satisfaction = entry.satisfaction
    row.minutes_saved = entry.minutes_saved
    row.works, row.not_working, row.comment = entry.works, entry.not_working, entry.comment


def cost_in(history: list[tuple[date, float]], day: date, default: float) -> float:
    """The running cost that applies in the month of `day`: the latest change from that month or before
    (the first recorded cost before the first change, should the pilot's start have moved earlier);
    `default`, the pilot's own figure, when the cost never changed."""
    cost = history[0][1] if history else default
    for valid_from, monthly in history:
        if valid_from <= day:
            cost = monthly
    return cost
