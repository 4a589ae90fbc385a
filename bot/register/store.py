"""The AI register in the database, and its changes in the audit log in the same transaction: a change
that fails leaves no audit entry, and no change is without one.

There is one register per company, not one per Slack workspace or Teams tenant: an AI application is
the company's, whichever chat an admin keeps it from, and the EU AI Act's inventory is the company's.
One Lotse serves one company (one Slack workspace, one Teams tenant, the terminal), so every entry
lives in the scope `COMPANY`; the column stays for a deployment that one day serves several."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlparse

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.core.commands import pick
from bot.dialogs.inputs import add_months
from bot.settings import Settings
from bot.storage.audit import SYSTEM, AuditLog
from bot.storage.db import Database
from bot.storage.models import RegisterEntryRow

COMPANY = "company"
SELF_NAME = "Lotse"
RISK_CLASSES = ("minimal", "limited", "high", "prohibited")  # EU AI Act
STATUSES = ("idea", "pilot", "production", "retired")
# what an entry holds besides its name, in the order of the dialog and the exports
FIELDS = ("purpose", "owner", "model", "provider", "data_sources", "personal_data", "risk_class", "status",
          "next_review")  # fmt: skip
TEXT_LIMITS = {"name": 120, "purpose": 1000, "owner": 200, "model": 200, "provider": 200, "data_sources": 1000}


class NameTaken(ValueError):
    """Another entry of the register has this name (case does not count)."""


@dataclass(frozen=True)
class SelfEntry:
    """What Lotse writes about itself on its first start."""

    purpose: str
    owner: str
    model: str
    provider: str
    data_sources: str
    personal_data: bool
    risk_class: str
    status: str
    next_review: date


def self_entry(settings: Settings, today: date) -> SelfEntry:
    """Lotse's own entry: the model and provider from the LLM settings (the endpoint's host, never a key)."""
    llm = settings.llm
    if llm.enabled:
        host = urlparse(llm.base_url).hostname if llm.base_url else "api.openai.com"
        kind = "Azure OpenAI" if llm.is_azure else "OpenAI-kompatibler Endpunkt"
        where = " (im eigenen Haus betrieben)" if getattr(llm, "local", False) else ""
        model, provider = llm.model, f"{kind}: {host or llm.base_url}{where}"
    else:
        model, provider = "extraktiv (ohne LLM)", "lokal (kein externer Anbieter)"
    return SelfEntry(
        purpose="Chat-Assistent der IT: beantwortet Fragen zur KI-Roadmap mit Quellen, führt Bewertungen durch, "
        "sammelt Pilot-Feedback und erinnert an die Aufgaben des 90-Tage-Plans.",
        owner=settings.register_owner,
        model=model,
        provider=provider,
        data_sources="Wissensbasis (knowledge/), Chat-Nachrichten, Bewertungen, Pilot-Rückmeldungen",
        personal_data=True,  # user ids, messages, feedback
        risk_class="limited",  # a chatbot: transparency duty under Art. 50 EU AI Act
        status="production",
        next_review=add_months(today, 12),
    )


class RegisterStore:
    def __init__(self, db: Database, audit: AuditLog | None = None, scope: str = COMPANY) -> None:
        self.db = db
        self.audit = audit or AuditLog(db)
        self.scope = scope

    # -- reading -------------------------------------------------------------------------------------

    def entries(self) -> list[RegisterEntryRow]:
        """By number of registration: the numbers in `/register` stay when entries are added."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(RegisterEntryRow).where(RegisterEntryRow.scope == self.scope).order_by(RegisterEntryRow.id)
                ).all()
            )

    def get(self, entry_id: int) -> RegisterEntryRow | None:
        with self.db.session() as s:
            row = s.get(RegisterEntryRow, entry_id)
            return row if row is not None and row.scope == self.scope else None

    def find(self, name: str) -> RegisterEntryRow | None:
        """By number (as `/register` lists them), name, or an unambiguous beginning of a name."""
        return pick(self.entries(), name)

    def name_taken(self, name: str, other_than: int | None = None) -> bool:
        query = select(func.count()).where(
            RegisterEntryRow.scope == self.scope, func.lower(RegisterEntryRow.name) == name.strip().lower()
        )
        if other_than is not None:
            query = query.where(RegisterEntryRow.id != other_than)
        with self.db.session() as s:
            return bool(s.scalar(query))

    def due(self, until: date) -> list[RegisterEntryRow]:
        """Entries in use (not retired) whose next review is on or before `until`, the earliest first."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(RegisterEntryRow)
                    .where(
                        RegisterEntryRow.scope == self.scope,
                        RegisterEntryRow.status != "retired",
                        RegisterEntryRow.next_review.is_not(None),
                        RegisterEntryRow.next_review <= until,
                    )
                    .order_by(RegisterEntryRow.next_review, RegisterEntryRow.id)
                ).all()
            )

    # -- changes, each with its audit entry ------------------------------------------------------------

    def add_entry(self, session, actor: str, name: str, **fields) -> RegisterEntryRow:
        """Insert an entry and its audit entry in the caller's transaction (IntegrityError on a taken name)."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown register fields: {', '.join(sorted(unknown))}")
        now = datetime.now(UTC)
        row = RegisterEntryRow(
            scope=self.scope, name=name, created_by=actor[:300], created_at=now, updated_at=now, **fields
        )
        self.audit.record(
            actor, "register.add", name, session=session, fields=[f for f in FIELDS if fields.get(f) not in (None, "")]
        )
        session.add(row)
        session.flush()  # a taken name fails here, and the audit entry goes with it
        return row

    def add(self, actor: str, name: str, **fields) -> RegisterEntryRow:
        if self.name_taken(name):
            raise NameTaken(name)
        try:
            with self.db.session() as s:
                return self.add_entry(s, actor, name, **fields)
        except IntegrityError:  # registered by someone else a moment ago
            raise NameTaken(name) from None

    def update(self, entry_id: int, actor: str, **changes) -> RegisterEntryRow | None:
        """Set fields of an entry (None if it is gone); the audit entry names the fields that changed."""
        unknown = set(changes) - {"name", *FIELDS}
        if unknown:
            raise ValueError(f"unknown register fields: {', '.join(sorted(unknown))}")
        if "name" in changes and self.name_taken(changes["name"], other_than=entry_id):
            raise NameTaken(changes["name"])
        try:
            with self.db.session() as s:
                row = s.get(RegisterEntryRow, entry_id)
                if row is None or row.scope != self.scope:
                    return None
                changed = [f for f, value in changes.items() if getattr(row, f) != value]
                if not changed:
                    return row
                before = row.name
                for field in changed:
                    setattr(row, field, changes[field])
                row.updated_at = datetime.now(UTC)
                self.audit.record(
                    actor,
                    "register.update",
                    before,
                    session=s,
                    fields=changed,
                    **({"renamed_to": row.name} if "name" in changed else {}),
                )
                s.flush()
                return row
        except IntegrityError:
            raise NameTaken(changes.get("name", "")) from None

    def delete(self, entry_id: int, actor: str) -> bool:
        with self.db.session() as s:
            row = s.get(RegisterEntryRow, entry_id)
            if row is None or row.scope != self.scope:
                return False
            self.audit.record(actor, "register.delete", row.name, session=s)
            s.execute(delete(RegisterEntryRow).where(RegisterEntryRow.id == entry_id))
            return True

    def ensure_self(self, settings: Settings, today: date | None = None) -> bool:
        """Lotse registers itself when the register has no entry named "Lotse" yet. Idempotent across
        replicas that start at once: the unique name decides, the loser's insert is dropped. True if
        this call created the entry."""
        if self.find_exact(SELF_NAME) is not None:
            return False
        entry = self_entry(settings, today or date.today())
        try:
            with self.db.session() as s:
                self.add_entry(s, SYSTEM, SELF_NAME, **entry.__dict__)
        except IntegrityError:
            return False
        return True

    def find_exact(self, name: str) -> RegisterEntryRow | None:
        if "\x00" in name:  # no entry has it, and PostgreSQL refuses it as a parameter
            return None
        with self.db.session() as s:
            query = select(RegisterEntryRow).where(
                RegisterEntryRow.scope == self.scope, func.lower(RegisterEntryRow.name) == name.lower()
            )
            return s.scalars(query).first()
