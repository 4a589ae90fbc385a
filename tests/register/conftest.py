"""The AI register through the real core: each test gets a database of its own (SQLite; PostgreSQL too
for tests marked @both_databases), since the register is one per company, not one per workspace. The
core's answering service has an empty knowledge base there — the register never asks it anything."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.answering import AnswerService
from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.core.messages import Incoming, Reply
from bot.settings import SlackSettings, TeamsSettings
from bot.storage.models import AuditRow, RegisterEntryRow
from ingest.index import KnowledgeIndex

ADMIN_ONLY = "Dieser Befehl ist Administratorinnen und Administratoren vorbehalten."


def make_settings(kb_settings, data_dir: Path, database_url: str, **changes):
    """Console users are employees; Slack and Teams have one admin each."""
    return dataclasses.replace(
        kb_settings,
        data_dir=data_dir,
        database_url=database_url,
        console_role="employee",
        slack=SlackSettings(admins=frozenset({"UADMIN"})),
        teams=TeamsSettings(admins=frozenset({"aad-admin"})),
        **changes,
    )


def make_core(kb_settings, kb_index, data_dir: Path, database_url: str, **changes) -> Lotse:
    settings = make_settings(kb_settings, data_dir, database_url, **changes)
    return build_core(settings, AnswerService(settings, KnowledgeIndex(settings, embedder=kb_index.embedder)))


@pytest.fixture
def core(kb_settings, kb_index, database_url, tmp_path) -> Lotse:
    lotse = make_core(kb_settings, kb_index, tmp_path / "data", database_url)
    yield lotse
    lotse.answers.index.db.dispose()


class Person:
    """One user in their direct messages with Lotse."""

    def __init__(self, core: Lotse, user: str, channel: str = "slack", workspace: str = "T1") -> None:
        self.core, self.user, self.channel, self.workspace = core, user, channel, workspace

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.workspace}:{self.user}"

    def say(self, text: str, private: bool = True) -> Reply:
        return self.core.handle(
            Incoming(text, self.user, channel=self.channel, workspace=self.workspace, private=private)
        )

    def script(self, *lines: str) -> Reply:
        reply = None
        for line in lines:
            reply = self.say(line)
            assert reply.mode == "dialog" and reply.answered, f"{line!r} → {reply.text}"
        return reply


@pytest.fixture
def admin(core) -> Person:
    return Person(core, "UADMIN")


@pytest.fixture
def employee(core) -> Person:
    return Person(core, "U1")


def step(reply: Reply) -> str | None:
    return reply.question.step if reply.question else None


def entries(core: Lotse) -> dict[str, RegisterEntryRow]:
    return {e.name: e for e in core.services.register_store.entries()}


def audit_rows(core: Lotse, action: str | None = None) -> list[AuditRow]:
    with core.services.register_store.db.session() as s:
        query = select(AuditRow).order_by(AuditRow.id)
        if action:
            query = query.where(AuditRow.action == action)
        return list(s.scalars(query).all())
