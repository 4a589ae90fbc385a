"""Recent turns of each conversation, so that follow-up questions can be understood."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import MessageRow


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, conversation: str, role: str, text: str, language: str, sources: list[str] = ()) -> int:
        """Store one turn; returns its id (answers are rated by it)."""
        with self.db.session() as s:
            row = MessageRow(
                conversation=conversation, role=role, text=text, language=language, sources=" ".join(sources)
            )
            s.add(row)
            s.flush()
            return row.id

    def recent(self, conversation: str, limit: int = 6) -> list[MessageRow]:
        """The last `limit` turns, oldest first."""
        with self.db.session() as s:
            rows = s.scalars(
                select(MessageRow)
                .where(MessageRow.conversation == conversation)
                .order_by(MessageRow.id.desc())
                .limit(limit)
            ).all()
        return list(reversed(rows))
