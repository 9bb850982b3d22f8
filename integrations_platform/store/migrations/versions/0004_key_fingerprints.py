"""Each integration records the fingerprint of the key its config was encrypted with.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for rows written before fingerprints: the next write or rotation fills it.
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("key_fingerprint", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("key_fingerprint")
