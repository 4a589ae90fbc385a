"""Pilot cost history (issue 24): a changed running cost applies from a month on, not to the months before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 21:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilot_costs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("pilot_id", sa.Integer(), sa.ForeignKey("pilots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("monthly_cost", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pilot_id", "valid_from"),
    )
    op.create_index("ix_pilot_costs_pilot_id", "pilot_costs", ["pilot_id"])


def downgrade() -> None:
    op.drop_index("ix_pilot_costs_pilot_id", table_name="pilot_costs")
    op.drop_table("pilot_costs")
