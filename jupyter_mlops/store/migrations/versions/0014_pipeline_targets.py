"""pipeline targets: a schedule or a trigger can fire a pipeline.yaml

``target`` says what a schedule or trigger fires (``notebook`` or ``pipeline``, the path in
``notebook_path``); the same column on a slot claim or trigger event says what its claimed
id (``run_id``) names: a run, or a pipeline run. ``pipeline_runs.fired_by`` says which
schedule slot or trigger event started a pipeline run.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TARGETED = ("schedules", "triggers", "schedule_fires", "trigger_events")


def upgrade() -> None:
    for table in _TARGETED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("target", sa.String(length=16), nullable=False, server_default="notebook")
            )
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.add_column(sa.Column("fired_by", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.drop_column("fired_by")
    for table in reversed(_TARGETED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("target")
