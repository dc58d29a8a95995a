"""search indexes: metric values by key, parameter names, start and end times

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_latest_metrics_key_value_run_id", "latest_metrics", ["key", "value", "run_id"]),
    ("ix_run_params_name_run_id", "run_params", ["name", "run_id"]),
    ("ix_runs_started_at_id", "runs", ["started_at", "id"]),
    ("ix_runs_finished_at_id", "runs", ["finished_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
