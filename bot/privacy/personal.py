"""What Lotse stores about one person: counted ("Was speicherst du über mich?"), exported as JSON
("meine Daten"), erased ("lösche meine Daten"), and everyone's purged after the retention period.

A person is `user_key` (channel:workspace:user); their conversations' keys start with it, their
assessment results name them as author within the scope, and their pilot feedback carries a keyed
hash of it (`PilotStore.author_key`)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, func, select, update

from bot.pilots.store import PilotStore
from bot.storage.audit import SYSTEM, AuditLog
from bot.storage.db import Database
from bot.storage.models import (
    AnswerFeedbackRow,
    AssessmentResultRow,
    AuditRow,
    ConversationRefRow,
    DeliveryRow,
    DialogRow,
    MessageRow,
    NoticeRow,
    NudgeRow,
    PendingActionRow,
    PersonRow,
    PilotFeedbackRow,
    PilotRow,
    PlanRow,
    PlanTaskRow,
    RateRow,
    RegisterEntryRow,
)

REMOVED = "(gelöscht)"  # stands in for the author of team records that stay (results, pilots, plans)


class PersonalData:
    def __init__(self, db: Database, pilots: PilotStore | None = None, audit: AuditLog | None = None) -> None:
        self.db = db
        self.pilots = pilots
        self.audit = audit or AuditLog(db)

    def counts(self, user_key: str, author: str, scope: str) -> dict[str, int]:
        """`user_key` is channel:workspace:user; conversations of the user start with it."""
        prefix = f"{user_key}:"  # autoescape: "_" or "%" in an id must not match other people's rows
        with self.db.session() as s:
            counts = {
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
                "pilot_feedback": 0,
                "profile_name": s.scalar(select(func.count()).where(PersonRow.user_key == user_key)) or 0,
                "audit_entries": s.scalar(select(func.count()).where(AuditRow.actor == user_key)) or 0,
            }
            if self.pilots is not None:
                counts["pilot_feedback"] = self.pilots.count_of(s, user_key)
        return counts

    def export(self, user_key: str, author: str, scope: str) -> dict:
        """Everything stored about the person, as plain data (the JSON of "meine Daten")."""
        prefix = f"{user_key}:"
        with self.db.session() as s:
            messages = s.scalars(
                select(MessageRow)
                .where(MessageRow.conversation.startswith(prefix, autoescape=True))
                .order_by(MessageRow.id)
            ).all()
            dialogs = s.scalars(
                select(DialogRow)
                .where(DialogRow.conversation.startswith(prefix, autoescape=True))
                .order_by(DialogRow.id)
            ).all()
            results = s.scalars(
                select(AssessmentResultRow)
                .where(AssessmentResultRow.author == author, AssessmentResultRow.scope == scope)
                .order_by(AssessmentResultRow.id)
            ).all()
            ratings = s.scalars(
                select(AnswerFeedbackRow).where(AnswerFeedbackRow.user == user_key).order_by(AnswerFeedbackRow.id)
            ).all()
            person = s.get(PersonRow, user_key)
            notices = s.scalars(select(NoticeRow).where(NoticeRow.user_key == user_key)).all()
            audit = s.scalars(select(AuditRow).where(AuditRow.actor == user_key).order_by(AuditRow.id)).all()
            data = {
                "user": user_key,
                "profile_name": person.name if person else None,
                "notices_shown": [{"notice": n.kind, "at": n.shown_at.isoformat()} for n in notices],
                "audit_log": [
                    {"action": a.action, "target": a.target, "detail": a.detail, "at": a.at.isoformat()} for a in audit
                ],
                "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "messages": [
                    {
                        "conversation": m.conversation.removeprefix(prefix),
                        "role": m.role,
                        "text": m.text,
                        "language": m.language,
                        "at": m.created_at.isoformat(),
                    }
                    for m in messages
                ],
                "dialogs": [
                    {
                        "assessment": d.assessment,
                        "status": d.status,
                        "answers": json.loads(d.trail),
                        "started_at": d.started_at.isoformat(),
                        "updated_at": d.updated_at.isoformat(),
                    }
                    for d in dialogs
                ],
                "assessment_results": [
                    {
                        "assessment": r.assessment,
                        "answers": json.loads(r.answers),
                        "metrics": json.loads(r.metrics),
                        "at": r.created_at.isoformat(),
                    }
                    for r in results
                ],
                "answer_feedback": [
                    {
                        "rating": f.rating,
                        "reason": f.reason,
                        "comment": f.comment,
                        "question": f.question,
                        "at": f.created_at.isoformat(),
                    }
                    for f in ratings
                ],
            }
        data["pilot_feedback"] = self.pilots.export_of(user_key) if self.pilots is not None else []
        return data

    def erase(self, user_key: str, author: str, scope: str) -> dict[str, int]:
        """Delete the person's messages, dialogs, ratings, pilot feedback, profile name, notices and rate
        counters; team records they authored (assessment results, pilots, plans, plan tasks) stay, with the
        author removed. The audit log keeps what they changed (accountability, GDPR Art. 5(2) and 17(3)):
        it names no contents and is purged after the retention period. One transaction."""
        prefix = f"{user_key}:"
        with self.db.session() as s:
            counts = {
                "messages": s.execute(
                    delete(MessageRow).where(MessageRow.conversation.startswith(prefix, autoescape=True))
                ).rowcount,
                "dialogs": s.execute(
                    delete(DialogRow).where(DialogRow.conversation.startswith(prefix, autoescape=True))
                ).rowcount,
                "feedback": s.execute(delete(AnswerFeedbackRow).where(AnswerFeedbackRow.user == user_key)).rowcount,
                "pilot_feedback": self.pilots.erase(s, user_key) if self.pilots is not None else 0,
                "results": s.execute(
                    update(AssessmentResultRow)
                    .where(AssessmentResultRow.author == author, AssessmentResultRow.scope == scope)
                    .values(author=REMOVED)
                ).rowcount,
            }
            counts["profile_name"] = s.execute(delete(PersonRow).where(PersonRow.user_key == user_key)).rowcount
            s.execute(delete(NoticeRow).where(NoticeRow.user_key == user_key))
            s.execute(delete(RateRow).where(RateRow.user_key == user_key))
            s.execute(delete(ConversationRefRow).where(ConversationRefRow.user_key == user_key))
            s.execute(delete(PendingActionRow).where(PendingActionRow.conversation.startswith(prefix, autoescape=True)))
            s.execute(update(PilotRow).where(PilotRow.created_by == user_key).values(created_by=REMOVED))
            s.execute(
                update(RegisterEntryRow).where(RegisterEntryRow.created_by == user_key).values(created_by=REMOVED)
            )
            s.execute(update(PlanRow).where(PlanRow.created_by == user_key).values(created_by=REMOVED))
            s.execute(update(PlanTaskRow).where(PlanTaskRow.updated_by == user_key).values(updated_by=REMOVED))
            self.audit.record(user_key, "data.erase", "own data", session=s, **counts)  # proof it was done
        return counts

    def purge(self, before: datetime, actor: str = SYSTEM) -> dict[str, int]:
        """The retention period: delete conversations, dialogs, ratings, pilot feedback, event keys and
        sent nudges last touched before `before`; older assessment results lose their author. A purge that
        removed anything leaves an audit entry with the counts (after the old entries are gone)."""
        with self.db.session() as s:
            counts = {
                "messages": s.execute(delete(MessageRow).where(MessageRow.created_at < before)).rowcount,
                "dialogs": s.execute(delete(DialogRow).where(DialogRow.updated_at < before)).rowcount,
                "feedback": s.execute(delete(AnswerFeedbackRow).where(AnswerFeedbackRow.created_at < before)).rowcount,
                "pilot_feedback": s.execute(
                    delete(PilotFeedbackRow).where(PilotFeedbackRow.updated_at < before)
                ).rowcount,
                "deliveries": s.execute(delete(DeliveryRow).where(DeliveryRow.created_at < before)).rowcount,
                "nudges": s.execute(
                    delete(NudgeRow).where(NudgeRow.due_at < before, NudgeRow.status.in_(("sent", "failed", "unknown")))
                ).rowcount,
                "results": s.execute(
                    update(AssessmentResultRow)
                    .where(AssessmentResultRow.created_at < before, AssessmentResultRow.author != REMOVED)
                    .values(author=REMOVED)
                ).rowcount,
                "audit": s.execute(delete(AuditRow).where(AuditRow.at < before)).rowcount,
                "rate_limits": s.execute(delete(RateRow).where(RateRow.expires_at < before)).rowcount,
                "profile_names": s.execute(delete(PersonRow).where(PersonRow.updated_at < before)).rowcount,
            }
            # actions that waited for a Confirm (they expire after minutes; their values are the person's words)
            s.execute(delete(PendingActionRow).where(PendingActionRow.created_at < before))
            removed = {name: count for name, count in counts.items() if count}
            if removed:
                self.audit.record(
                    actor, "data.purge", "retention", session=s, before=before.date().isoformat(), **removed
                )
            return counts
