"""Indexes for the runs table's searches and sorts (migration 0010), declared beside the
tables they belong to so ``test_migrations_match_models`` sees them.

* ``latest_metrics (key, value, run_id)``: sorting by a metric walks this index and stops
  after a page; a metric range filter reads one slice of it.
* ``run_params (name, run_id)`` and ``latest_metrics`` above: the column chooser's list of
  known names comes from index-only scans.
* ``runs (started_at, id)`` and ``runs (finished_at, id)``: sorting by start or end time.

Parameter *values* are not indexed: a value can be any JSON, and a PostgreSQL b-tree
entry cannot exceed 2.7 kB, so an index on them would refuse a long list. Parameter
filters probe ``run_params``'s primary key ``(run_id, name)`` while the runs are walked in
order instead (see :mod:`jupyter_mlops.store.search_filter`).
"""

from __future__ import annotations

from sqlalchemy import Index

from .models import LatestMetric, Run, RunParam

SEARCH_INDEXES = (
    Index(
        "ix_latest_metrics_key_value_run_id",
        LatestMetric.key,
        LatestMetric.value,
        LatestMetric.run_id,
    ),
    Index("ix_run_params_name_run_id", RunParam.name, RunParam.run_id),
    Index("ix_runs_started_at_id", Run.started_at, Run.id),
    Index("ix_runs_finished_at_id", Run.finished_at, Run.id),
)
