"""Property-based tests of the core: whatever arrives as text or as a button's value, Lotse answers
with a `Reply` (a refusal that says what to enter instead), and nothing it stores breaks a later
scheduler pass or report. Hypothesis runs derandomized and without its example database, so CI and
every machine see the same examples; each test keeps its example count small enough for the whole set
to run in well under a minute.

Each test gets a core on a database of its own (SQLite; PostgreSQL too for the tests marked
@both_databases) with an empty knowledge base: these tests never need an answer from the guide. The
console user is an admin, so every command is reachable."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from bot.answering import AnswerService
from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.core.messages import Incoming, Reply
from bot.reminders.dispatch import Dispatcher, Stats
from bot.settings import SlackSettings
from ingest.index import KnowledgeIndex
from tests.reminders.conftest import Collect

# the settings every property here shares; tests add their own `max_examples`
CORE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def core(kb_settings, kb_index, database_url, tmp_path) -> Lotse:
    settings = dataclasses.replace(
        kb_settings,
        data_dir=tmp_path / "data",
        database_url=database_url,
        console_role="admin",
        slack=SlackSettings(admins=frozenset({"UADMIN"})),
    )
    lotse = build_core(settings, AnswerService(settings, KnowledgeIndex(settings, embedder=kb_index.embedder)))
    yield lotse
    lotse.answers.index.db.dispose()


class Admin:
    """The IT lead in a terminal chat of a workspace of their own (a fresh one per example keeps the
    examples apart: plans, pilots and dialogs are per workspace)."""

    def __init__(self, core: Lotse, workspace: str | None = None) -> None:
        self.core = core
        self.workspace = workspace or f"w{uuid.uuid4().hex[:10]}"

    def message(self, text: str = "", value: str | None = None) -> Incoming:
        return Incoming(text, "lead", workspace=self.workspace, value=value)

    def say(self, text: str, value: str | None = None) -> Reply:
        reply = self.core.handle(self.message(text, value))
        assert isinstance(reply, Reply)
        return reply

    def click(self, value: str) -> Reply:
        return self.say("", value)


def scheduler_pass(core: Lotse, now: datetime | None = None) -> Stats:
    """One pass of the nudge scheduler over every plan in the database, as the server runs it."""
    return asyncio.run(Dispatcher(core.services.reminders, [Collect("console")]).run_once(now))
