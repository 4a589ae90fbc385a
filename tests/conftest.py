"""Shared fixtures. The bundled knowledge base is ingested once per test session into a temporary
data folder; tests that change the index use their own folder."""

from __future__ import annotations

import socket
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from bot.answering import AnswerService
from bot.settings import LLMSettings, Settings
from bot.storage.db import Database
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Nothing may call out except to 127.0.0.1: a connection elsewhere fails the test."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise AssertionError(f"network access to {address!r} during a test")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory) -> Settings:
    data = tmp_path_factory.mktemp("lotse-data")
    settings = Settings(data_dir=data, knowledge_dir=KNOWLEDGE)
    report = ingest(KnowledgeIndex(settings), [KNOWLEDGE], progress=False)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def kb_index(kb_settings) -> KnowledgeIndex:
    return KnowledgeIndex(kb_settings)


@pytest.fixture(scope="session")
def service(kb_settings, kb_index) -> AnswerService:
    return AnswerService(kb_settings, kb_index)


@contextmanager
def fake_llm(kb_settings: Settings, kb_index: KnowledgeIndex):
    """A fake OpenAI server on 127.0.0.1 and an answering service that uses it: (openai, service)."""
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as openai:
        yield openai, llm_service(kb_settings, kb_index, openai.base_url)


def llm_service(kb_settings: Settings, kb_index: KnowledgeIndex, base_url: str, **llm) -> AnswerService:
    settings = Settings(
        data_dir=kb_settings.data_dir,
        knowledge_dir=kb_settings.knowledge_dir,
        llm=LLMSettings(api_key="test-key", base_url=base_url, model="test-model", **llm),
    )
    return AnswerService(settings, kb_index)


# -- databases: SQLite, and a throwaway database on the real PostgreSQL at 127.0.0.1 (.ci/run starts it)

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lotse.db'}"


@pytest.fixture
def postgres_url():
    name = f"lotse_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is not running ({exc}); .ci/run starts it")
    admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request):
    """A `Database` on SQLite and on PostgreSQL (the test runs once on each)."""
    database = Database(request.getfixturevalue(f"{request.param}_url"))
    yield database
    database.dispose()
