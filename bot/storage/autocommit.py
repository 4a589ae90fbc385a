"""Single statements without a transaction around them: a read that is one SELECT, or a write that is
one INSERT, gains nothing from BEGIN … COMMIT, which cost PostgreSQL two more round trips (and the
SQLAlchemy unit of work its bookkeeping). Used on the path of every chat turn."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.storage.db import Database


def autocommit_engine(db: Database) -> Engine:
    """The database's engine (same connection pool) with every statement committing by itself."""
    return db.engine.execution_options(isolation_level="AUTOCOMMIT")


def autocommit_sessions(db: Database) -> sessionmaker:
    """Sessions for reads of one statement; objects stay usable after the session closes."""
    return sessionmaker(autocommit_engine(db), expire_on_commit=False)
