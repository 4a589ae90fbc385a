"""The durable inbox: an inbound message that asks for a turn is committed here before Slack or Teams
gets its acknowledgement, and its turn is worked from here (issue 20).

- `record` commits the message in one INSERT … ON CONFLICT DO NOTHING, owned by this process: the
  unique key is also the dedupe (a retry, or the same event at a second replica, inserts nothing). If it
  raises, nothing was stored, and the channel answers 503 so that Slack delivers again.
- `progress` writes how far the turn got (the reply once it is made, how many of its messages are
  posted) before the next step, so a turn taken over never posts a message twice; `finish` closes it.
  Both are one UPDATE that only succeeds while this process still owns the item.
- Ownership lasts while the owner is alive: each process renews one heartbeat row (`beat`, every
  second) rather than a lease per item, so a backlog costs no writes. `claim` takes over the open
  items of processes whose heartbeat is older than the lease (they died, or lost the database): oldest
  first, never one whose conversation has an earlier item still open. On PostgreSQL the rows are
  locked with FOR UPDATE SKIP LOCKED, so two replicas never wait on each other; on both databases the
  UPDATE checks that the item still has its old owner (compare and set), so only one replica wins.
- `release` (a graceful stop) marks this process's heartbeat as stale at once: the others take over
  what is left at their next look.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from bot.storage.db import Database
from bot.storage.models import InboxOwnerRow, InboxRow, utcnow

log = logging.getLogger(__name__)

LEASE = 10.0  # seconds without a heartbeat after which a process's items are taken over
KEEP = timedelta(days=2)  # done items are kept this long: their keys turn away Slack's late retries
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
# SQLite: a failed INSERT in autocommit mode wrote nothing, so it can be tried again at once. Seen in CI: a
# single "disk I/O error" under many concurrent connections, gone on the next try; without a second try
# Slack got a 503 for it. On PostgreSQL a lost connection leaves open whether the commit happened: no
# retry there (Slack's own retry comes back to the dedupe key).
_SQLITE_TRIES = (0.0, 0.02, 0.1)


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
    return Item(
        row.id,
        row.key,
        row.channel,
        row.conversation,
        json.loads(row.payload),
        json.loads(row.progress or "{}"),
        row.attempts,
        row.created_at,
    )


def error_text(exc: Exception) -> str:
    """An error's type and message, for a database error the driver's message with SQLite's extended
    error code (which kind of I/O error, say)."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return f"{type(exc).__name__}: {exc}"
    name = getattr(orig, "sqlite_errorname", None)
    return f"{type(exc).__name__}: {orig}{f' ({name})' if name else ''}"


