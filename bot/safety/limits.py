"""Limits on what one person can make Lotse do: questions per minute and per hour (shared by every
replica through the database), and one-time notices such as the AI disclosure at the first contact."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Database
from bot.storage.models import NoticeRow, RateRow

CLEAN_EVERY = 200  # counts per process between deletions of expired windows


class RateLimiter:
    """Fixed windows of a minute and an hour per user. `check` counts one question and returns None
    while the user is within both limits, else the seconds until they may ask again."""

    def __init__(self, db: Database, per_minute: int, per_hour: int,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        self.db, self.per_minute, self.per_hour, self.clock = db, per_minute, per_hour, clock
        self._insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
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
        windows = [(f"m:{minute:%Y-%m-%dT%H:%M}", minute + timedelta(minutes=1), self.per_minute),
                   (f"h:{hour:%Y-%m-%dT%H}", hour + timedelta(hours=1), self.per_hour)]  # fmt: skip
        wait = 0.0
        with self.db.session() as s:
            for window, ends, limit in windows:
                if limit <= 0:
                    continue
                statement = (
                    self._insert(RateRow)
                    .values(user_key=user_key, window=window, count=1, expires_at=ends)
                    .on_conflict_do_update(index_elements=["user_key", "window"], set_={"count": RateRow.count + 1})
                    .returning(RateRow.count)
                )
                if s.execute(statement).scalar_one() > limit:
                    wait = max(wait, (ends - now).total_seconds())
            self._counted += 1
            if self._counted % CLEAN_EVERY == 0:
                s.execute(delete(RateRow).where(RateRow.expires_at < now))
        return math.ceil(wait) if wait > 0 else None


class Notices:
    """Whether a user has seen a notice; `first` records it and is True exactly once per user and kind,
    also when two replicas ask at the same moment."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.clock = db, clock

    def first(self, user_key: str, kind: str) -> bool:
        with self.db.session() as s:
            if s.get(NoticeRow, (user_key, kind)) is not None:
                return False
        try:
            with self.db.session() as s:
                s.add(NoticeRow(user_key=user_key, kind=kind, shown_at=self.clock()))
        except IntegrityError:
            return False
        return True
