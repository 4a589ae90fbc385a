"""Display names of the people Lotse talks to, from their Slack or Teams profiles. They exist for one
purpose: to be masked in text that goes to an LLM endpoint that is not local. A name is written when it
is new or changed (not on every message), read through a short cache, and erased with the person."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import delete, select

from bot.storage.db import Database
from bot.storage.models import PersonRow

CACHE_SECONDS = 60.0


class People:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: dict[str, str] = {}  # user key → name as last written by this process
        self._names: tuple[float, list[str]] | None = None
        self._lock = threading.Lock()

    def remember(self, user_key: str, name: str | None) -> None:
        name = " ".join((name or "").split())[:200]
        if not name or self._known.get(user_key) == name:
            return
        with self.db.session() as s:
            row = s.get(PersonRow, user_key)
            if row is None:
                s.add(PersonRow(user_key=user_key, name=name, updated_at=datetime.now(UTC)))
            elif row.name != name:
                row.name, row.updated_at = name, datetime.now(UTC)
        with self._lock:
            self._known[user_key] = name
            self._names = None

    def names(self) -> list[str]:
        with self._lock:
            if self._names is not None and time.monotonic() - self._names[0] < CACHE_SECONDS:
                return self._names[1]
        with self.db.session() as s:
            found = sorted(set(s.scalars(select(PersonRow.name))))
        with self._lock:
            self._names = (time.monotonic(), found)
        return found

    def name_of(self, user_key: str) -> str | None:
        with self.db.session() as s:
            row = s.get(PersonRow, user_key)
            return row.name if row else None

    def forget(self, user_key: str) -> int:
        with self.db.session() as s:
            count = s.execute(delete(PersonRow).where(PersonRow.user_key == user_key)).rowcount
        with self._lock:
            self._known.pop(user_key, None)
            self._names = None
        return count
