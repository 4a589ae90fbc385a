"""What the pilots keep about a person (bot.storage.personal.PersonalPart): their feedback (found by a
keyed hash of them, `PilotStore.author_key`), and the pilots they registered (which stay, without them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bot.pilots.store import PilotStore
from bot.storage.models import PilotFeedbackRow, PilotRow
from bot.storage.personal import REMOVED, Person


class PilotsPart:
    """`store` finds a person's feedback (its key lives in the database); without it, only the purge and the
    pilots they registered are known."""

    def __init__(self, store: PilotStore | None) -> None:
        self.store = store

    def count(self, s: Session, who: Person) -> dict[str, int]:
        return {"pilot_feedback": (self.store.count_of(s, who.user_key) or 0) if self.store is not None else 0}

    def export(self, s: Session, who: Person) -> dict[str, object]:
        return {"pilot_feedback": self.store.export_of(who.user_key) if self.store is not None else []}

    def erase(self, s: Session, who: Person) -> dict[str, int]:
        erased = self.store.erase(s, who.user_key) if self.store is not None else 0
        s.execute(update(PilotRow).where(PilotRow.created_by == who.user_key).values(created_by=REMOVED))
        return {"pilot_feedback": erased}

    def purge(self, s: Session, before: datetime) -> dict[str, int]:
        return {
            "pilot_feedback": s.execute(delete(PilotFeedbackRow).where(PilotFeedbackRow.updated_at < before)).rowcount
        }
