"""Knowledge gaps and the company FAQ (issue 25): refused or 👎-rated questions grouped by meaning, and the
answers knowledge owners give to them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gap_groups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("example", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("faq_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gap_groups_state", "gap_groups", ["state"])
    op.create_table(
        "gaps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("gap_groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("answer_id", sa.Integer(), nullable=True, unique=True),
        sa.Column("user_key", sa.String(300), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gaps_group_id", "gaps", ["group_id"])
    op.create_index("ix_gaps_user_key", "gaps", ["user_key"])
    op.create_index("ix_gaps_created_at", "gaps", ["created_at"])
    op.create_table(
        "company_faq",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("author_key", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("company_faq")
    op.drop_index("ix_gaps_created_at", table_name="gaps")
    op.drop_index("ix_gaps_user_key", table_name="gaps")
    op.drop_index("ix_gaps_group_id", table_name="gaps")
    op.drop_table("gaps")
    op.drop_index("ix_gap_groups_state", table_name="gap_groups")
    op.drop_table("gap_groups")
