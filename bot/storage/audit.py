"""The audit log: who changed plans, roles, pilots and the AI register, and who exported or erased
data, with the time. Admins read it (`/audit`, `lotse audit`). An entry names fields, counts and ids,
never message text or answers, so the log itself holds no personal data beyond the actor's key."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.models import AuditRow

SYSTEM = "system"  # the actor of what Lotse does by itself (its register entry, the retention period)

# action → (German, English) label; an action not listed here is refused, so typos cannot hide entries
ACTIONS: dict[str, tuple[str, str]] = {
    "plan.start": ("90-Tage-Plan gestartet", "90-day plan started"),
    "plan.change": ("90-Tage-Plan geändert", "90-day plan changed"),
    "plan.stop": ("90-Tage-Plan beendet", "90-day plan stopped"),
    "roles.change": ("Rollen geändert", "roles changed"),
    "pilot.create": ("Pilot angelegt", "pilot created"),
    "pilot.update": ("Pilot geändert", "pilot changed"),
    "pilot.delete": ("Pilot gelöscht", "pilot deleted"),
    "register.add": ("KI-Anwendung registriert", "AI application registered"),
    "register.update": ("KI-Register geändert", "AI register changed"),
    "register.delete": ("KI-Anwendung entfernt", "AI application removed"),
    "faq.add": ("Unternehmens-FAQ: Antwort hinterlegt", "company FAQ: answer added"),
    "faq.update": ("Unternehmens-FAQ: Antwort geändert", "company FAQ: answer changed"),
    "faq.withdraw": ("Unternehmens-FAQ: Antwort zurückgezogen", "company FAQ: answer withdrawn"),
    "document.add": ("Unternehmensdokument aufgenommen", "company document added"),
    "document.remove": ("Unternehmensdokument entfernt", "company document removed"),
    "gaps.state": ("Wissenslücke eingeordnet", "knowledge gap sorted"),
    "data.export": ("Daten exportiert", "data exported"),
    "data.erase": ("Daten gelöscht", "data erased"),
    "data.purge": ("Aufbewahrungsfrist angewandt", "retention period applied"),
}


class AuditLog:
    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.clock = clock

    def record(self, actor: str, action: str, target: str = "", session: Session | None = None, **detail) -> None:
        """Write one entry; inside `session` it commits with the change it describes."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}; add it to bot.storage.audit.ACTIONS")
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else ""
        row = AuditRow(at=self.clock(), actor=actor[:300], action=action, target=str(target)[:300], detail=text)
        if session is not None:
            session.add(row)
            return
        with self.db.session() as s:
            s.add(row)

    def entries(self, limit: int = 50, action: str | None = None, since: datetime | None = None) -> list[AuditRow]:
        """The newest entries first; `action` may be a prefix such as "pilot"."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if action:
            query = query.where(AuditRow.action.startswith(action))
        if since is not None:
            query = query.where(AuditRow.at >= since)
        with self.db.session() as s:
            return list(s.scalars(query))


def label(action: str, language: str) -> str:
    de, en = ACTIONS.get(action, (action, action))
    return en if language == "en" else de
