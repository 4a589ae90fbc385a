"""What the assessments keep about a person (bot.storage.personal.PersonalPart): their dialogs, and the
results they completed for their team (which stay, without their name, when they are erased)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.core.clock import stamp
from bot.storage.models import AssessmentResultRow, DialogRow
from bot.storage.personal import REMOVED, Person


class DialogsPart:
    def _results(self, who: Person):
        return AssessmentResultRow.author == who.author, AssessmentResultRow.scope == who.scope

    def count(self, s: Session, who: Person) -> dict[str, int]:
        mine = DialogRow.conversation.startswith(who.prefix, autoescape=True)
        return {
            "dialogs": s.scalar(select(func.count()).where(mine)) or 0,
            "results": s.scalar(select(func.count()).where(*self._results(who))) or 0,
        }

    def export(self, s: Session, who: Person) -> dict[str, object]:
        mine = DialogRow.conversation.startswith(who.prefix, autoescape=True)
        dialogs = s.scalars(select(DialogRow).where(mine).order_by(DialogRow.id)).all()
        results = s.scalars(
            select(AssessmentResultRow).where(*self._results(who)).order_by(AssessmentResultRow.id)
        ).all()
        return {
            "dialogs": [
                {
                    "assessment": d.assessment,
                    "status": d.status,
                    "answers": json.loads(d.trail),
                    "started_at": stamp(d.started_at),
                    "updated_at": stamp(d.updated_at),
                }
                for d in dialogs
            ],
            "assessment_results": [
                {
                    "assessment": r.assessment,
                    "answers": json.loads(r.answers),
                    "metrics": json.loads(r.metrics),
                    "at": stamp(r.created_at),
                }
                for r in results
            ],
        }

    def erase(self, s: Session, who: Person) -> dict[str, int]:
        mine = DialogRow.conversation.startswith(who.prefix, autoescape=True)
        return {
            "dialogs": s.execute(delete(DialogRow).where(mine)).rowcount,
            "results": s.execute(
                update(AssessmentResultRow).where(*self._results(who)).values(author=REMOVED)
            ).rowcount,
        }

    def purge(self, s: Session, before: datetime) -> dict[str, int]:
        return {
            "dialogs": s.execute(delete(DialogRow).where(DialogRow.updated_at < before)).rowcount,
            "results": s.execute(
                update(AssessmentResultRow)
                .where(AssessmentResultRow.created_at < before, AssessmentResultRow.author != REMOVED)
                .values(author=REMOVED)
            ).rowcount,
        }
