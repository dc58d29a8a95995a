"""pipelines: pipeline runs, their steps and each step's attempts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import jupyter_mlops.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = jupyter_mlops.store.types.UTCDateTime


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("finished_at", UTC(timezone=True), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("pipeline_path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("snapshot", _json(), nullable=False),
        sa.Column("spec", _json(), nullable=False),
        sa.Column("overrides", _json(), nullable=False),
        sa.Column("no_cache", sa.Boolean(), nullable=False),
        sa.Column("lease_holder", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
    )
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipeline_runs_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_pipeline_runs_status"), ["status"])

    op.create_table(
        "pipeline_steps",
        sa.Column("pipeline_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("needs", _json(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("cached_from", sa.String(length=32), nullable=True),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_pipeline_steps_pipeline_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pipeline_id", "name", name=op.f("pk_pipeline_steps")),
    )

    op.create_table(
        "pipeline_step_attempts",
        sa.Column("pipeline_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("cached_from", sa.String(length=32), nullable=True),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_pipeline_step_attempts_pipeline_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "pipeline_id", "step", "attempt", name=op.f("pk_pipeline_step_attempts")
        ),
    )
    with op.batch_alter_table("pipeline_step_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipeline_step_attempts_run_id"), ["run_id"])
        batch_op.create_index(batch_op.f("ix_pipeline_step_attempts_cache_key"), ["cache_key"])


def downgrade() -> None:
    op.drop_table("pipeline_step_attempts")
    op.drop_table("pipeline_steps")
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_runs_status"))
        batch_op.drop_index(batch_op.f("ix_pipeline_runs_created_at"))
    op.drop_table("pipeline_runs")
