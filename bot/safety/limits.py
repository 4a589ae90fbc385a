"""Limits on what one person can make Lotse do: questions per minute and per hour (shared by every
replica through the database), and one-time notices such as the AI disclosure at the first contact."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.autocommit import autocommit_engine
from bot.storage.db import Database
from bot.storage.models import NoticeRow, RateRow

CLEAN_EVERY = 200  # counts per process between deletions of expired windows


class RateLimiter:
    """Fixed windows of a minute and an hour per user. `check` counts one question and returns None
    while the user is within both limits, else the seconds until they may ask again. Both windows are
    counted by one statement (INSERT … ON CONFLICT DO UPDATE … RETURNING), committed by itself: one
    round trip per question, and two replicas counting at once both see the sum."""

    def __init__(
        self, db: Database, per_minute: int, per_hour: int, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.db, self.per_minute, self.per_hour, self.clock = db, per_minute, per_hour, clock
        insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        # built once and run with one row of parameters per window (SQLAlchemy sends them as one INSERT):
        # a multi-row VALUES built per question is compiled anew every time
        self._count = (
            insert(RateRow)
            .on_conflict_do_update(index_elements=["user_key", "window"], set_={"count": RateRow.count + 1})
            .returning(RateRow.window, RateRow.count)
        )
        self._engine = autocommit_engine(db)
        self._counted = 0

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0 or self.per_hour > 0

    def check(self, user_key: str) -> int | None:
        if not self.enabled:
            return None
        now = self.clock()
        minute = now.replace(second=0, microsecond=0)
        hour = minute.replace(minute=0)
        windows = {
            f"m:{minute:%Y-%m-%dT%H:%M}": (minute + timedelta(minutes=1), self.per_minute),
            f"h:{hour:%Y-%m-%dT%H}": (hour + timedelta(hours=1), self.per_hour),
        }
        windows = {window: (ends, limit) for window, (ends, limit) in windows.items() if limit > 0}
        rows = [
            {"user_key": user_key, "window": window, "count": 1, "expires_at": ends}
            for window, (ends, _) in windows.items()
        ]
        with self._engine.connect() as connection:
            counts = connection.execute(self._count, rows).all()
            self._counted += 1
            if self._counted % CLEAN_EVERY == 0:
                connection.execute(delete(RateRow).where(RateRow.expires_at < now))
        wait = max(((windows[w][0] - now).total_seconds() for w, count in counts if count > windows[w][1]), default=0)
        return math.ceil(wait) if wait > 0 else None


class Notices:
    """Whether a user has seen a notice; `first` records it and is True exactly once per user and kind,
    also when two replicas ask at the same moment (INSERT … ON CONFLICT DO NOTHING decides). A process
    remembers for `REMEMBER` seconds whom it has seen, so a conversation costs no query per message;
    after an erasure the notice comes again once that memory has lapsed."""

    REMEMBER = 600.0
    MOST = 50_000  # people remembered per process

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.clock = db, clock
        insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        self._record = insert(NoticeRow).on_conflict_do_nothing()  # built once, run with parameters
        self._engine = autocommit_engine(db)
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, user_key: str, kind: str) -> bool:
        key, now = (user_key, kind), time.monotonic()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen < self.REMEMBER:
                return False
        row = {"user_key": user_key, "kind": kind, "shown_at": self.clock()}
        with self._engine.connect() as connection:
            result = connection.execute(self._record, row, execution_options={"preserve_rowcount": True})
            inserted = result.rowcount == 1
        with self._lock:
            self._seen[key] = now
            self._seen.move_to_end(key)
            while len(self._seen) > self.MOST:
                self._seen.popitem(last=False)
        return inserted

    def forget(self, user_key: str) -> None:
        """Drop this process's memory of a person (after their data was erased here)."""
        with self._lock:
            for key in [k for k in self._seen if k[0] == user_key]:
                del self._seen[key]
