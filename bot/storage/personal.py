"""What Lotse stores about one person, counted (the full export and erasure come with the privacy work)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import AnswerFeedbackRow, AssessmentResultRow, DialogRow, MessageRow


class PersonalData:
    def __init__(self, db: Database) -> None:
        self.db = db

    def counts(self, user_key: str, author: str, scope: str) -> dict[str, int]:
        """`user_key` is channel:workspace:user; conversations of the user start with it."""
        prefix = f"{user_key}:"  # autoescape: "_" or "%" in an id must not match other people's rows
        with self.db.session() as s:
            return {
                "messages": s.scalar(
                    select(func.count()).where(MessageRow.conversation.startswith(prefix, autoescape=True))
                )
                or 0,
                "dialogs": s.scalar(
                    select(func.count()).where(DialogRow.conversation.startswith(prefix, autoescape=True))
                )
                or 0,
                "results": s.scalar(
                    select(func.count()).where(AssessmentResultRow.author == author, AssessmentResultRow.scope == scope)
                )
                or 0,
                "feedback": s.scalar(select(func.count()).where(AnswerFeedbackRow.user == user_key)) or 0,
            }
