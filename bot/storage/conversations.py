"""Recent turns of each conversation, so that follow-up questions can be understood."""

from __future__ import annotations

from sqlalchemy import Row, bindparam, insert, select

from bot.storage.autocommit import autocommit_engine
from bot.storage.db import Database
from bot.storage.models import MessageRow, utcnow

_MESSAGES = MessageRow.__table__
# Both statements run on every turn. They are built once, without the ORM: building a statement and the
# ORM's unit of work cost SQLAlchemy several times what PostgreSQL needs to run them.
_RECENT = (
    select(_MESSAGES)
    .where(_MESSAGES.c.conversation == bindparam("conversation"))
    .order_by(_MESSAGES.c.id.desc())
    .limit(bindparam("limit"))
)
_APPEND = insert(_MESSAGES).returning(_MESSAGES.c.role, _MESSAGES.c.id)


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine = autocommit_engine(db)

    def append_turn(self, conversation: str, question: str, answer: str, language: str, sources: list[str]) -> int:
        """Store a question and its answer together (one INSERT of both rows); returns the answer's id."""
        now = utcnow()
        turn = {"conversation": conversation, "language": language, "created_at": now}
        rows = [
            {**turn, "role": "user", "text": question, "sources": ""},
            {**turn, "role": "assistant", "text": answer, "sources": " ".join(sources)},
        ]
        with self._engine.connect() as connection:
            ids = dict(connection.execute(_APPEND, rows).all())
        return ids["assistant"]

    def recent(self, conversation: str, limit: int = 6) -> list[Row]:
        """The last `limit` turns, oldest first: rows with the columns of `MessageRow` as attributes."""
        with self._engine.connect() as connection:
            rows = connection.execute(_RECENT, {"conversation": conversation, "limit": limit}).all()
        return list(reversed(rows))
