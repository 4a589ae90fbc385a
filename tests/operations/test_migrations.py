"""Schema migrations (Alembic) on SQLite and PostgreSQL: a new database gets the schema the models
describe, a database from a Lotse before migrations is adopted with its data, replicas starting at
once migrate once, and with upgrades at start switched off Lotse says what to run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from bot.storage import migrate
from bot.storage.db import Database, make_engine
from bot.storage.migrate import SchemaError
from bot.storage.models import Base, SecretRow
from tests.conftest import ROOT


def differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": migrate.include_object, "compare_type": True}
        )
        return compare_metadata(context, Base.metadata)


def test_migrations_build_exactly_the_schema_of_the_models(db_url):
    engine = make_engine(db_url)
    before, after = migrate.upgrade(engine)
    assert (before, after) == (None, migrate.head())
    assert differences(engine) == []  # a model changed without a migration would show up here
    tables = set(inspect(engine).get_table_names())
    assert {"documents", "dialogs", "nudges", "pilots", "pilot_feedback", "secrets", "alembic_version"} <= tables
    engine.dispose()


def test_the_migrations_go_down_and_up_again(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    migrate.upgrade(engine, "head")  # nothing to do
    from alembic import command

    with engine.connect() as connection:
        command.downgrade(migrate._config(connection), "base")
        connection.commit()
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert migrate.upgrade(engine) == (None, migrate.head())
    assert differences(engine) == []
    engine.dispose()


def test_a_database_from_before_migrations_is_adopted_with_its_data(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine, migrate.BASELINE)  # the schema a Lotse made before there were migrations …
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))  # … which kept no version
    with engine.begin() as connection:
        connection.execute(SecretRow.__table__.insert().values(name="author-key", value=b"k" * 32))
    database = Database(db_url)  # opening it upgrades: stamped as the baseline, then migrated
    with database.engine.connect() as connection:
        assert migrate.current(connection) == migrate.head()
    with database.session() as s:
        assert s.scalars(select(SecretRow.value).where(SecretRow.name == "author-key")).one() == b"k" * 32
    database.dispose()
    engine.dispose()


def test_replicas_starting_at_once_migrate_once(db_url):
    results, errors = [], []

    def start() -> None:
        engine = make_engine(db_url)
        try:
            results.append(migrate.upgrade(engine))
        except Exception as exc:  # pragma: no cover - the failure is the assertion below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    head = migrate.head()
    assert sorted(results, key=str) == sorted([(None, head)] + [(head, head)] * 3, key=str)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    engine.dispose()


def test_with_upgrades_at_start_off_an_old_schema_is_refused_with_what_to_run(db_url):
    with pytest.raises(SchemaError, match="lotse db upgrade"):
        Database(db_url, upgrade=False)
    Database(db_url).dispose()
    Database(db_url, upgrade=False).dispose()  # current now: accepted


def lotse(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_lotse_db_upgrade_and_status_from_the_command_line(tmp_path, postgres_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update(LOTSE_DATA_DIR=str(tmp_path), LOTSE_DATABASE_URL=postgres_url, LOTSE_DB_AUTO_UPGRADE="false")
    status = lotse("db", "status", env=env)
    assert status.returncode == 1 and "schema revision none" in status.stdout and "lotse db upgrade" in status.stdout
    refused = lotse("purge", env=env)  # any command that opens the database
    assert refused.returncode == 2 and "lotse db upgrade" in refused.stderr and "Traceback" not in refused.stderr
    upgraded = lotse("db", "upgrade", env=env)
    assert upgraded.returncode == 0 and f"none → {migrate.head()}" in upgraded.stdout, upgraded.stderr
    assert "nothing to do" in lotse("db", "upgrade", env=env).stdout
    assert lotse("db", "status", env=env).returncode == 0
    assert lotse("purge", env=env).returncode == 0


def test_an_unreachable_database_is_a_clear_message_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update(LOTSE_DATA_DIR=str(tmp_path), LOTSE_DATABASE_URL="postgresql+psycopg://postgres:pw@127.0.0.1:1/lotse")
    for args in (("db", "upgrade"), ("purge",)):
        result = lotse(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert "the database cannot be used" in result.stderr and "LOTSE_DATABASE_URL" in result.stderr
        assert "Traceback" not in result.stderr and "pw" not in result.stderr.replace("postgres", "")
