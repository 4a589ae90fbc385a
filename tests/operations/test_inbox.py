"""The durable inbox (bot/storage/inbox.py), on SQLite and PostgreSQL: a message is stored once, held
under a lease, taken over when the lease runs out — by one replica only, oldest first, never ahead of
an earlier turn of its conversation — and its progress survives the takeover."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import update

from bot.storage.inbox import KEEP, Inbox
from bot.storage.models import InboxRow, utcnow


def payload(text: str) -> dict:
    return {"incoming": {"text": text, "user": "U1"}, "channel": "D1", "thread": None}


def expire(db, item_id: int) -> None:
    with db.session() as s:
        s.execute(update(InboxRow).where(InboxRow.id == item_id).values(lease_until=utcnow() - timedelta(seconds=1)))


def test_a_message_is_recorded_once_and_held_by_the_replica_that_received_it(db):
    one, two = Inbox(db, "one"), Inbox(db, "two")
    first = one.record("slack:T:D1:1.1", "slack", "c1", payload("Hallo"))
    assert first is not None
    assert two.record("slack:T:D1:1.1", "slack", "c1", payload("Hallo")) is None  # Slack's retry, elsewhere
    assert one.get(first).payload["incoming"]["text"] == "Hallo"
    assert two.get(first) is None  # not its own
    assert two.claim() == []  # the lease has not run out


def test_an_expired_lease_is_taken_over_with_its_progress_and_the_old_holder_is_locked_out(db):
    one, two = Inbox(db, "one"), Inbox(db, "two")
    item = one.record("k1", "slack", "c1", payload("Frage"))
    assert one.progress(item, {"reply": {"text": "Antwort"}, "posted": 1})
    expire(db, item)
    [taken] = two.claim()
    assert (taken.id, taken.attempts, taken.progress) == (item, 2, {"reply": {"text": "Antwort"}, "posted": 1})
    assert not one.progress(item, {"posted": 2}) and not one.finish(item)  # the first replica woke up: too late
    assert two.finish(item) and two.claim() == [] and two.open_count() == 0


def test_takeover_keeps_a_conversations_order(db):
    one, two = Inbox(db, "one"), Inbox(db, "two")
    a1 = one.record("a1", "slack", "conv-a", payload("1"))
    a2 = one.record("a2", "slack", "conv-a", payload("2"))
    b1 = one.record("b1", "slack", "conv-b", payload("x"))
    for item in (a1, a2, b1):
        expire(db, item)
    assert [i.id for i in two.claim()] == [a1, b1]  # a2 waits for a1
    assert two.finish(a1)
    assert [i.id for i in two.claim()] == [a2]


def test_a_renewed_lease_is_not_taken_and_a_released_one_at_once(db):
    one, two = Inbox(db, "one", lease=0.5), Inbox(db, "two")
    item = one.record("k", "teams", "c", payload("x"))
    time.sleep(0.6)
    assert one.renew() == 1
    assert two.claim() == []
    assert one.release() == 1
    assert [i.id for i in two.claim()] == [item]


def test_two_replicas_claiming_at_once_take_each_item_once(db):
    recorder = Inbox(db, "dead")
    ids = [recorder.record(f"k{n}", "slack", f"c{n}", payload(str(n))) for n in range(40)]
    for item in ids:
        expire(db, item)
    taken: dict[str, list[int]] = {"one": [], "two": []}

    def claim(name: str) -> None:
        inbox = Inbox(db, name)
        while batch := inbox.claim(limit=3):
            taken[name].extend(i.id for i in batch)

    threads = [threading.Thread(target=claim, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken["one"] + taken["two"]) == ids  # each once, none lost


def test_finished_items_are_purged_after_the_dedupe_window(db):
    inbox = Inbox(db, "one")
    done = inbox.record("old", "slack", "c", payload("x"))
    inbox.finish(done)
    open_item = inbox.record("open", "slack", "c2", payload("y"))
    assert inbox.purge(utcnow() + KEEP + timedelta(minutes=1)) == 1
    assert inbox.get(open_item) is not None
    assert inbox.record("old", "slack", "c", payload("x")) is not None  # after the window the key is free
