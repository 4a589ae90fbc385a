"""Single statements without a transaction around them: a read that is one SELECT, or a write that is
one INSERT, gains nothing from BEGIN … COMMIT, which cost PostgreSQL two more round trips (and the
SQLAlchemy unit of work its bookkeeping). Used on the path of every chat turn, with statements built once
(module constants or attributes) and run with parameters: SQLAlchemy then finds the compiled SQL in its
cache at once, while building the same statement anew cost more CPU than PostgreSQL needed to run it."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.storage.db import Database


def autocommit_engine(db: Database) -> Engine:
    """The database's engine for statements that commit by themselves (`Database.autocommit`)."""
    return db.autocommit
