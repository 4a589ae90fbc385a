"""What the 90-day plan keeps about a person (bot.storage.personal.PersonalPart): who started a plan and
who ticked off a task (both stay, without them), and the nudges sent, purged after the retention period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bot.storage.models import NudgeRow, PlanRow, PlanTaskRow
from bot.storage.personal import REMOVED, Person


class RemindersPart:
    def count(self, s: Session, who: Person) -> dict[str, int]:
        return {}

    def export(self, s: Session, who: Person) -> dict[str, object]:
        return {}

    def erase(self, s: Session, who: Person) -> dict[str, int]:
        s.execute(update(PlanRow).where(PlanRow.created_by == who.user_key).values(created_by=REMOVED))
        s.execute(update(PlanTaskRow).where(PlanTaskRow.updated_by == who.user_key).values(updated_by=REMOVED))
        return {}

    def purge(self, s: Session, before: datetime) -> dict[str, int]:
        sent = NudgeRow.status.in_(("sent", "failed", "unknown"))
        return {"nudges": s.execute(delete(NudgeRow).where(NudgeRow.due_at < before, sent)).rowcount}
