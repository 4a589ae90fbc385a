"""Exactly-once intake of inbound events: the first process to record an event's key takes it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.storage.db import Database
from bot.storage.models import DeliveryRow


class DeliveryLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def first_time(self, key: str) -> bool:
        """True for the first call with `key` in any process sharing the database; False for repeats."""
        try:
            with self.db.session() as s:
                s.add(DeliveryRow(key=key[:300]))
        except IntegrityError:
            return False
        return True
