"""Reminder tests: a controlled clock (no sleeping), the plan from config/plan.yaml, and the database
on SQLite and, for tests marked @both_databases or taking `db_url`, on the real PostgreSQL at
127.0.0.1:5432 (a throwaway database per test)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.messages import Reply
from bot.core.ports import Outcome
from bot.reminders.planner import Reminders
from bot.reminders.spec import load_plan
from bot.storage.db import Database

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Collect:
    """A sender that records what it was given (for the core's logic; the Slack and Teams senders are
    tested against the fake Slack API and the fake Bot Connector)."""

    def __init__(self, channel: str = "console", outcomes: list[Outcome] | None = None) -> None:
        self.channel = channel
        self.sent: list[tuple[str, Reply]] = []
        self.outcomes = outcomes or []  # given out first, then "sent"

    async def send(self, address: str, reply: Reply) -> Outcome:
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if outcome.status != "sent":
                return outcome
        self.sent.append((address, reply))
        return Outcome("sent", message_ref=f"m{len(self.sent)}")

    def headings(self) -> list[str]:
        return [reply.text.splitlines()[0] for _, reply in self.sent]


@pytest.fixture(scope="session")
def spec():
    return load_plan(ROOT / "config" / "plan.yaml")


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


@pytest.fixture
def reminders(database_url, spec, clock) -> Reminders:
    return Reminders(Database(database_url), spec, clock)
