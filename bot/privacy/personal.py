"""What Lotse stores about one person: counted ("Was speicherst du über mich?"), exported as JSON
("meine Daten"), erased ("lösche meine Daten"), and everyone's purged after the retention period.

Each feature contributes what it keeps (a `bot.storage.personal.PersonalPart`: the shared tables,
assessments, pilots, the register, the plan); this module adds the parts up in one transaction, in the
order a person reads them, and writes the audit entry that proves an erasure or a purge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.core.clock import stamp
from bot.dialogs.personal import DialogsPart
from bot.gaps.personal import GapsPart
from bot.pilots.personal import PilotsPart
from bot.pilots.store import PilotStore
from bot.register.personal import RegisterPart
from bot.reminders.personal import RemindersPart
from bot.storage.audit import SYSTEM, AuditLog
from bot.storage.db import Database
from bot.storage.personal import REMOVED, Person, PersonalPart, SharedPart

__all__ = ["REMOVED", "PersonalData", "parts"]
COUNTS = ("messages", "dialogs", "results", "feedback", "pilot_feedback", "gaps", "profile_name", "audit_entries")
EXPORT = ("user", "profile_name", "notices_shown", "audit_log", "exported_at", "messages", "dialogs",
          "assessment_results", "answer_feedback", "pilot_feedback", "unanswered_questions")  # fmt: skip
ERASED = ("messages", "dialogs", "feedback", "pilot_feedback", "gaps", "results", "profile_name")
PURGED = ("messages", "dialogs", "feedback", "pilot_feedback", "gaps", "deliveries", "nudges", "results", "audit",
          "rate_limits", "profile_names")  # fmt: skip


def parts(pilots: PilotStore | None = None) -> list[PersonalPart]:
    """Every feature's part (the pilots' needs their store: its key lives in the database)."""
    return [SharedPart(), DialogsPart(), PilotsPart(pilots), RegisterPart(), RemindersPart(), GapsPart()]


def _ordered(found: dict, order: Sequence[str]) -> dict:
    return {**{k: found[k] for k in order if k in found}, **{k: v for k, v in found.items() if k not in order}}


class PersonalData:
    def __init__(
        self,
        db: Database,
        pilots: PilotStore | None = None,
        audit: AuditLog | None = None,
        contributions: Sequence[PersonalPart] | None = None,
    ) -> None:
        self.db = db
        self.audit = audit or AuditLog(db)
        self.parts = list(contributions) if contributions is not None else parts(pilots)

    def counts(self, user_key: str, author: str, scope: str) -> dict[str, int]:
        """`user_key` is channel:workspace:user; conversations of the user start with it."""
        who, found = Person(user_key, author, scope), {}
        with self.db.session() as s:
            for part in self.parts:
                found.update(part.count(s, who))
        return _ordered({"pilot_feedback": 0, **found}, COUNTS)

    def export(self, user_key: str, author: str, scope: str) -> dict:
        """Everything stored about the person, as plain data (the JSON of "meine Daten")."""
        who = Person(user_key, author, scope)
        found: dict = {"user": user_key, "exported_at": stamp(datetime.now(UTC))}
        with self.db.session() as s:
            for part in self.parts:
                found.update(part.export(s, who))
        found.setdefault("pilot_feedback", [])
        return _ordered(found, EXPORT)

    def erase(self, user_key: str, author: str, scope: str) -> dict[str, int]:
        """Delete the person's messages, dialogs, ratings, pilot feedback, profile name, notices and rate
        counters; team records they authored (assessment results, pilots, plans, plan tasks, register
        entries) stay, with the author removed. The audit log keeps what they changed (accountability, GDPR
        Art. 5(2) and 17(3)). One transaction."""
        who, counts = Person(user_key, author, scope), {}
        with self.db.session() as s:
            for part in self.parts:
                counts.update(part.erase(s, who))
            counts = _ordered({"pilot_feedback": 0, **counts}, ERASED)
            self.audit.record(user_key, "data.erase", "own data", session=s, **counts)  # proof it was done
        return counts

    def purge(self, before: datetime, actor: str = SYSTEM) -> dict[str, int]:
        """The retention period: delete conversations, dialogs, ratings, pilot feedback, event keys and
        sent nudges last touched before `before`; older assessment results lose their author. A purge that
        removed anything leaves an audit entry with the counts (after the old entries are gone)."""
        counts: dict[str, int] = {}
        with self.db.session() as s:
            for part in self.parts:
                counts.update(part.purge(s, before))
            counts = _ordered(counts, PURGED)
            removed = {name: count for name, count in counts.items() if count}
            if removed:
                self.audit.record(
                    actor, "data.purge", "retention", session=s, before=before.date().isoformat(), **removed
                )
            return counts
