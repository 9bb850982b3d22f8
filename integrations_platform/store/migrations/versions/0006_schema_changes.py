"""Schema changes: each integration's policy, the changes seen in its source, the
snapshot of each synced stream's columns a sync compares with, and the salt of its
hashed columns (encrypted like its config).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(
            sa.Column(
                "schema_policy",
                sa.String(16),
                nullable=False,
                server_default="allow_columns",
            )
        )
    op.create_table(
        "schema_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("integration_id", sa.String(36), nullable=False),
        sa.Column("stream", sa.String(255), nullable=False),
        sa.Column("column", sa.String(255), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(120), nullable=True),
    )
    op.create_index("ix_schema_changes_integration", "schema_changes", ["integration_id", "stream"])
    op.create_table(
        "schema_snapshots",
        sa.Column("integration_id", sa.String(36), primary_key=True),
        sa.Column("stream", sa.String(255), primary_key=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hash_salts",
        sa.Column("integration_id", sa.String(36), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_fingerprint", sa.String(16), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("hash_salts")
    op.drop_table("schema_snapshots")
    op.drop_index("ix_schema_changes_integration", table_name="schema_changes")
    op.drop_table("schema_changes")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("schema_policy")
