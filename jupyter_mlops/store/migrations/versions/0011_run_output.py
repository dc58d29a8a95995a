"""run output: what a run's cells printed, streamed into the store as it happens

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import jupyter_mlops.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_output",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", jupyter_mlops.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cell_index", sa.Integer(), nullable=True),
        sa.Column("stream", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_output_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_output")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("run_output", schema=None) as batch_op:
        batch_op.create_index("ix_run_output_run_id_seq", ["run_id", "seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("run_output", schema=None) as batch_op:
        batch_op.drop_index("ix_run_output_run_id_seq")
    op.drop_table("run_output")
