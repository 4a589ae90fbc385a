"""Actions asked for in plain words that change something wait here for their requester's Confirm
(issue 22). A pending action belongs to one conversation key (channel:workspace:user:conversation), so
only the person who asked can confirm it; it is taken once (compare-and-set on its state), and it expires.
A newer proposal in the same conversation replaces the older one."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.storage.db import Database
from bot.storage.models import PendingActionRow, utcnow

LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class Pending:
    token: str
    action: str
    arguments: dict
    command: str
    language: str


class PendingActions:
    def __init__(self, db: Database, clock=utcnow) -> None:
        self.db = db
        self.clock = clock

    def propose(
        self, conversation: str, action: str, arguments: dict, command: str, language: str, state: str = "pending"
    ) -> Pending:
        """`state`: "pending" waits for a Confirm; "asking" for a value the request lacked (a start date)."""
        now = self.clock()
        token = secrets.token_hex(8)
        with self.db.session() as s:
            s.execute(
                update(PendingActionRow)
                .where(PendingActionRow.conversation == conversation, PendingActionRow.state.in_(("pending", "asking")))
                .values(state="replaced")
            )
            s.add(
                PendingActionRow(
                    token=token,
                    conversation=conversation,
                    action=action,
                    arguments=json.dumps(arguments, ensure_ascii=False, default=str),
                    command=command,
                    language=language,
                    state=state,
                    created_at=now,
                    expires_at=now + LIFETIME,
                )
            )
        return Pending(token, action, arguments, command, language)

    def open(self, conversation: str, state: str = "pending") -> Pending | None:
        """The conversation's pending action (or the one `state` "asking" for a value), if it has not expired."""
        with self.db.session() as s:
            row = s.scalars(
                select(PendingActionRow)
                .where(PendingActionRow.conversation == conversation, PendingActionRow.state == state)
                .order_by(PendingActionRow.id.desc())
                .limit(1)
            ).first()
            if row is None or _aware(row.expires_at) <= self.clock():
                return None
            return _pending(row)

    def take(self, conversation: str, token: str, state: str, was: str = "pending") -> Pending | None:
        """Mark the pending action `token` of this conversation done or cancelled and return it; None if it
        is not this conversation's, was taken already, was replaced or expired."""
        now = self.clock()
        with self.db.session() as s:
            row = s.scalars(select(PendingActionRow).where(PendingActionRow.token == token)).first()
            if row is None or row.conversation != conversation or _aware(row.expires_at) <= now:
                return None
            taken = s.execute(
                update(PendingActionRow)
                .where(PendingActionRow.id == row.id, PendingActionRow.state == was)
                .values(state=state)
            ).rowcount
            return _pending(row) if taken == 1 else None

    def purge(self, before: datetime) -> int:
        """Forget proposals older than `before` (the retention period)."""
        from sqlalchemy import delete

        with self.db.session() as s:
            return s.execute(delete(PendingActionRow).where(PendingActionRow.created_at < before)).rowcount or 0


def _pending(row: PendingActionRow) -> Pending:
    return Pending(row.token, row.action, json.loads(row.arguments or "{}"), row.command, row.language)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
