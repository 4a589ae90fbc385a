"""What the gap log keeps about a person (bot.storage.personal.PersonalPart): the questions they asked that
Lotse could not answer, or whose answer they rated 👎 — masked, but theirs. Erased with their data and
purged after the retention period; a group none of whose questions is left goes with them, and a group's
example is always one of the questions still kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.core.clock import stamp
from bot.storage.models import GapGroupRow, GapRow
from bot.storage.personal import Person


class GapsPart:
    def count(self, s: Session, who: Person) -> dict[str, int]:
        return {"gaps": s.scalar(select(func.count()).where(GapRow.user_key == who.user_key)) or 0}

    def export(self, s: Session, who: Person) -> dict[str, object]:
        rows = s.scalars(select(GapRow).where(GapRow.user_key == who.user_key).order_by(GapRow.id)).all()
        return {
            "unanswered_questions": [
                {"question": r.question, "kind": r.kind, "reason": r.reason, "at": stamp(r.created_at)} for r in rows
            ]
        }

    def erase(self, s: Session, who: Person) -> dict[str, int]:
        groups = set(s.scalars(select(GapRow.group_id).where(GapRow.user_key == who.user_key)).all())
        gone = s.execute(delete(GapRow).where(GapRow.user_key == who.user_key)).rowcount or 0
        _tidy(s, groups)
        return {"gaps": gone}

    def purge(self, s: Session, before: datetime) -> dict[str, int]:
        groups = set(s.scalars(select(GapRow.group_id).where(GapRow.created_at < before)).all())
        gone = s.execute(delete(GapRow).where(GapRow.created_at < before)).rowcount or 0
        _tidy(s, groups)
        return {"gaps": gone}


def _tidy(s: Session, groups: set[int]) -> None:
    """Groups that lost questions: gone if none is left, else their example is the oldest one kept."""
    for group_id in groups:
        first = s.scalars(select(GapRow.question).where(GapRow.group_id == group_id).order_by(GapRow.id)).first()
        if first is None:
            s.execute(delete(GapGroupRow).where(GapGroupRow.id == group_id))
        else:
            s.get(GapGroupRow, group_id).example = first
