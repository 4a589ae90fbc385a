"""What the AI register keeps about a person (bot.storage.personal.PersonalPart): who entered an
application — the entry stays, without them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.storage.models import RegisterEntryRow
from bot.storage.personal import REMOVED, Person


class RegisterPart:
    def count(self, s: Session, who: Person) -> dict[str, int]:
        return {}

    def export(self, s: Session, who: Person) -> dict[str, object]:
        return {}

    def erase(self, s: Session, who: Person) -> dict[str, int]:
        s.execute(
            update(RegisterEntryRow).where(RegisterEntryRow.created_by == who.user_key).values(created_by=REMOVED)
        )
        return {}

    def purge(self, s: Session, before: datetime) -> dict[str, int]:
        return {}
