"""The bridge between an async channel (Slack, Teams) and the synchronous core, shared by both.

The core blocks (the database, an LLM), so it runs on executors: `call` on the turn executor, while the
event loop keeps acknowledging, and `quick` on a thread of its own for short reads (dedupe, ratings, "is
a dialog running?") that must not wait behind an LLM turn. The turn executor has `LOTSE_CORE_THREADS`
threads in `lotse serve`: turns of different users overlap (one waits for the database or an LLM while
another computes), one user's never do — a call with a message among its arguments waits until that
user's call before it is over, whatever the conversation, as on the one thread of old. `stream` runs a
turn whose answer is written piece by piece and hands each piece to the channel as it comes (Slack's
chat streams, Teams' streaming typing activities).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.core.messages import Incoming

log = logging.getLogger(__name__)
T = TypeVar("T")


class CoreBridge:
    def __init__(self, executor: ThreadPoolExecutor | None = None) -> None:
        self.executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotse-core")
        self.quick_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotse-quick")
        # the last call of each user that is not over, as a future done when its thread is done with it
        self.askers: dict[str, asyncio.Future] = {}

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """On the turn executor; the request id (a context variable) goes along into the core's thread.
        With a message among `args` (a turn, a rating), after the calls of its user that came before: each
        waits until the one before it is over on its thread — also when that one's caller was cancelled
        (a stop's grace ran out), since a thread cannot be stopped. A cancelled caller itself returns at
        once: what its thread still makes is dropped, never posted."""
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        asker = next((arg.user_key for arg in args if isinstance(arg, Incoming)), None)
        if asker is None:
            return await loop.run_in_executor(self.executor, context.run, function, *args)
        before, over = self.askers.get(asker), loop.create_future()
        self.askers[asker] = over

        def forget(_: asyncio.Future) -> None:
            if self.askers.get(asker) is over:  # nobody came after it
                del self.askers[asker]

        over.add_done_callback(forget)

        def hand_on(_: asyncio.Future) -> None:
            if not over.done():
                over.set_result(None)

        if before is not None:
            try:
                await asyncio.shield(before)
            except asyncio.CancelledError:  # never ran: the next one waits for the one before, as this did
                before.add_done_callback(hand_on)
                raise
        running = loop.run_in_executor(self.executor, context.run, function, *args)
        running.add_done_callback(hand_on)  # the shield keeps `running` from being cancelled with the caller
        return await asyncio.shield(running)

    async def quick(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.quick_executor, function, *args)

    @staticmethod
    async def stream(
        produce: Callable[[Callable[[str], None]], Awaitable[T]], on_piece: Callable[[str], Awaitable[None]]
    ) -> tuple[T, bool]:
        """`produce(on_text)` makes the reply (on an executor), calling `on_text` from its thread with each
        piece of text as it is written; `on_piece` gets the pieces on the event loop, in order. Returns the
        reply and whether every piece was handed on: after `on_piece` fails once, the rest is dropped (the
        channel then shows the whole reply instead). The pieces are all handled before this returns."""
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str | None] = asyncio.Queue()

        async def pump() -> bool:
            while (piece := await pieces.get()) is not None:
                try:
                    await on_piece(piece)
                except Exception as exc:
                    log.warning("streaming a piece failed (%s); the rest is shown at the end", type(exc).__name__)
                    while await pieces.get() is not None:
                        pass
                    return False
            return True

        pumping = asyncio.create_task(pump())
        try:
            reply = await produce(lambda piece: loop.call_soon_threadsafe(pieces.put_nowait, piece))
        finally:
            pieces.put_nowait(None)
            intact = await pumping
        return reply, intact

    def shutdown(self) -> None:
        self.quick_executor.shutdown(wait=False)
