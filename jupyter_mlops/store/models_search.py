"""Indexes for the runs table's searches and sorts (migration 0010), declared beside the
tables they belong to so ``test_migrations_match_models`` sees them.

* ``latest_metrics (key, value, run_id)``: sorting by a metric walks this index and stops
  after a page; a metric range filter reads one slice of it.
* ``run_params (name, run_id)`` and ``latest_metrics`` above: the column chooser's list of
  known names comes from index-only scans.
* ``runs (started_at, id)`` and ``runs (finished_at, id)``: sorting by start or end time.

Parameter *values* are indexed by a prefix (migration 0016): a value can be any JSON, and
a PostgreSQL b-tree entry cannot exceed 2.7 kB, so an index on the raw value would refuse
a long list. ``run_params (substr(value_json, 1, 200), name, run_id)`` holds every value,
and an equality filter finds its runs in one range of it (the value first, so a sort by
a parameter keeps reading ``(name, run_id)`` in run order) (see
:mod:`jupyter_mlops.store.search_filter`).
"""

from __future__ import annotations

from sqlalchemy import Index, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

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

VALUE_PREFIX = 200
"""Characters of a parameter's JSON held by ``ix_run_params_name_value_prefix``: with a
name of 255 characters, at most 4 bytes each in UTF-8, an entry stays far below
PostgreSQL's b-tree limit of 2,704 bytes whatever the value's length."""


def value_prefix(value_json: ColumnElement[str]) -> ColumnElement[str]:
    """``substr(value_json, 1, VALUE_PREFIX)`` with both numbers written into the SQL: a
    database uses an expression index only for the same expression, and a bound
    parameter in its place is not the same (SQLite never matches it, a PostgreSQL
    generic plan neither)."""
    return func.substr(value_json, literal_column("1"), literal_column(str(VALUE_PREFIX)))


PARAM_VALUE_INDEX = Index(
    "ix_run_params_name_value_prefix",
    value_prefix(RunParam.value_json),
    RunParam.name,
    RunParam.run_id,
)
"""Parameter equality (``params.lr = 0.01``): the runs with a value, one range of the index
(migration 0016; see :func:`jupyter_mlops.store.search_filter.param_value_in`)."""
