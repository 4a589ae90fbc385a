"""Storage behind SQLAlchemy: SQLite by default, PostgreSQL via LOTSE_DATABASE_URL."""

from bot.storage.db import Database
from bot.storage.models import Base, ChunkRow, DocumentRow, MessageRow

__all__ = ["Base", "ChunkRow", "Database", "DocumentRow", "MessageRow"]
