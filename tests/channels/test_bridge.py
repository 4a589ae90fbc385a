"""The bridge to the core's threads: turns of different users run at once, one user's one after another."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.channels.bridge import CoreBridge
from bot.core.messages import Incoming


def message(user: str, conversation: str = "D1") -> Incoming:
    return Incoming(text="hallo", user=user, channel="slack", workspace="T1", conversation=conversation)


async def test_turns_of_different_users_overlap_on_the_cores_threads():
    bridge = CoreBridge(ThreadPoolExecutor(max_workers=2))
    second_started = threading.Event()

    def first(_incoming):  # waits for the other user's turn: on one thread this would never end
        return second_started.wait(timeout=5)

    def second(_incoming):
        second_started.set()
        return True

    results = await asyncio.gather(bridge.call(first, message("U1")), bridge.call(second, message("U2")))
    assert results == [True, True]


async def test_one_users_turns_run_one_after_another_even_in_different_conversations():
    bridge = CoreBridge(ThreadPoolExecutor(max_workers=4))
    spans: list[tuple[str, float, float]] = []

    def turn(incoming: Incoming, name: str) -> None:
        started = time.monotonic()
        time.sleep(0.05)
        spans.append((name, started, time.monotonic()))

    await asyncio.gather(
        *(
            bridge.call(turn, message("U1", conversation), f"{conversation}-{n}")
            for n in range(3)
            for conversation in ("D1", "C7")
        )  # fmt: skip
    )
    spans.sort(key=lambda span: span[1])
    assert len(spans) == 6
    assert all(later[1] >= earlier[2] for earlier, later in zip(spans, spans[1:], strict=False))
    assert [name for name, _, _ in spans] == ["D1-0", "C7-0", "D1-1", "C7-1", "D1-2", "C7-2"]  # in call order
    assert not bridge.askers  # nobody waits: the user is forgotten


async def test_calls_without_a_message_are_not_held_up_by_a_users_turn():
    bridge = CoreBridge(ThreadPoolExecutor(max_workers=2))
    release = threading.Event()
    slow = asyncio.ensure_future(bridge.call(lambda _incoming: release.wait(timeout=5), message("U1")))
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(bridge.call(lambda answer: answer + 1, 41), timeout=2) == 42
    release.set()
    assert await slow


async def test_a_cancelled_turn_returns_at_once_and_holds_its_user_until_its_thread_is_done():
    """A stop whose grace ran out cancels the turns in flight: the cancelled turn returns at once (what its
    thread still makes is never posted: another replica answers), but a thread cannot be stopped, so the
    user's next call waits until the cancelled one is really over, as it would on one thread."""
    bridge = CoreBridge(ThreadPoolExecutor(max_workers=2))
    release, order = threading.Event(), []

    def first(_incoming) -> None:
        release.wait(timeout=5)
        order.append("first")

    def second(_incoming) -> None:
        order.append("second")

    cancelled = asyncio.ensure_future(bridge.call(first, message("U1")))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    following = asyncio.ensure_future(bridge.call(second, message("U1")))
    await asyncio.sleep(0.1)
    assert cancelled.cancelled()  # returned while its thread still runs
    assert order == []  # … and the second has not begun
    release.set()
    await following
    assert order == ["first", "second"] and not bridge.askers


async def test_a_call_cancelled_while_it_waits_for_its_users_turn_never_runs_and_keeps_the_order():
    bridge = CoreBridge(ThreadPoolExecutor(max_workers=3))
    release, order = threading.Event(), []

    def turn(_incoming, name: str) -> None:
        if name == "first":
            release.wait(timeout=5)
        order.append(name)

    first = asyncio.ensure_future(bridge.call(turn, message("U1"), "first"))
    waiting = asyncio.ensure_future(bridge.call(turn, message("U1"), "second"))
    third = asyncio.ensure_future(bridge.call(turn, message("U1"), "third"))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.sleep(0.05)
    assert order == []  # the third still waits for the first
    release.set()
    await asyncio.gather(first, third)
    assert order == ["first", "third"] and waiting.cancelled()
