"""Recent turns of each conversation, so that follow-up questions can be understood."""

from __future__ import annotations

from sqlalchemy import Row, insert, select

from bot.storage.autocommit import autocommit_engine, autocommit_sessions
from bot.storage.db import Database
from bot.storage.models import MessageRow, utcnow


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._single = autocommit_sessions(db)
        self._engine = autocommit_engine(db)

    def append_turn(self, conversation: str, question: str, answer: str, language: str, sources: list[str]) -> int:
        """Store a question and its answer together (one INSERT of both rows); returns the answer's id."""
        now = utcnow()
        turn = {"conversation": conversation, "language": language, "created_at": now}
        rows = [{**turn, "role": "user", "text": question, "sources": ""},
                {**turn, "role": "assistant", "text": answer, "sources": " ".join(sources)}]  # fmt: skip
        with self._single() as s:
            ids = dict(s.execute(insert(MessageRow).returning(MessageRow.role, MessageRow.id), rows).all())
        return ids["assistant"]

    def recent(self, conversation: str, limit: int = 6) -> list[Row]:
        """The last `limit` turns, oldest first: rows with the columns of `MessageRow` as attributes
        (read without the ORM, which took twice the time on every turn)."""
        table = MessageRow.__table__
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(table).where(table.c.conversation == conversation).order_by(table.c.id.desc()).limit(limit)
            ).all()
        return list(reversed(rows))
