"""run inputs: the datasets (by content hash) and upstream artifacts each run read

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "run_inputs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("mtime", sa.Float(), nullable=True),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("version_id", sa.String(length=255), nullable=True),
        sa.Column("stats", JSON, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_run_inputs_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_inputs")),
        sa.UniqueConstraint("run_id", "name", name="uq_run_inputs_run_id_name"),
    )
    op.create_index("ix_run_inputs_run_id", "run_inputs", ["run_id"], unique=False)
    op.create_index("ix_run_inputs_sha256", "run_inputs", ["sha256"], unique=False)
    op.create_index("ix_run_inputs_uri", "run_inputs", ["uri"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_inputs_uri", table_name="run_inputs")
    op.drop_index("ix_run_inputs_sha256", table_name="run_inputs")
    op.drop_index("ix_run_inputs_run_id", table_name="run_inputs")
    op.drop_table("run_inputs")
