"""Alembic migrations of Lotse's database (SQLite and PostgreSQL); run by `lotse db upgrade` and at start."""
