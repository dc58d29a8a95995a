"""effective parameters: every parameter a run ran with, which files were uncommitted, and
the failing cell's execution count (``In [n]``)

``run_params.overridden`` tells a value given for the run from the notebook's default (runs
record both since 0005). Runs recorded before recorded only the values given, so their rows
are all overrides: the column defaults to true for them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_params", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overridden", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dirty_files",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("dirty_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("error_execution_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("error_execution_count")
        batch_op.drop_column("dirty_count")
        batch_op.drop_column("dirty_files")
    with op.batch_alter_table("run_params", schema=None) as batch_op:
        batch_op.drop_column("overridden")
