"""The database of the pilot tests: each test runs on SQLite and on the real PostgreSQL at 127.0.0.1
(a throwaway database per test; .ci/run starts the server)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from bot.storage.db import Database

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'report.db'}")
        yield database
        database.dispose()
        return
    name = f"lotse_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is not running ({exc}); .ci/run starts it")
    admin.execute(f'CREATE DATABASE "{name}"')
    database = Database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    yield database
    database.dispose()
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()
