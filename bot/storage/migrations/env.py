"""Alembic's environment for Lotse: the connection comes from `bot.storage.migrate` (never from an ini
file), and the target is Lotse's own tables (APScheduler keeps its job table itself)."""

from __future__ import annotations

from alembic import context

from bot.storage.migrate import include_object
from bot.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
