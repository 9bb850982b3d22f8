"""The record of incremental-state resets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_resets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("integration", sa.String(63), nullable=False),
        sa.Column("stream", sa.String(200), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("previous_bookmarks", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_state_resets_integration", "state_resets", ["integration"])


def downgrade() -> None:
    op.drop_index("ix_state_resets_integration", table_name="state_resets")
    op.drop_table("state_resets")
