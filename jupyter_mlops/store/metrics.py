"""Metric points, their latest values and rollups: what tracking writes and the UI reads.

A batch of points is written in one transaction together with the ``latest_metrics``
upserts and the merged ``metric_rollups`` buckets, so a reader never sees points without
their summaries; reads of long series are downsampled from the rollups in SQL.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)

from .base import StoreBase, chunks
from .models import LatestMetric, Metric, MetricRollup
from .rollups import ROLLUP_LEVELS, ROLLUP_SHIFT, rollup_rows

METRIC_CHUNK = 50_000
"""Points per INSERT executemany (bounds the memory of one statement's parameters)."""

MetricPoint = tuple[str, int, "float | None", "datetime | float"]
"""(key, step, value, at): one point for ``RunStore.log_metrics_batch``. NaN may be None;
``at`` is an aware datetime or POSIX seconds (what the tracker records)."""


def _float_or_none(value: float | None) -> float | None:
    if value is None or value != value:  # NaN: stored as NULL
        return None
    return float(value)


def _aware(value: datetime | float) -> datetime:
    if not isinstance(value, datetime):
        return datetime.fromtimestamp(value, timezone.utc)
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the run store; use timezone-aware values")
    return value


def _grouped_extremes(
    group: ColumnElement[Any],
    lowest: tuple[ColumnElement[Any], ColumnElement[Any]],
    highest: tuple[ColumnElement[Any], ColumnElement[Any]],
    *where: ColumnElement[bool],
) -> Subquery:
    """Rows of ``(g, lo_step, lo_value, hi_step, hi_value)``: each raw point or rollup
    bucket with its downsampling group and its lowest and highest ``(step, value)``, so
    that raw points and every rollup level are downsampled by the same ranking query."""
    return (
        select(
            group.label("g"),
            lowest[0].label("lo_step"),
            lowest[1].label("lo_value"),
            highest[0].label("hi_step"),
            highest[1].label("hi_value"),
        )
        .where(*where)
        .subquery()
    )


class _SqliteTimes:
    """What ``UTCDateTime`` writes on SQLite (naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``),
    from aware datetimes or POSIX seconds, reusing the formatted second (the bulk of a
    batch shares a handful of seconds): a third of the cost of datetime objects."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, value: datetime | float) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is not timezone.utc:
                value = _aware(value).astimezone(timezone.utc)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        second = int(value // 1)
        micro = round((value - second) * 1_000_000)
        if micro == 1_000_000:
            second, micro = second + 1, 0
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{micro:06d}"


@dataclass(frozen=True)
class MetricSummary:
    """One metric key of a run: its latest point and the totals of its series."""

    key: str
    latest: float | None
    """The latest value (None for NaN)."""
    step: int
    at: datetime
    total_points: int
    first_step: int
    last_step: int
    min: float | None
    max: float | None


class MetricStore(StoreBase):
    """Metrics of runs (a part of :class:`~jupyter_mlops.store.RunStore`)."""

    def latest_metrics(self, run_id: str) -> dict[str, float]:
        with self.reading() as session:
            rows = session.execute(
                select(LatestMetric.key, LatestMetric.value).where(LatestMetric.run_id == run_id)
            ).all()
        return {key: value for key, value in rows}

    def _dialect_insert(self, model: Any) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(model)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(model)

    def _metric_insert_sql(self) -> str:
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        return (
            "INSERT INTO metrics (run_id, key, step, value, at) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
        )

    def log_metrics_batch(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Store metric points ``(key, step, value, at)`` in one transaction.

        The points go in with one executemany INSERT; ``latest_metrics`` is upserted per
        key (the point with the highest step wins; on a tie, the later one) and the
        ``metric_rollups`` buckets are merged, all in the same transaction, so a reader
        never sees points without their summaries. NaN values are stored as NULL.
        """
        if not points:
            return
        rows: list[tuple[Any, ...]] = []
        latest: dict[str, dict[str, Any]] = {}
        series: dict[str, list[tuple[int, float | None]]] = {}
        at_param = _SqliteTimes() if self.dialect == "sqlite" else _aware
        for key, step, value, at in points:
            step = int(step)
            value = _float_or_none(value)
            rows.append((run_id, key, step, value, at_param(at)))
            current = latest.get(key)
            if current is None or step >= current["step"]:
                latest[key] = {"run_id": run_id, "key": key, "step": step, "value": value, "at": at}
            pts = series.get(key)
            if pts is None:
                series[key] = pts = []
            pts.append((step, value))
        rollups: list[dict[str, Any]] = []
        for key, pts in series.items():
            rollups.extend(rollup_rows(run_id, key, pts))

        for row in latest.values():
            if not isinstance(row["at"], datetime):
                row["at"] = datetime.fromtimestamp(row["at"], timezone.utc)
        lm = self._dialect_insert(LatestMetric)
        latest_stmt = lm.on_conflict_do_update(
            index_elements=[LatestMetric.run_id, LatestMetric.key],
            set_={"step": lm.excluded.step, "value": lm.excluded.value, "at": lm.excluded.at},
            where=lm.excluded.step >= LatestMetric.step,
        )
        ru = self._dialect_insert(MetricRollup)
        ex, cur = ru.excluded, MetricRollup
        take_min = and_(
            ex.min_value.is_not(None),
            or_(
                cur.min_value.is_(None),
                ex.min_value < cur.min_value,
                and_(ex.min_value == cur.min_value, ex.min_step < cur.min_step),
            ),
        )
        take_max = and_(
            ex.max_value.is_not(None),
            or_(
                cur.max_value.is_(None),
                ex.max_value > cur.max_value,
                and_(ex.max_value == cur.max_value, ex.max_step < cur.max_step),
            ),
        )
        rollup_stmt = ru.on_conflict_do_update(
            index_elements=[cur.run_id, cur.key, cur.level, cur.bucket],
            set_={
                "count": cur.count + ex.count,
                "first_step": case(
                    (ex.first_step < cur.first_step, ex.first_step), else_=cur.first_step
                ),
                "last_step": case(
                    (ex.last_step > cur.last_step, ex.last_step), else_=cur.last_step
                ),
                "min_step": case((take_min, ex.min_step), else_=cur.min_step),
                "min_value": case((take_min, ex.min_value), else_=cur.min_value),
                "max_step": case((take_max, ex.max_step), else_=cur.max_step),
                "max_value": case((take_max, ex.max_value), else_=cur.max_value),
            },
        )
        with self.writing() as session:
            conn = session.connection()
            # The bulk of the work: straight to the driver's executemany, without
            # SQLAlchemy's per-row parameter processing (which tripled the cost).
            sql = self._metric_insert_sql()
            for chunk in chunks(rows, METRIC_CHUNK):
                conn.exec_driver_sql(sql, list(chunk))
            conn.execute(latest_stmt, list(latest.values()))
            for chunk in chunks(rollups, METRIC_CHUNK):
                conn.execute(rollup_stmt, list(chunk))

    def metric_keys(self, run_id: str) -> list[str]:
        """The metric keys a run has logged, sorted."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(LatestMetric.key)
                    .where(LatestMetric.run_id == run_id)
                    .order_by(LatestMetric.key)
                ).all()
            )

    def metric_series(self, run_id: str, key: str, max_points: int | None = 1000) -> dict[str, Any]:
        """A metric series, downsampled in SQL when it has more than ``max_points`` points.

        Returns ``{"key", "total_points", "points": [(step, value), ...], "downsampled"}``,
        points in step order (NaN values come back as ``float("nan")``). ``max_points``
        None or 0: every point. Downsampling splits the step range into ``max_points // 2``
        buckets and keeps each bucket's smallest and largest value (spikes survive), so at
        most ``max_points`` points come back. It reads the coarsest rollup level that
        still has that many buckets (at most ~8x as many rows as buckets) and merges
        neighbouring buckets with window functions; only short series are bucketed from
        the raw points. Bucket edges are therefore aligned to the level's width.
        """
        R, M = MetricRollup, Metric
        top = ROLLUP_LEVELS[-1]
        with self.reading() as session:
            conn = session.connection()
            total, first, last = conn.execute(
                select(func.sum(R.count), func.min(R.first_step), func.max(R.last_step)).where(
                    R.run_id == run_id, R.key == key, R.level == top
                )
            ).one()
            total = int(total or 0)
            result: dict[str, Any] = {
                "key": key,
                "total_points": total,
                "points": [],
                "downsampled": False,
            }
            if total == 0:
                return result
            if not max_points or total <= max_points:
                rows = conn.execute(
                    select(M.step, M.value)
                    .where(M.run_id == run_id, M.key == key)
                    .order_by(M.step, M.id)
                ).all()
                result["points"] = [(s, math.nan if v is None else v) for s, v in rows]
                return result
            buckets = max(1, max_points // 2)
            level = 0
            for lv in reversed(ROLLUP_LEVELS):
                shift = ROLLUP_SHIFT * lv
                if (last >> shift) - (first >> shift) + 1 >= buckets:
                    level = lv
                    break
            if level == 0:  # a short step range: bucket the raw points
                width = -(-(last - first + 1) // buckets)
                group = (M.step - literal(first, BigInteger)) // literal(width, BigInteger)
                source = _grouped_extremes(
                    group,
                    (M.step, M.value),
                    (M.step, M.value),  # a raw point is its own lowest and highest
                    M.run_id == run_id,
                    M.key == key,
                    M.value.is_not(None),
                )
            else:
                shift = ROLLUP_SHIFT * level
                first_bucket = first >> shift
                span = (last >> shift) - first_bucket + 1
                factor = -(-span // buckets)
                group = (R.bucket - literal(first_bucket, BigInteger)) // literal(
                    factor, BigInteger
                )
                source = _grouped_extremes(
                    group,
                    (R.min_step, R.min_value),
                    (R.max_step, R.max_value),
                    R.run_id == run_id,
                    R.key == key,
                    R.level == level,
                    R.min_value.is_not(None),
                )
            c = source.c
            ranked = select(
                c.lo_step,
                c.lo_value,
                c.hi_step,
                c.hi_value,
                func.row_number()
                .over(partition_by=c.g, order_by=(c.lo_value.asc(), c.lo_step.asc()))
                .label("lo_rank"),
                func.row_number()
                .over(partition_by=c.g, order_by=(c.hi_value.desc(), c.hi_step.asc()))
                .label("hi_rank"),
            ).subquery()
            r = ranked.c
            rows = conn.execute(
                union_all(
                    select(r.lo_step, r.lo_value).where(r.lo_rank == 1),
                    select(r.hi_step, r.hi_value).where(r.hi_rank == 1),
                )
            ).all()
        result["points"] = sorted({(int(s), float(v)) for s, v in rows})
        result["downsampled"] = True
        return result

    def metric_summaries(self, run_id: str) -> list[MetricSummary]:
        """Every metric key of a run, sorted: its latest point and the totals of its series
        (one query on ``latest_metrics`` and one on the top level of ``metric_rollups``)."""
        L, R = LatestMetric, MetricRollup
        with self.reading() as session:
            latest = session.execute(
                select(L.key, L.step, L.value, L.at).where(L.run_id == run_id).order_by(L.key)
            ).all()
            totals = {
                key: (count, first, last, low, high)
                for key, count, first, last, low, high in session.execute(
                    select(
                        R.key,
                        func.sum(R.count),
                        func.min(R.first_step),
                        func.max(R.last_step),
                        func.min(R.min_value),
                        func.max(R.max_value),
                    )
                    .where(R.run_id == run_id, R.level == ROLLUP_LEVELS[-1])
                    .group_by(R.key)
                ).all()
            }
        summaries = []
        for key, step, value, at in latest:
            count, first, last, low, high = totals.get(key, (0, step, step, None, None))
            summaries.append(
                MetricSummary(
                    key=key,
                    latest=value,
                    step=step,
                    at=at,
                    total_points=int(count or 0),
                    first_step=first,
                    last_step=last,
                    min=low,
                    max=high,
                )
            )
        return summaries

    def latest_metric_values(
        self, run_ids: Sequence[str], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, float | None]]:
        """{run id: {key: latest value (None for NaN)}} of these runs, keys sorted, in one
        query; ``keys``: only these (an empty list: none), None: every key."""
        L = LatestMetric
        values: dict[str, dict[str, float | None]] = {run_id: {} for run_id in run_ids}
        if not run_ids or (keys is not None and not keys):
            return values
        query = select(L.run_id, L.key, L.value).where(L.run_id.in_(list(run_ids)))
        if keys is not None:
            query = query.where(L.key.in_(list(keys)))
        with self.reading() as session:
            rows = session.execute(query.order_by(L.key)).all()
        for run_id, key, value in rows:
            values[run_id][key] = value
        return values
