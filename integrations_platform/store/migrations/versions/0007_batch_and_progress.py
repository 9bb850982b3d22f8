"""How each integration's records travel from tap to target (auto, records or batch),
and the progress of the syncs that are running.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(
            sa.Column("message_format", sa.String(16), nullable=False, server_default="auto")
        )
    op.create_table(
        "run_progress",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("integration_id", sa.String(36), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_progress")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("message_format")
