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

    def first_time(self, key: str) -> bool:
        """True for the first call with `key` in any process sharing the database; False for repeats.
        One statement, INSERT … ON CONFLICT DO NOTHING, decides it: the row it inserted says who won."""
        insert = _INSERT.get(self.db.engine.dialect.name)
        if insert is None:  # another database: the primary key's violation says it
            try:
                with self.db.session() as s:
                    s.add(DeliveryRow(key=key[:300]))
            except IntegrityError:
                return False
            return True
        statement = insert(DeliveryRow).values(key=key[:300], created_at=utcnow()).on_conflict_do_nothing()
        with self._engine.connect() as connection:
            return connection.execute(statement, execution_options={"preserve_rowcount": True}).rowcount == 1
