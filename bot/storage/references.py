"""Conversation references for proactive messages, and links from channel messages to answers."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from bot.storage.db import Database, raced
from bot.storage.models import AnswerLinkRow, ConversationRefRow, utcnow


class ReferenceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, key: str, user_key: str, reference: dict) -> None:
        """Insert or refresh a reference (the latest serviceUrl wins) and mark it active again."""

        def write() -> None:  # a channel's members share its reference, and may write at once
            with self.db.session() as s:
                row = s.get(ConversationRefRow, key)
                if row is None:
                    s.add(ConversationRefRow(key=key, user_key=user_key, reference=json.dumps(reference), active=True))
                else:
                    row.user_key, row.reference, row.active, row.updated_at = (
                        user_key,
                        json.dumps(reference),
                        True,
                        utcnow(),
                    )

        raced(write)

    def get(self, key: str) -> tuple[dict, bool] | None:
        """(reference, active) or None."""
        with self.db.session() as s:
            row = s.get(ConversationRefRow, key)
            return (json.loads(row.reference), row.active) if row else None

    def deactivate(self, key: str) -> None:
        with self.db.session() as s:
            s.execute(update(ConversationRefRow).where(ConversationRefRow.key == key).values(active=False))

    def active_keys(self) -> list[str]:
        with self.db.session() as s:
            return list(s.scalars(select(ConversationRefRow.key).where(ConversationRefRow.active.is_(True))).all())

    def link(self, key: str, answer_id: int) -> None:
        with self.db.session() as s:
            s.merge(AnswerLinkRow(key=key, answer_id=answer_id))

    def answer_for(self, key: str) -> int | None:
        with self.db.session() as s:
            row = s.get(AnswerLinkRow, key)
            return row.answer_id if row else None
