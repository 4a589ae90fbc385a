"""The durable inbox (bot/storage/inbox.py), on SQLite and PostgreSQL: a message is stored once, owned
by the process that received it while its heartbeat is fresh, taken over when the heartbeat goes stale —
by one replica only, oldest first, never ahead of an earlier turn of its conversation — and its progress
survives the takeover."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from bot.storage.db import Database
from bot.storage.inbox import KEEP, Inbox
from bot.storage.models import InboxOwnerRow, InboxRow, utcnow


def payload(text: str) -> dict:
    return {"incoming": {"text": text, "user": "U1"}, "channel": "D1", "thread": None}


def silent(inbox: Inbox) -> None:
    """The process behind `inbox` stopped renewing its heartbeat a while ago (it died)."""
    inbox.beat(utcnow() - inbox.lease - timedelta(seconds=1))


def test_a_message_is_recorded_once_and_owned_by_the_replica_that_received_it(db):
    one, two = Inbox(db, "one"), Inbox(db, "two")
    one.beat()
    first = one.record("slack:T:D1:1.1", "slack", "c1", payload("Hallo"))
    assert first is not None
    assert two.record("slack:T:D1:1.1", "slack", "c1", payload("Hallo")) is None  # Slack's retry, elsewhere
    assert one.get(first).payload["incoming"]["text"] == "Hallo"
    assert two.get(first) is None  # not its own
    assert two.claim() == []  # its owner is alive


def test_a_silent_owners_item_is_taken_over_with_its_progress_and_the_old_owner_is_locked_out(db):
    one, two = Inbox(db, "one"), Inbox(db, "two")
    item = one.record("k1", "slack", "c1", payload("Frage"))
    assert one.progress(item, {"reply": {"text": "Antwort"}, "posted": 1})
    silent(one)
    [taken] = two.claim()
    assert (taken.id, taken.attempts, taken.progress) == (item, 2, {"reply": {"text": "Antwort"}, "posted": 1})
    assert not one.progress(item, {"posted": 2}) and not one.finish(item)  # the first replica woke up: too late
    assert two.finish(item) and two.claim() == [] and two.open_count() == 0
    with db.session() as s:
        row = s.scalar(select(InboxRow).where(InboxRow.id == item))
        assert (row.payload, row.progress) == ("{}", "{}")  # a finished turn keeps no message text


def test_takeover_keeps_a_conversations_order(db):
    dead, two = Inbox(db, "dead"), Inbox(db, "two")
    a1 = dead.record("a1", "slack", "conv-a", payload("1"))
    a2 = dead.record("a2", "slack", "conv-a", payload("2"))
    b1 = dead.record("b1", "slack", "conv-b", payload("x"))
    silent(dead)
    assert [i.id for i in two.claim()] == [a1, b1]  # a2 waits for a1
    assert two.finish(a1)
    assert [i.id for i in two.claim()] == [a2]


def test_a_beating_owner_keeps_its_items_and_a_released_one_hands_them_over_at_once(db):
    one, two = Inbox(db, "one", lease=0.5), Inbox(db, "two", lease=0.5)
    item = one.record("k", "teams", "c", payload("x"))
    one.beat()
    time.sleep(0.3)
    one.beat()
    time.sleep(0.3)
    assert two.claim() == []  # 0.6 s after recording, but the heartbeat is fresh
    assert one.release() == 1
    assert [i.id for i in two.claim()] == [item]


def test_two_replicas_claiming_at_once_take_each_item_once(db):
    dead = Inbox(db, "dead")
    ids = [dead.record(f"k{n}", "slack", f"c{n}", payload(str(n))) for n in range(40)]
    silent(dead)
    taken: dict[str, list[int]] = {"one": [], "two": []}

    def claim(name: str) -> None:
        inbox = Inbox(db, name)
        inbox.beat()
        while batch := inbox.claim(limit=3):
            taken[name].extend(i.id for i in batch)

    threads = [threading.Thread(target=claim, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken["one"] + taken["two"]) == ids  # each once, none lost


def test_finished_items_and_long_silent_processes_are_purged(db):
    owning, idle = Inbox(db, "owning"), Inbox(db, "idle")
    long_ago = utcnow() - KEEP - timedelta(days=1)
    owning.beat(long_ago)
    idle.beat(long_ago)
    done = owning.record("old", "slack", "c", payload("x"))
    owning.finish(done)
    owning.record("open", "slack", "c2", payload("y"))
    assert owning.purge(utcnow() + KEEP + timedelta(minutes=1)) == 1
    assert owning.record("old", "slack", "c", payload("x")) is not None  # after the window the key is free
    with db.session() as s:
        assert list(s.scalars(select(InboxOwnerRow.owner))) == ["owning"]  # it owns an open item: kept


def failing_inserts(inbox: Inbox, times: int, message: str = "disk I/O error"):
    """The inbox's next `times` INSERTs fail in the driver, as a transient SQLite I/O error does (none
    can be caused on purpose here); what was tried is listed."""
    tried = []

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO INBOX "):
            tried.append(statement)
            if len(tried) <= times:
                raise sqlite3.OperationalError(message)

    event.listen(inbox.db.autocommit, "before_cursor_execute", fail)
    return tried


def test_a_transient_sqlite_error_while_recording_is_tried_again_and_stores_the_message_once(sqlite_url, caplog):
    db = Database(sqlite_url)
    inbox = Inbox(db, "one")
    tried = failing_inserts(inbox, times=2)
    item = inbox.record("slack:T:D1:2.1", "slack", "c1", payload("Hallo"))
    assert item is not None and len(tried) == 3
    assert inbox.get(item).payload["incoming"]["text"] == "Hallo"
    with db.session() as s:
        assert len(s.scalars(select(InboxRow).where(InboxRow.key == "slack:T:D1:2.1")).all()) == 1
    assert "disk I/O error" in caplog.text and "trying again" in caplog.text


def test_a_lasting_sqlite_error_is_raised_so_that_nothing_is_acknowledged(sqlite_url):
    inbox = Inbox(Database(sqlite_url), "one")
    tried = failing_inserts(inbox, times=10)
    with pytest.raises(OperationalError, match="disk I/O error"):
        inbox.record("slack:T:D1:2.2", "slack", "c1", payload("Hallo"))
    assert len(tried) == 3


async def test_a_worker_stopped_twice_hands_back_once_and_logs_no_failure(sqlite_url, caplog):
    from bot.channels.worker import InboxWorker

    worker = InboxWorker(Inbox(Database(sqlite_url), "one"))
    await worker.start()
    worker.inbox.record("slack:T:D1:3.1", "slack", "c1", payload("Hallo"))  # recorded, not worked: open
    assert await worker.stop(0) == 1  # the SIGTERM path …
    assert await worker.stop(0) == 1  # … then the server's cleanup: nothing more
    assert "could not hand back" not in caplog.text


async def test_a_connection_that_cannot_be_opened_at_start_neither_stops_nor_holds_up_the_worker(sqlite_url, caplog):
    """The intake's and inbox's connections are opened at start; one that fails leaves the pool cold (the
    first events open what is missing), and the threads waiting for it stop waiting at once."""
    from bot.channels.worker import InboxWorker

    worker = InboxWorker(Inbox(Database(sqlite_url), "one"))
    engine, opened = worker.inbox.db.autocommit, []
    connect = engine.connect

    def failing_connect():
        opened.append(threading.current_thread().name)
        if len(opened) == 2:  # one of the four threads, while the others hold theirs
            raise OperationalError("connect", {}, sqlite3.OperationalError("unable to open database file"))
        return connect()

    engine.connect = failing_connect
    started = time.monotonic()
    await worker.start()
    assert time.monotonic() - started < 2  # not the barrier's 5 s
    assert "could not open the inbox's connections at start (OperationalError)" in caplog.text
    del engine.connect
    item = worker.inbox.record("slack:T:D1:4.1", "slack", "c1", payload("Hallo"))
    assert worker.inbox.get(item) is not None
    await worker.stop(0)


async def test_a_stop_whose_grace_ran_out_lets_a_reply_that_is_going_out_finish_and_cancels_the_rest(sqlite_url):
    """A turn cut off between a message sent and the record that says so would be posted again by the
    replica that takes it over; a turn that has posted nothing yet is handed over."""
    import asyncio

    from bot.channels.worker import InboxWorker

    worker = InboxWorker(Inbox(Database(sqlite_url), "one"))
    await worker.start()
    sending, thinking, done = asyncio.Event(), asyncio.Event(), []

    async def turn(item) -> None:
        if item.payload["text"] == "posting":
            async with worker.posting():
                sending.set()
                await asyncio.sleep(0.3)  # Slack takes its time to answer the post
                await worker.finish(item)
                done.append(item.payload["text"])
        else:
            thinking.set()
            await asyncio.sleep(30)  # an LLM that takes long
            done.append(item.payload["text"])

    worker.register("slack", turn, lambda item: asyncio.sleep(0))
    for n, text in enumerate(("posting", "thinking")):
        worker.submit(worker.inbox.record(f"slack:T:D{n}:3.1", "slack", f"c{n}", {"text": text}))
    await asyncio.wait_for(asyncio.gather(sending.wait(), thinking.wait()), 5)
    assert await worker.stop(0) == 1  # the thinking turn, handed back; the posting one finished
    assert done == ["posting"]
