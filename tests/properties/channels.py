"""Shared by the channel property tests: malformed versions of valid payloads (a field dropped, retyped,
made huge or filled with odd Unicode), and what "handled cleanly" means for a running server."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# derandomized and without the example database: every run and every machine sees the same examples
HTTP = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
ODD_TEXT = [
    "", " ", "\x00", "\ud800", "\u202e", "💥" * 300, "9" * 5000, "9" * 19, "-1", "0", "1.5", "NaN", "null", "true",
    "<@U1>", "<!channel>", "ß\u0301", "x" * 200_000, "de", "en", "lotse_choice_0",
]  # fmt: skip
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=30),
    st.lists(st.integers() | st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=5) | st.none(), max_size=3),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(ODD_TEXT) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value: keys of objects and indices of lists, depth first."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw, valid: dict, most: int = 3, keep: tuple = ()) -> dict:
    """`valid` with one to `most` places dropped or replaced by an odd value; places named in `keep`
    (top-level keys) stay as they are, so that the payload still reaches the code under test."""
    payload = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, most))):
        places = [p for p in paths(payload) if p[0] not in keep]
        if not places:
            break
        place = draw(st.sampled_from(places))
        parent = payload
        for step in place[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[place[-1]]
        else:
            parent[place[-1]] = draw(ODD)
    return payload


def to_json(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors and stack traces in the log: a malformed request may be refused or ignored, not crash."""
    return [f"{r.name}: {r.getMessage()[:300]}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def settled(timeout: float = 15.0) -> None:
    """Wait for what the server still runs after answering: bolt's listeners (started as tasks once
    acknowledged) and botbuilder's turns finish before this returns."""
    current = asyncio.current_task()
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pending = [t for t in asyncio.all_tasks() if t is not current and not t.done() and _is_listener(t)]
        if not pending:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still running after {timeout}s: {pending}")
        await asyncio.wait(pending, timeout=0.5)


def _is_listener(task: asyncio.Task) -> bool:
    name = getattr(task.get_coro(), "__qualname__", "")
    return "run_ack_function_asynchronously" in name or "AsyncioLazyListenerRunner" in name
