"""triggers: runs fired by a commit, new data, drift or a production metric

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import jupyter_mlops.store.types

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = jupyter_mlops.store.types.UTCDateTime


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("notebook_path", sa.Text(), nullable=False),
        sa.Column("notebook_abspath", sa.Text(), nullable=False),
        sa.Column("parameters", _json(), nullable=False),
        sa.Column("kernel_name", sa.String(length=255), nullable=True),
        sa.Column("gpus", sa.Integer(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("state", _json(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_check_at", UTC(timezone=True), nullable=True),
        sa.Column("last_event_at", UTC(timezone=True), nullable=True),
        sa.Column("last_run_id", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triggers")),
    )
    with op.batch_alter_table("triggers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_triggers_active_next_check_at", ["active", "next_check_at"], unique=False
        )

    op.create_table(
        "trigger_events",
        sa.Column("trigger_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", UTC(timezone=True), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trigger_id"],
            ["triggers.id"],
            name=op.f("fk_trigger_events_trigger_id_triggers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trigger_id", "key", name=op.f("pk_trigger_events")),
    )
    with op.batch_alter_table("trigger_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_trigger_events_state_claimed_at", ["state", "claimed_at"], unique=False
        )
        batch_op.create_index("ix_trigger_events_run_id", ["run_id"], unique=False)

    op.create_table(
        "stream_points",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("stream", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("step", sa.BigInteger(), nullable=True),
        sa.Column("logged_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_points")),
    )
    with op.batch_alter_table("stream_points", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stream_points_stream_key_id", ["stream", "key", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("stream_points", schema=None) as batch_op:
        batch_op.drop_index("ix_stream_points_stream_key_id")
    op.drop_table("stream_points")
    with op.batch_alter_table("trigger_events", schema=None) as batch_op:
        batch_op.drop_index("ix_trigger_events_run_id")
        batch_op.drop_index("ix_trigger_events_state_claimed_at")
    op.drop_table("trigger_events")
    with op.batch_alter_table("triggers", schema=None) as batch_op:
        batch_op.drop_index("ix_triggers_active_next_check_at")
    op.drop_table("triggers")
