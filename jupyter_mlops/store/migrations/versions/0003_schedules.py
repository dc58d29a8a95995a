"""schedules: cron schedules, their per-slot fire claims, leases; runs link to a slot

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import jupyter_mlops.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = jupyter_mlops.store.types.UTCDateTime


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("notebook_path", sa.Text(), nullable=False),
        sa.Column("notebook_abspath", sa.Text(), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=True),
        sa.Column("parameters", _json(), nullable=False),
        sa.Column("kernel_name", sa.String(length=255), nullable=True),
        sa.Column("gpus", sa.Integer(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("cron", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("catchup", sa.String(length=8), nullable=False),
        sa.Column("max_catchup", sa.Integer(), nullable=False),
        sa.Column("concurrency", sa.String(length=8), nullable=False),
        sa.Column("next_fire_at", UTC(timezone=True), nullable=True),
        sa.Column("last_fired_slot", UTC(timezone=True), nullable=True),
        sa.Column("last_run_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_schedules_active_next_fire_at", ["active", "next_fire_at"], unique=False
        )

    op.create_table(
        "schedule_fires",
        sa.Column("schedule_id", sa.String(length=32), nullable=False),
        sa.Column("slot", UTC(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", UTC(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_fires_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "slot", name=op.f("pk_schedule_fires")),
    )
    with op.batch_alter_table("schedule_fires", schema=None) as batch_op:
        batch_op.create_index(
            "ix_schedule_fires_state_claimed_at", ["state", "claimed_at"], unique=False
        )

    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("scheduled_for", UTC(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_runs_schedule_id"), ["schedule_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_runs_schedule_id_schedules"),
            "schedules",
            ["schedule_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_runs_schedule_id_schedules"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_runs_schedule_id"))
        batch_op.drop_column("scheduled_for")
        batch_op.drop_column("schedule_id")
    op.drop_table("scheduler_leases")
    with op.batch_alter_table("schedule_fires", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_fires_state_claimed_at")
    op.drop_table("schedule_fires")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_schedules_active_next_fire_at")
    op.drop_table("schedules")
