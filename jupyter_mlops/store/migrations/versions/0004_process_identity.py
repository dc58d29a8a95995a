"""process identity: the start time of the runner and kernel whose pids are recorded

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runner_create_time", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("kernel_create_time", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("kernel_create_time")
        batch_op.drop_column("runner_create_time")
