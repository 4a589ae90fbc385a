"""Personal data, contributed where it is kept (issue 21): each feature that stores something about a
person says how to count it, export it, erase it and purge it after the retention period (a
`PersonalPart`); `bot.privacy` only adds the parts up, in one transaction. This module holds the
protocol and the part for the tables every feature shares: conversations, ratings of answers, display
names, notices shown, rate counters, conversation references, delivery keys, actions waiting for a
Confirm, and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.core.clock import stamp
from bot.storage.models import (
    AnswerFeedbackRow,
    AuditRow,
    ConversationRefRow,
    DeliveryRow,
    MessageRow,
    NoticeRow,
    PendingActionRow,
    PersonRow,
    RateRow,
)

REMOVED = "(gelöscht)"  # stands in for the author of team records that stay (results, pilots, plans)


@dataclass(frozen=True)
class Person:
    """Whose data: `user_key` is channel:workspace:user (their conversations' keys start with it); `author`
    and `scope` name them on team records (assessment results)."""

    user_key: str
    author: str
    scope: str

    @property
    def prefix(self) -> str:
        return f"{self.user_key}:"  # with autoescape: "_" or "%" in an id must not match others' rows


class PersonalPart(Protocol):
    """What one feature keeps about people. Every method works in the caller's session (one transaction);
    the dicts name what was found (counted, exported, erased, purged), keyed as the person sees it."""

    def count(self, s: Session, who: Person) -> dict[str, int]: ...

    def export(self, s: Session, who: Person) -> dict[str, object]: ...

    def erase(self, s: Session, who: Person) -> dict[str, int]: ...

    def purge(self, s: Session, before: datetime) -> dict[str, int]: ...


def _mine(column, who: Person):
    return column.startswith(who.prefix, autoescape=True)


class SharedPart:
    """The tables every feature uses."""

    def count(self, s: Session, who: Person) -> dict[str, int]:
        return {
            "messages": s.scalar(select(func.count()).where(_mine(MessageRow.conversation, who))) or 0,
            "feedback": s.scalar(select(func.count()).where(AnswerFeedbackRow.user == who.user_key)) or 0,
            "profile_name": s.scalar(select(func.count()).where(PersonRow.user_key == who.user_key)) or 0,
            "audit_entries": s.scalar(select(func.count()).where(AuditRow.actor == who.user_key)) or 0,
        }

    def export(self, s: Session, who: Person) -> dict[str, object]:
        messages = s.scalars(
            select(MessageRow).where(_mine(MessageRow.conversation, who)).order_by(MessageRow.id)
        ).all()
        ratings = s.scalars(
            select(AnswerFeedbackRow).where(AnswerFeedbackRow.user == who.user_key).order_by(AnswerFeedbackRow.id)
        ).all()
        person = s.get(PersonRow, who.user_key)
        notices = s.scalars(select(NoticeRow).where(NoticeRow.user_key == who.user_key)).all()
        audit = s.scalars(select(AuditRow).where(AuditRow.actor == who.user_key).order_by(AuditRow.id)).all()
        return {
            "profile_name": person.name if person else None,
            "notices_shown": [{"notice": n.kind, "at": stamp(n.shown_at)} for n in notices],
            "audit_log": [
                {"action": a.action, "target": a.target, "detail": a.detail, "at": stamp(a.at)} for a in audit
            ],
            "messages": [
                {
                    "conversation": m.conversation.removeprefix(who.prefix),
                    "role": m.role,
                    "text": m.text,
                    "language": m.language,
                    "at": stamp(m.created_at),
                }
                for m in messages
            ],
            "answer_feedback": [
                {
                    "rating": f.rating,
                    "reason": f.reason,
                    "comment": f.comment,
                    "question": f.question,
                    "at": stamp(f.created_at),
                }
                for f in ratings
            ],
        }

    def erase(self, s: Session, who: Person) -> dict[str, int]:
        """The audit log keeps what they changed (accountability, GDPR Art. 5(2) and 17(3)): it names no
        contents and is purged after the retention period."""
        counts = {
            "messages": s.execute(delete(MessageRow).where(_mine(MessageRow.conversation, who))).rowcount,
            "feedback": s.execute(delete(AnswerFeedbackRow).where(AnswerFeedbackRow.user == who.user_key)).rowcount,
            "profile_name": s.execute(delete(PersonRow).where(PersonRow.user_key == who.user_key)).rowcount,
        }
        s.execute(delete(NoticeRow).where(NoticeRow.user_key == who.user_key))
        s.execute(delete(RateRow).where(RateRow.user_key == who.user_key))
        s.execute(delete(ConversationRefRow).where(ConversationRefRow.user_key == who.user_key))
        s.execute(delete(PendingActionRow).where(_mine(PendingActionRow.conversation, who)))
        return counts

    def purge(self, s: Session, before: datetime) -> dict[str, int]:
        counts = {
            "messages": s.execute(delete(MessageRow).where(MessageRow.created_at < before)).rowcount,
            "feedback": s.execute(delete(AnswerFeedbackRow).where(AnswerFeedbackRow.created_at < before)).rowcount,
            "deliveries": s.execute(delete(DeliveryRow).where(DeliveryRow.created_at < before)).rowcount,
            "audit": s.execute(delete(AuditRow).where(AuditRow.at < before)).rowcount,
            "rate_limits": s.execute(delete(RateRow).where(RateRow.expires_at < before)).rowcount,
            "profile_names": s.execute(delete(PersonRow).where(PersonRow.updated_at < before)).rowcount,
        }
        # actions that waited for a Confirm (they expire after minutes; their values are the person's words)
        s.execute(delete(PendingActionRow).where(PendingActionRow.created_at < before))
        return counts
