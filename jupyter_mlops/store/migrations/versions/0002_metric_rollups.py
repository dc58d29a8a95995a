"""metric rollups for fast charts; NaN metric values stored as NULL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

``metric_rollups`` holds min/max summaries of each metric series over step buckets at
several widths, so serving a 1,000,000-point series reads a few thousand rows instead
of scanning every point (see ``MetricRollup``). ``metrics.value`` and
``latest_metrics.value`` become nullable: NULL records a NaN, which SQLite cannot
store in a REAL column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_rollups",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_step", sa.BigInteger(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("min_step", sa.BigInteger(), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_step", sa.BigInteger(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_metric_rollups_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "key", "level", "bucket", name=op.f("pk_metric_rollups")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=True)
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=True)
    # Points logged before this revision have no rollups yet: build them once.
    _backfill_rollups()


def _backfill_rollups() -> None:
    bind = op.get_bind()
    has_points = bind.execute(sa.text("SELECT 1 FROM metrics LIMIT 1")).first()
    if has_points is None:
        return
    from jupyter_mlops.store.rollups import rollup_rows

    result = bind.execute(sa.text("SELECT run_id, key, step, value FROM metrics ORDER BY id"))
    by_series: dict[tuple[str, str], list[tuple[int, float | None]]] = {}
    for run_id, key, step, value in result:
        by_series.setdefault((run_id, key), []).append((step, value))
    table = sa.table(
        "metric_rollups",
        *(
            sa.column(name)
            for name in (
                "run_id",
                "key",
                "level",
                "bucket",
                "count",
                "first_step",
                "last_step",
                "min_step",
                "min_value",
                "max_step",
                "max_value",
            )
        ),
    )
    for (run_id, key), points in by_series.items():
        rows = rollup_rows(run_id, key, points)
        if rows:
            bind.execute(table.insert(), rows)


def downgrade() -> None:
    op.execute("DELETE FROM metrics WHERE value IS NULL")
    op.execute("DELETE FROM latest_metrics WHERE value IS NULL")
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=False)
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Float(), nullable=False)
    op.drop_table("metric_rollups")
