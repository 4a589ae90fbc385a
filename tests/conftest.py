"""Shared fixtures. The bundled knowledge base is ingested once per test session into a temporary
data folder; tests that change the index use their own folder. Tests of what Lotse stores run on
SQLite and on PostgreSQL: they take a parametrised database fixture or are marked @both_databases
(see "databases" below)."""

from __future__ import annotations

import dataclasses
import socket
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import insert, select

from bot.answering import AnswerService
from bot.settings import LLMSettings, Settings
from bot.storage import ChunkRow, DocumentRow
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


# -- databases: SQLite, and throwaway databases on the real PostgreSQL at 127.0.0.1 (.ci/run starts it)
#
# The convention: a test of what Lotse stores (the stores, dialog state, event dedupe, deliveries,
# conversation references, feedback, nudges and their claims, personal data, secrets, documents and
# chunks) runs on SQLite and on PostgreSQL. Either it takes a fixture parametrised over both:
#   db        a `Database` of its own
#   db_url    the URL of an empty database of its own (for engines, Settings, subprocesses)
# or, where it goes through a harness fixture (the dialog engine, the reminders, a core on the session's
# knowledge base, the Slack or Teams server), it is marked `@both_databases`: the harness builds on
# `database_url` (a database of the test's own) or `database_service` (the session's knowledge base),
# whose `database` is "sqlite" and, for a marked test, each of the two in turn. Tests that never touch
# the database stay unmarked; `sqlite_url` and `postgres_url` are for tests about one of the two.

PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASES = ["sqlite", "postgres"]
both_databases = pytest.mark.parametrize("database", DATABASES, indirect=True)


def _pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is not running ({exc}); .ci/run starts it")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new, empty database on the PostgreSQL at 127.0.0.1, dropped afterwards."""
    name = f"lotse_test_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


class PostgresCopies:
    """Copies of a database Lotse has opened once (all migrations applied), for tests that want Lotse's
    schema: copying costs a fraction of migrating, and a background thread makes the next copies while
    tests run and drops the used ones, so that a test waits for neither."""

    AHEAD = 2

    def __init__(self, template: str) -> None:
        self.template = template
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="lotse-test-pg")
        self._admin: psycopg.Connection | None = None
        self._ready: deque[Future[str]] = deque(self._worker.submit(self._create) for _ in range(self.AHEAD))

    def _execute(self, sql: str) -> None:  # on the worker thread only
        if self._admin is None:
            self._admin = psycopg.connect(PG, autocommit=True)
        self._admin.execute(sql)

    def _create(self) -> str:
        name = f"lotse_test_{uuid.uuid4().hex[:10]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def take(self) -> str:
        """The URL of a copy of the template; `give_back` it when done."""
        self._ready.append(self._worker.submit(self._create))
        return _pg_url(self._ready.popleft().result())

    def give_back(self, url: str) -> None:
        self._worker.submit(self._execute, f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    def close(self) -> None:
        for future in self._ready:
            self._worker.submit(self._execute, f'DROP DATABASE "{future.result()}" WITH (FORCE)')
        self._worker.submit(lambda: self._admin and self._admin.close()).result()
        self._worker.shutdown()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lotse.db'}"


@pytest.fixture
def postgres_url():
    """An empty database of the test's own."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_copies() -> Iterator[PostgresCopies]:
    with throwaway_postgres() as url:
        Database(url).dispose()
        copies = PostgresCopies(url.rsplit("/", 1)[1])
        try:
            yield copies
        finally:
            copies.close()


@pytest.fixture
def migrated_postgres_url(postgres_copies) -> Iterator[str]:
    """A database of the test's own with Lotse's schema (opening it finds it at the latest revision)."""
    url = postgres_copies.take()
    yield url
    postgres_copies.give_back(url)


@pytest.fixture(params=DATABASES)
def db_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=DATABASES)
def db(request):
    """A `Database` on SQLite and on PostgreSQL (the test runs once on each)."""
    database = Database(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "migrated_postgres_url"))
    yield database
    database.dispose()


@pytest.fixture
def database(request) -> str:
    """The database harness fixtures build on: "sqlite", or each in turn for a test marked @both_databases."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_url(database, request) -> str:
    """The URL of a database of the test's own on `database`, with Lotse's schema on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if database == "sqlite" else "migrated_postgres_url")


@pytest.fixture(scope="session")
def postgres_service(kb_settings, kb_index, postgres_copies) -> Iterator[AnswerService]:
    """The session's knowledge base on PostgreSQL: its document and chunk rows copied from the SQLite
    database; the vectors and the BM25 index are the ones in the data folder they share."""
    url = postgres_copies.take()
    settings = dataclasses.replace(kb_settings, database_url=url)
    index = KnowledgeIndex(settings, embedder=kb_index.embedder)
    with kb_index.db.engine.connect() as source, index.db.engine.begin() as target:
        for table in (DocumentRow.__table__, ChunkRow.__table__):
            target.execute(insert(table), [dict(row) for row in source.execute(select(table)).mappings()])
    yield AnswerService(settings, index)
    index.db.dispose()
    postgres_copies.give_back(url)


@pytest.fixture
def database_service(database, request) -> AnswerService:
    """The session's answering service with its knowledge base on `database` (see `postgres_service`): a
    core on it, `build_core(database_service.settings, database_service)`, keeps everything there. Tests
    share it, so each works in a workspace (or with users) of its own."""
    return request.getfixturevalue("service" if database == "sqlite" else "postgres_service")
