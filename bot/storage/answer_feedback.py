"""👍/👎 on answers (with an optional reason) and general feedback on Lotse."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.db import Database, raced
from bot.storage.models import AnswerFeedbackRow, MessageRow

REASONS = ("outdated", "wrong_section", "unclear", "missing", "other")


class AnswerFeedbackStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def rate(self, message_id: int, user: str, rating: int, reason: str | None = None, comment: str | None = None):
        """Store (or update) a user's rating of one answer, with the question, answer and sources.
        Returns the row, or None if the answer does not exist."""

        def write():  # a double click, or the same click on two replicas
            with self.db.session() as s:
                answer = s.get(MessageRow, message_id)
                if answer is None or answer.role != "assistant":
                    return None
                question = s.scalars(
                    select(MessageRow.text)
                    .where(MessageRow.conversation == answer.conversation, MessageRow.id < answer.id)
                    .order_by(MessageRow.id.desc())
                    .limit(1)
                ).first()
                row = s.scalars(
                    select(AnswerFeedbackRow).where(
                        AnswerFeedbackRow.message_id == message_id, AnswerFeedbackRow.user == user
                    )
                ).first()
                if row is None:
                    row = AnswerFeedbackRow(message_id=message_id, user=user)
                    s.add(row)
                row.rating, row.question, row.answer, row.sources = rating, question, answer.text, answer.sources
                if reason is not None or rating > 0:
                    row.reason = reason if reason in REASONS else None  # only the form's choices are stored
                if comment is not None or rating > 0:
                    row.comment = comment
                return row

        return raced(write)

    def general(self, user: str, rating: int, comment: str | None) -> None:
        with self.db.session() as s:
            s.add(AnswerFeedbackRow(message_id=None, user=user, rating=rating, comment=comment))

    def all(self) -> list[AnswerFeedbackRow]:
        with self.db.session() as s:
            return list(s.scalars(select(AnswerFeedbackRow).order_by(AnswerFeedbackRow.id)).all())
