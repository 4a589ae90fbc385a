"""Telling askers that their question has an answer now (issue 25): where a refused question was asked
in a direct chat, to send the notice there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gaps") as batch:
        batch.add_column(sa.Column("reply_to", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gaps") as batch:
        batch.drop_column("reply_to")
