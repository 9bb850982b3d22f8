"""Each integration's last discovery of its source (a Singer catalog, no config).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discoveries",
        sa.Column("integration_id", sa.String(36), primary_key=True),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("stream_count", sa.Integer(), nullable=False),
        sa.Column("catalog", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("discoveries")
