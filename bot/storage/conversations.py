"""Recent turns of each conversation, so that follow-up questions can be understood."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import MessageRow


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append_turn(self, conversation: str, question: str, answer: str, language: str, sources: list[str]) -> int:
        """Store a question and its answer in one transaction; returns the answer's id."""
        with self.db.session() as s:
            s.add(MessageRow(conversation=conversation, role="user", text=question, language=language))
            row = MessageRow(conversation=conversation, role="assistant", text=answer, language=language,
                             sources=" ".join(sources))  # fmt: skip
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
