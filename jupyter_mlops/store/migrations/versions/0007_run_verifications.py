"""run verifications: the pre-flight check and the verdict of a verified reproduction

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from jupyter_mlops.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "run_verifications",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("original_id", sa.String(length=32), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("changed_inputs", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_run_verifications_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_verifications")),
    )
    op.create_index(op.f("ix_run_verifications_original_id"), "run_verifications", ["original_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_run_verifications_original_id"), table_name="run_verifications")
    op.drop_table("run_verifications")
