"""The durable inbox: an inbound message that asks for a turn is committed here before Slack or Teams
gets its acknowledgement, and its turn is worked from here (issue 20).

- `record` commits the message, leased to this process, in one INSERT … ON CONFLICT DO NOTHING: the
  unique key is also the dedupe (a retry, or the same event at a second replica, inserts nothing).
  If it raises, nothing was stored, and the channel answers 503 so that Slack delivers again.
- `progress` writes how far the turn got (the reply once it is made, how many of its messages are
  posted) before the next step, so a turn taken over never posts a message twice.
- `claim` takes over items whose lease ran out (the replica that held them died or was stopped):
  oldest first, never one whose conversation has an earlier item still open. On PostgreSQL the rows
  are locked with FOR UPDATE SKIP LOCKED, so two replicas never wait on each other; on both databases
  the UPDATE checks that the lease is still expired (compare and set), so only one replica wins.
- `renew` keeps this process's leases alive while it works; `release` hands them back at a stop.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from bot.storage.db import Database
from bot.storage.models import InboxRow, utcnow

LEASE = 10.0  # seconds an item stays with the replica that holds it without a renewal
KEEP = timedelta(days=2)  # done items are kept this long: their keys turn away Slack's late retries
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class Item:
    id: int
    key: str
    channel: str
    conversation: str
    payload: dict
    progress: dict
    attempts: int
    created_at: datetime


def _item(row: InboxRow) -> Item:
    return Item(row.id, row.key, row.channel, row.conversation, json.loads(row.payload),
                json.loads(row.progress or "{}"), row.attempts, row.created_at)  # fmt: skip


def owner_id() -> str:
    """This process: host, pid and a random part (a restarted process is a new owner)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Inbox:
    def __init__(self, db: Database, owner: str | None = None, lease: float = LEASE) -> None:
        self.db = db
        self.owner = owner or owner_id()
        self.lease = timedelta(seconds=lease)
        insert = _INSERT.get(db.engine.dialect.name)
        if insert is None:
            raise ValueError(f"the inbox needs PostgreSQL or SQLite, not {db.engine.dialect.name}")
        self._record = insert(InboxRow).on_conflict_do_nothing(index_elements=["key"]).returning(InboxRow.id)
        held = (InboxRow.id == bindparam("b_id"), InboxRow.owner == bindparam("b_owner"), InboxRow.state == "leased")
        # built once, run with parameters; the columns to set are the parameters named after them
        self._held = update(InboxRow).where(*held)

    def record(self, key: str, channel: str, conversation: str, payload: dict) -> int | None:
        """Commit a message, leased to this process: its id, or None if its key is already known (a
        repeat: nothing to do). Database errors propagate — nothing was stored."""
        now = utcnow()
        values = {"key": key[:300], "channel": channel, "conversation": conversation[:400],
                  "payload": json.dumps(payload, ensure_ascii=False), "progress": "{}", "state": "leased",
                  "owner": self.owner, "lease_until": now + self.lease, "attempts": 1, "created_at": now,
                  "updated_at": now}  # fmt: skip
        with self.db.autocommit.connect() as connection:
            return connection.execute(self._record, values).scalar()

    def get(self, item_id: int) -> Item | None:
        """The item if this process still holds it (not done, not taken over by another replica)."""
        with self.db.session() as s:
            row = s.get(InboxRow, item_id)
            if row is None or row.state != "leased" or row.owner != self.owner:
                return None
            return _item(row)

    def progress(self, item_id: int, progress: dict) -> bool:
        """Write how far the item's turn got (the whole record: the caller merges); False if this process
        no longer holds the item. One UPDATE."""
        values = {"b_id": item_id, "b_owner": self.owner, "progress": json.dumps(progress, ensure_ascii=False),
                  "updated_at": utcnow()}  # fmt: skip
        with self.db.autocommit.connect() as connection:
            return connection.execute(self._held, values).rowcount == 1

    def finish(self, item_id: int, state: str = "done") -> bool:
        """Mark the item done (or failed). Its message and reply are dropped: only the key stays, for
        the dedupe window, so a finished turn keeps no personal data here. One UPDATE."""
        with self.db.autocommit.connect() as connection:
            values = {"b_id": item_id, "b_owner": self.owner, "state": state, "payload": "{}", "progress": "{}",
                      "updated_at": utcnow()}  # fmt: skip
            result = connection.execute(self._held, values)
            return result.rowcount == 1

    def renew(self) -> int:
        """Extend every lease this process holds; how many."""
        with self.db.session() as s:
            result = s.execute(
                update(InboxRow)
                .where(InboxRow.owner == self.owner, InboxRow.state == "leased")
                .values(lease_until=utcnow() + self.lease)
            )
            return result.rowcount

    def release(self, ids: list[int] | None = None) -> int:
        """Hand leases back at once (a graceful stop): another replica takes them over at its next look."""
        past = utcnow() - timedelta(seconds=1)
        query = update(InboxRow).where(InboxRow.owner == self.owner, InboxRow.state == "leased")
        if ids is not None:
            query = query.where(InboxRow.id.in_(ids))
        with self.db.session() as s:
            return s.execute(query.values(lease_until=past)).rowcount

    def claim(self, limit: int = 8) -> list[Item]:
        """Take over items whose lease ran out, oldest first; an item waits while an earlier item of its
        conversation is still open, so a conversation's turns keep their order."""
        now = utcnow()
        earlier = aliased(InboxRow)
        blocked = exists().where(
            and_(earlier.conversation == InboxRow.conversation, earlier.id < InboxRow.id, earlier.state == "leased")
        )
        query = (
            select(InboxRow.id)
            .where(InboxRow.state == "leased", InboxRow.lease_until < now, ~blocked)
            .order_by(InboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        taken: list[Item] = []
        with self.db.session() as s:
            for item_id in s.scalars(query).all():
                result = s.execute(
                    update(InboxRow)
                    .where(InboxRow.id == item_id, InboxRow.state == "leased", InboxRow.lease_until < now)
                    .values(
                        owner=self.owner, lease_until=now + self.lease, attempts=InboxRow.attempts + 1, updated_at=now
                    )  # fmt: skip
                )
                if result.rowcount == 1:
                    taken.append(_item(s.get(InboxRow, item_id)))
        return taken

    def open_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.state == "leased")) or 0

    def purge(self, now: datetime | None = None) -> int:
        """Forget finished items older than KEEP (their keys no longer need to turn retries away)."""
        cutoff = (now or utcnow()) - KEEP
        with self.db.session() as s:
            return s.execute(delete(InboxRow).where(InboxRow.state != "leased", InboxRow.updated_at < cutoff)).rowcount
