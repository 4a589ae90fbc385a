"""Schema migrations with Alembic, for SQLite and PostgreSQL alike.

`upgrade(engine)` brings a database to the newest revision: a new database gets every migration, a
database made by a Lotse from before the migrations (tables, no `alembic_version`) is first stamped as
the baseline, since its tables are the baseline's. Several processes may start at once (replicas, or
`lotse chat` beside `lotse serve`): on PostgreSQL an advisory lock, on SQLite a file lock beside the
database makes them take turns, and the second finds nothing left to do. A database that is already
current costs one small query."""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from bot.storage.locking import file_lock

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema of the Lotse releases before migrations (created with create_all)
LOCK_KEY = zlib.crc32(b"lotse:migrate")


class SchemaError(RuntimeError):
    """The database's schema does not fit this Lotse (and was not upgraded)."""


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Lotse's own tables only: APScheduler creates and keeps its job tables itself."""
    return not (type_ == "table" and name is not None and name.startswith("scheduler_jobs"))


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision this Lotse knows."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _turn(connection: Connection) -> Iterator[None]:
    """One process at a time migrates this database."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            connection.commit()
        return
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with file_lock(f"{database}.migrate-lock"):
        yield


def status(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, this Lotse's newest revision)."""
    with engine.connect() as connection:
        return current(connection), head()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate to `revision`; returns (revision before, revision after). On SQLite, replicas starting at once
    on a new file can find it locked for a moment (one switches it to WAL while another reads): tried again
    a few times before that is an error (each try starts over, so it is safe)."""
    for attempt in range(1, LOCKED_TRIES + 1):
        try:
            return _upgrade(engine, revision)
        except OperationalError as exc:
            if engine.dialect.name != "sqlite" or "locked" not in str(exc.orig) or attempt == LOCKED_TRIES:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


LOCKED_TRIES = 5


def _upgrade(engine: Engine, revision: str) -> tuple[str | None, str | None]:
    with engine.connect() as connection:
        if revision == "head" and _is_current(connection):
            rev = head()
            return rev, rev
        with _turn(connection):
            before = current(connection)
            config = _config(connection)
            if before is None and inspect(connection).has_table("documents"):
                command.stamp(config, BASELINE)  # made by create_all before there were migrations
                connection.commit()
            command.upgrade(config, revision)
            connection.commit()
            return before, current(connection)


def check(engine: Engine) -> None:
    """Raise SchemaError unless the database is at this Lotse's revision (when upgrades at start are off)."""
    with engine.connect() as connection:
        if _is_current(connection):
            return
        found = current(connection)
    raise SchemaError(
        f"the database is at schema revision {found or 'none'}, this Lotse needs {head()}: "
        "run `lotse db upgrade` (or set LOTSE_DB_AUTO_UPGRADE=true)"
    )


def _is_current(connection: Connection) -> bool:
    try:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception:  # no version table yet
        connection.rollback()
        return False
    finally:
        if connection.in_transaction():
            connection.rollback()
    return found == [head()]
