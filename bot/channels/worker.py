"""Works the turns of the durable inbox (bot/storage/inbox.py) in a `lotse serve` process.

A channel records a message in the inbox before it acknowledges it and hands the item's id to
`submit`; the worker runs the channel's handler for it. Turns of one conversation run one after another
in arrival order; turns of different conversations overlap (on the core's threads, and while replies
of others are posted; one user's turns take the core one at a time, bot/channels/bridge.py). Besides,
at every `POLL` the worker renews this process's heartbeat and takes over the items of processes whose
heartbeat went stale (they died, or lost the database for longer than the lease).

While the database is away, a turn that fails on it is tried again every `RETRY` seconds until the
database answers; before a turn starts and before each step, the worker checks that the item is still
its own (another replica may have taken it over meanwhile), so no reply is made or posted twice.
A turn that fails for another reason gets the user a short apology, once, and is marked failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from bot import metrics
from bot.storage.inbox import Inbox, Item

log = logging.getLogger(__name__)
POLL = 1.0  # seconds between heartbeats, and between looks for the items of silent processes
RETRY = 0.25  # seconds between tries of a turn while the database is away
POSTING = 10.0  # seconds a stop still gives turns that are posting their reply (after the grace)
CONCURRENT = 64  # turns in flight at once (most of them wait for the core's threads or for Slack)
DATABASE_AWAY = (OperationalError, InterfaceError)

Handler = Callable[[Item], Awaitable[None]]


class TakenOver(Exception):
    """Another replica holds the item now: this one stops working on it."""


class InboxWorker:
    def __init__(self, inbox: Inbox, poll: float = POLL) -> None:
        self.inbox = inbox
        self.poll = poll
        self.handlers: dict[str, Handler] = {}
        self.apologies: dict[str, Callable[[Item], Awaitable[None]]] = {}
        self.draining = False
        self._chains: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # conversation → (lock, [users])
        self._running: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(CONCURRENT)
        self._watch: asyncio.Task | None = None
        self._beaten = 0.0  # when this process last renewed its heartbeat (time.monotonic)
        # the inbox's statements run on two threads of their own, never behind a turn: few connections, and
        # few threads to share the GIL with the core's. Recording before an ack (`intake`) has two more, so
        # that Slack's ack never waits behind a flood's progress and finish writes
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lotse-inbox")
        self._intake = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lotse-intake")
        # the heartbeat has a thread of its own: queued behind a flood's writes it could go stale, and the
        # other replicas would take over turns this live process is still working
        self._heart = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotse-heartbeat")
        self._stopped: int | None = None  # what `stop` handed back, once it has run
        # progress as this process knows it: a step done while the database was away (a message posted,
        # then the write saying so failed) is not done again when the turn is tried again
        self._known: dict[int, dict] = {}
        self._posting: set[asyncio.Task] = set()  # turns between their first message out and their finish

    def register(self, channel: str, handler: Handler, apology: Callable[[Item], Awaitable[None]]) -> None:
        self.handlers[channel] = handler
        self.apologies[channel] = apology

    async def call(self, function: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)

    async def intake(self, function: Callable, *args: Any) -> Any:
        """A message recorded before its ack: on the intake's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._intake, function, *args)

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Say this process is alive before it records anything (else its first items would look like a
        dead process's), then keep saying so."""
        try:
            await self.beat()
        except DATABASE_AWAY as exc:
            log.warning("could not renew the inbox heartbeat at start (%s); trying again every second", exc)
        else:
            await self._prime()
        self._watch = asyncio.get_running_loop().create_task(self._watching(), name="lotse-inbox-watch")

    async def _prime(self) -> None:
        """Start the intake's and the inbox's threads, each with a database connection of its own, before
        the first event: opened at once by a burst of events, they held up the first acks for 0.2–0.4 s."""
        threads = [self._intake] * 2 + [self._threads] * 2
        barrier = threading.Barrier(len(threads))

        def connected() -> None:
            try:
                with self.inbox.db.autocommit.connect():
                    barrier.wait(timeout=5)  # every thread holds a connection at once: the pool keeps them all
            except Exception:
                barrier.abort()  # the others stop waiting at once
                raise

        loop = asyncio.get_running_loop()
        outcomes = await asyncio.gather(
            *(loop.run_in_executor(executor, connected) for executor in threads), return_exceptions=True
        )
        if failed := [
            o for o in outcomes if isinstance(o, Exception) and not isinstance(o, threading.BrokenBarrierError)
        ]:
            # a cold pool is slower, not broken: the first events open what is missing
            log.warning("could not open the inbox's connections at start (%s)", type(failed[0]).__name__)

    async def stop(self, grace: float) -> int:
        """Stop taking work, let the turns in flight finish within `grace` seconds, then hand back what
        is left (another replica takes it over at once); how many items were handed back. The heartbeat
        goes on while the turns finish (the grace may be longer than the lease: without it the others
        would take over turns still being worked here); draining stops the takeovers. Stopping again
        (the SIGTERM path, then the server's cleanup) does nothing more."""
        if self._stopped is not None:
            return self._stopped
        self.draining = True
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=max(grace, 0.0))
            posting = pending & self._posting  # a reply going out: cut off, it would be posted again
            for task in pending - posting:  # the rest has posted nothing yet: the next replica makes it
                task.cancel()
            if posting:
                _, late = await asyncio.wait(posting, timeout=POSTING)
                for task in late:
                    task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        released = 0
        try:
            released = await self.call(self.inbox.release)
        except Exception as exc:  # the database is away (or gone): the heartbeat goes stale by itself
            log.warning(
                "could not hand back the inbox's turns (%s); they are taken over when the heartbeat is stale",
                type(exc).__name__,
            )
        if released:
            log.warning("handed back %d unfinished turn(s) to the other replicas", released)
        self._threads.shutdown(wait=False)  # nothing is recorded after the stop (draining answers 503)
        self._intake.shutdown(wait=False)
        self._heart.shutdown(wait=False)
        self._stopped = released
        return released

    # -- work -------------------------------------------------------------------------------------

    async def record(self, item: Item | int, **changes) -> None:
        """Note a turn's progress here, then in the inbox; TakenOver if another replica holds the item."""
        item_id = item if isinstance(item, int) else item.id
        known = self._known.setdefault(item_id, {} if isinstance(item, int) else dict(item.progress))
        known.update(changes)
        if not await self.call(self.inbox.progress, item_id, dict(known)):
            raise TakenOver

    def note(self, item: Item | int, **changes) -> None:
        """Note a turn's progress here only: the step after it is `finish`, and if that fails on the
        database the retry in this process starts from here (the last message is not posted again)."""
        item_id = item if isinstance(item, int) else item.id
        self._known.setdefault(item_id, {} if isinstance(item, int) else dict(item.progress)).update(changes)

    async def finish(self, item: Item | int, state: str = "done") -> None:
        item_id = item if isinstance(item, int) else item.id
        if not await self.call(self.inbox.finish, item_id, state):
            raise TakenOver
        self._known.pop(item_id, None)

    @contextlib.asynccontextmanager
    async def posting(self):
        """Around a turn's messages going out and its finish: a stop whose grace ran out lets this part end
        (for up to `POSTING` seconds more) instead of cancelling it between a message sent and the record
        that says so, after which the replica taking the turn over would post that message again."""
        task = asyncio.current_task()
        self._posting.add(task)
        try:
            yield
        finally:
            self._posting.discard(task)

    def submit(self, item_id: int, item: Item | None = None) -> None:
        """Work an item this process recorded (`item`: as recorded, saving a read)."""
        self._spawn(item_id, item)

    def _spawn(self, item_id: int, item: Item | None) -> None:
        task = asyncio.get_running_loop().create_task(self._work(item_id, item))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _work(self, item_id: int, item: Item | None) -> None:
        try:
            async with self._slots:
                if item is None or self._may_have_lost_items():
                    item = await self._hold(item_id)
                    if item is None:
                        return  # taken over by another replica, or finished
                async with self.in_order(item.conversation):
                    await self._turn(item)
        finally:
            self._known.pop(item_id, None)

    @contextlib.asynccontextmanager
    async def in_order(self, conversation: str):
        """One turn of a conversation at a time in this process — inbox turns and button clicks alike —
        so that replies are posted in the order they were made (a second click on an old button is
        answered after the first click's reply, not before it)."""
        lock, users = self._chains.setdefault(conversation, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:  # nobody holds or waits for it: forget the conversation
                self._chains.pop(conversation, None)

    def _may_have_lost_items(self) -> bool:
        """Whether this process's heartbeat may look stale to the others (it could not renew it for half
        a lease): then they may have taken its items over, and each is checked before its turn."""
        return time.monotonic() - self._beaten > self.inbox.lease.total_seconds() / 2

    async def _hold(self, item_id: int) -> Item | None:
        """The item, if it is still this process's (the database is waited for), with what this process
        knows of its progress."""
        while True:
            try:
                item = await self.call(self.inbox.get, item_id)
            except DATABASE_AWAY:
                await asyncio.sleep(RETRY)
                continue
            if item is None or item_id not in self._known:
                return item
            return dataclasses.replace(item, progress={**item.progress, **self._known[item_id]})

    async def _turn(self, item: Item) -> None:
        handler = self.handlers.get(item.channel)
        if handler is None:
            log.error("no channel %r to work inbox item %d", item.channel, item.id)
            return
        started = time.monotonic()
        while True:
            try:
                await handler(item)
                metrics.INBOX_TURNS.labels(item.channel, "done").inc()
                return
            except TakenOver:
                log.info("inbox item %d was taken over by another replica", item.id)
                return
            except DATABASE_AWAY as exc:
                if self.draining:
                    return  # handed back at the stop
                if time.monotonic() - started < 1.0 or int(time.monotonic() - started) % 10 == 0:
                    log.warning("the database is away (%s): turn %d waits", type(exc).__name__, item.id)
                await asyncio.sleep(RETRY)
                while self._may_have_lost_items() and not self.draining:
                    # the others may think this process dead: say it is alive before looking whether the
                    # item is still its own, so that no turn is made here and there
                    with contextlib.suppress(*DATABASE_AWAY):
                        await self.beat()
                        break
                    await asyncio.sleep(RETRY)
                fresh = await self._hold(item.id)
                if fresh is None:
                    return  # taken over meanwhile
                item = fresh
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("turn %d failed", item.id)
                metrics.INBOX_TURNS.labels(item.channel, "failed").inc()
                await self._give_up(item)
                return

    async def _give_up(self, item: Item) -> None:
        """A short apology to the user, once (the item is marked failed first: never twice)."""
        while True:
            try:
                if not await self.call(self.inbox.finish, item.id, "failed"):
                    return  # another replica took it over meanwhile
                break
            except DATABASE_AWAY:
                if self.draining:
                    return  # left open: another replica takes it over
                await asyncio.sleep(RETRY)
        with contextlib.suppress(Exception):
            await self.apologies[item.channel](item)

    async def beat(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._heart, self.inbox.beat)
        self._beaten = time.monotonic()

    async def _watching(self) -> None:
        """Renew this process's heartbeat; take over the items of processes whose heartbeat went stale."""
        while True:
            try:
                await self.beat()
                if not self.draining:
                    for item in await self.call(self.inbox.claim):
                        log.warning("took over turn %d of %s (attempt %d)", item.id, item.channel, item.attempts)
                        self._spawn(item.id, item)
            except DATABASE_AWAY as exc:
                log.debug("inbox watch: database away (%s)", type(exc).__name__)
            except Exception:
                log.exception("inbox watch failed")
            await asyncio.sleep(self.poll)
