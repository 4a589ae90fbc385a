"""Section metadata of the knowledge base (issue 19): the guide's section a chunk restates, cited beside
it, and the questions its section answers with their embeddings, matched against users' questions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("guide", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("asks", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("asks_vectors", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("asks_vectors")
        batch.drop_column("asks")
        batch.drop_column("guide")