def _io_error(exc: OperationalError) -> bool:
    """SQLite's I/O errors (extended code SQLITE_IOERR_…, message "disk I/O error")."""
    name = str(getattr(exc.orig, "sqlite_errorname", "") or "")
    return name.startswith("SQLITE_IOERR") or "disk I/O error" in str(exc.orig)


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
        self._beat = (
            insert(InboxOwnerRow)
            .values(owner=bindparam("b_owner"), heartbeat=bindparam("b_now"))
            .on_conflict_do_update(index_elements=["owner"], set_={"heartbeat": bindparam("b_now")})
        )
        # built once, run with parameters; the columns to set are the parameters named after them
        self._held = update(InboxRow).where(
            InboxRow.id == bindparam("b_id"), InboxRow.owner == bindparam("b_owner"), InboxRow.state == "open"
        )

    def record(self, key: str, channel: str, conversation: str, payload: dict) -> int | None:
        """Commit a message, owned by this process: its id, or None if its key is already known (a
        repeat: nothing to do). Database errors propagate — nothing was stored."""
        now = utcnow()
        values = {
            "key": key[:300],
            "channel": channel,
            "conversation": conversation[:400],
            "payload": json.dumps(payload, ensure_ascii=False),
            "progress": "{}",
            "state": "open",
            "owner": self.owner,
            "attempts": 1,
            "created_at": now,
            "updated_at": now,
        }
        tries = _SQLITE_TRIES if self.db.engine.dialect.name == "sqlite" else (0.0,)
        for n, pause in enumerate(tries, 1):
            if pause:
                time.sleep(pause)
            try:
                with self.db.autocommit.connect() as connection:
                    return connection.execute(self._record, values).scalar()
            except OperationalError as exc:
                # only an I/O error passes; "database is locked" has already waited its busy_timeout
                if n == len(tries) or not _io_error(exc):
                    raise
                log.warning("could not record %s (%s), trying again", key, error_text(exc))
        raise AssertionError("unreachable")

    def beat(self, at: datetime | None = None) -> None:
        """This process is alive (one upsert of its heartbeat row)."""
        with self.db.autocommit.connect() as connection:
            connection.execute(self._beat, {"b_owner": self.owner, "b_now": at or utcnow()})

    def get(self, item_id: int) -> Item | None:
        """The item if this process still owns it (not done, not taken over by another replica)."""
        with self.db.session() as s:
            row = s.get(InboxRow, item_id)
            if row is None or row.state != "open" or row.owner != self.owner:
                return None
            return _item(row)

    def progress(self, item_id: int, progress: dict) -> bool:
        """Write how far the item's turn got (the whole record: the caller merges); False if this process
        no longer owns the item. One UPDATE."""
        record = json.dumps(progress, ensure_ascii=False, separators=(",", ":"))
        values = {"b_id": item_id, "b_owner": self.owner, "progress": record, "updated_at": utcnow()}
        with self.db.autocommit.connect() as connection:
            return connection.execute(self._held, values).rowcount == 1

    def finish(self, item_id: int, state: str = "done") -> bool:
        """Mark the item done (or failed). Its message and reply are dropped: only the key stays, for
        the dedupe window, so a finished turn keeps no personal data here. One UPDATE."""
        values = {
            "b_id": item_id,
            "b_owner": self.owner,
            "state": state,
            "payload": "{}",
            "progress": "{}",
            "updated_at": utcnow(),
        }
        with self.db.autocommit.connect() as connection:
            return connection.execute(self._held, values).rowcount == 1

    def release(self) -> int:
        """A graceful stop: this process's heartbeat goes stale at once, so the other replicas take over
        its open items at their next look; how many items that leaves them."""
        self.beat(_LONG_AGO)
        with self.db.session() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(InboxRow)
                    .where(InboxRow.state == "open", InboxRow.owner == self.owner)
                )
                or 0
            )

    def claim(self, limit: int = 16) -> list[Item]:
        """Take over open items of processes whose heartbeat is older than the lease (or that have none),
        oldest first; an item waits while an earlier item of its conversation is still open, so a
        conversation's turns keep their order."""
        now = utcnow()
        stale = now - self.lease
        earlier = aliased(InboxRow)
        blocked = exists().where(
            and_(earlier.conversation == InboxRow.conversation, earlier.id < InboxRow.id, earlier.state == "open")
        )
        alive = select(InboxOwnerRow.owner).where(InboxOwnerRow.heartbeat >= stale).scalar_subquery()
        query = (
            select(InboxRow.id, InboxRow.owner)
            .where(InboxRow.state == "open", InboxRow.owner != self.owner, ~InboxRow.owner.in_(alive), ~blocked)
            .order_by(InboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        taken: list[Item] = []
        with self.db.session() as s:
            for item_id, old_owner in s.execute(query).all():
                result = s.execute(
                    update(InboxRow)
                    .where(InboxRow.id == item_id, InboxRow.owner == old_owner, InboxRow.state == "open")
                    .values(owner=self.owner, attempts=InboxRow.attempts + 1, updated_at=now)
                )
                if result.rowcount == 1:
                    taken.append(_item(s.get(InboxRow, item_id)))
        return taken

    def open_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.state == "open")) or 0

    def purge(self, now: datetime | None = None) -> int:
        """Forget finished items older than KEEP (their keys no longer need to turn retries away), and
        processes silent as long that own nothing open."""
        cutoff = (now or utcnow()) - KEEP
        owning = select(InboxRow.owner).where(InboxRow.state == "open")
        with self.db.session() as s:
            s.execute(delete(InboxOwnerRow).where(InboxOwnerRow.heartbeat < cutoff, ~InboxOwnerRow.owner.in_(owning)))
            return s.execute(delete(InboxRow).where(InboxRow.state != "open", InboxRow.updated_at < cutoff)).rowcount
