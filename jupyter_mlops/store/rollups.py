"""Metric rollups: per-bucket summaries of a series at every level of coarseness.

Level ``l`` buckets steps by ``step >> (ROLLUP_SHIFT * l)``; each bucket keeps its point
count, first and last step, and its smallest and largest value with their steps. Reading
a long series downsampled then scans a level with about as many rows as buckets wanted,
and the top level gives a series' totals (see :mod:`jupyter_mlops.store.metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

ROLLUP_SHIFT = 3
"""Rollup level ``l`` buckets steps by ``step >> (ROLLUP_SHIFT * l)``: widths 8, 64, 512..."""
ROLLUP_LEVELS = tuple(range(1, 14))
"""Widths 8 ... 8**13 (about 5.5e11 steps); the top level also gives a series' totals."""


def _merge_rollup(into: list[Any], other: Sequence[Any]) -> None:
    """Merge aggregate ``other`` into ``into``: [count, first, last, min_s, min_v, max_s, max_v].

    Ties keep the earliest step, for the smallest and for the largest value alike, as the
    SQL upsert in ``log_metrics_batch`` and the raw-point path of ``metric_series`` do.
    """
    into[0] += other[0]
    if other[1] < into[1]:
        into[1] = other[1]
    if other[2] > into[2]:
        into[2] = other[2]
    v = other[4]
    if v is not None:
        cur = into[4]
        if cur is None or v < cur or (v == cur and other[3] < into[3]):
            into[3], into[4] = other[3], v
        cur = into[6]
        v = other[6]
        if cur is None or v > cur or (v == cur and other[5] < into[5]):
            into[5], into[6] = other[5], v


def rollup_rows(
    run_id: str, key: str, points: Iterable[tuple[int, float | None]]
) -> list[dict[str, Any]]:
    """Rollup rows (every level) summarising ``points`` = [(step, value or None), ...]."""
    level: dict[int, list[Any]] = {}
    shift = ROLLUP_SHIFT
    for step, value in points:
        bucket = step >> shift
        agg = level.get(bucket)
        if agg is None:
            if value is None:
                level[bucket] = [1, step, step, None, None, None, None]
            else:
                level[bucket] = [1, step, step, step, value, step, value]
        else:
            _merge_rollup(
                agg,
                (1, step, step, step, value, step, value)
                if value is not None
                else (1, step, step, None, None, None, None),
            )
    rows: list[dict[str, Any]] = []
    for lv in ROLLUP_LEVELS:
        if lv > ROLLUP_LEVELS[0]:
            coarser: dict[int, list[Any]] = {}
            for bucket, agg in level.items():
                parent = coarser.get(bucket >> shift)
                if parent is None:
                    coarser[bucket >> shift] = list(agg)
                else:
                    _merge_rollup(parent, agg)
            level = coarser
        for bucket, (count, first, last, min_s, min_v, max_s, max_v) in level.items():
            rows.append(
                {
                    "run_id": run_id,
                    "key": key,
                    "level": lv,
                    "bucket": bucket,
                    "count": count,
                    "first_step": first,
                    "last_step": last,
                    "min_step": min_s,
                    "min_value": min_v,
                    "max_step": max_s,
                    "max_value": max_v,
                }
            )
    return rows
