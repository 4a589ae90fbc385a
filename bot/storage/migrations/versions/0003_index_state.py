"""The knowledge index's embedding model, recorded in the database (issue 8): replicas with another
model are refused instead of starting the shared index afresh.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("index_state")
