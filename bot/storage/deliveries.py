"""Exactly-once intake of inbound events: the first process to record an event's key takes it."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.storage.autocommit import autocommit_engine
from bot.storage.db import Database
from bot.storage.models import DeliveryRow, utcnow

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # both know ON CONFLICT DO NOTHING


class DeliveryLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine = autocommit_engine(db)
        insert = _INSERT.get(db.engine.dialect.name)
        # built once, run with each key: building a statement cost SQLAlchemy more than running it
        self._take = insert(DeliveryRow).on_conflict_do_nothing() if insert else None

    def first_time(self, key: str) -> bool:
        """True for the first call with `key` in any process sharing the database; False for repeats.
        One statement, INSERT … ON CONFLICT DO NOTHING, decides it: the row it inserted says who won."""
        if self._take is None:  # another database: the primary key's violation says it
            try:
                with self.db.session() as s:
                    s.add(DeliveryRow(key=key[:300]))
            except IntegrityError:
                return False
            return True
        with self._engine.connect() as connection:
            result = connection.execute(
                self._take, {"key": key[:300], "created_at": utcnow()}, execution_options={"preserve_rowcount": True}
            )
            return result.rowcount == 1
