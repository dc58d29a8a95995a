"""Metric REST handlers: a run's metric keys, one series, several runs' series at once.

Series are read downsampled (``RunStore.metric_series``: at most ``max_points`` points per
series, min and max of each bucket kept); NaN and infinite values are sent as ``null``,
since JSON has no such numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..input_rules import parse_bound
from ..serialize import iso
from .base import MLOpsHandler, NotFound
from .models import MetricSeriesSet, MetricSeriesWithMaxPoints, RunMetrics
from .spec import (
    BAD_REQUEST,
    FORBIDDEN,
    MAX_POINTS_PARAM,
    NOT_FOUND,
    RUN_ID,
    PathItems,
    json_response,
    path_param,
    query,
)

DEFAULT_POINTS = 1000
MAX_POINTS = 100_000
MAX_OVERLAY_RUNS = 50
MAX_OVERLAY_KEYS = 20
MAX_METRIC_COLUMNS = 20
MAX_KEY_LENGTH = 255


def _json_number(value: float | None) -> float | None:
    """A metric value for JSON: NaN and infinities (which JSON cannot carry) are null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def split_values(raw: Iterable[str], *, commas: bool = True) -> list[str]:
    """Repeated (and, with ``commas``, comma-separated) query values, stripped, empty ones
    dropped, in order, without duplicates."""
    seen: dict[str, None] = {}
    for arg in raw:
        for item in arg.split(",") if commas else [arg]:
            item = item.strip()
            if item:
                seen[item] = None
    return list(seen)


def check_keys(keys: Sequence[str], field: str, limit: int) -> None:
    if len(keys) > limit:
        raise ValueError(f"at most {limit} {field} values, got {len(keys)}")
    for key in keys:
        if len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"{field} {key[:40]!r}... is longer than {MAX_KEY_LENGTH} characters")


def parse_max_points(raw: str | None) -> int:
    return parse_bound(raw, "max_points", DEFAULT_POINTS, 2, MAX_POINTS)


def metric_summaries(store: Any, run_id: str) -> list[dict[str, Any]]:
    """Every metric key of a run: its latest point and the totals of its series."""
    return [
        {
            "key": summary.key,
            "latest": _json_number(summary.latest),
            "step": summary.step,
            "at": iso(summary.at),
            "total_points": summary.total_points,
            "first_step": summary.first_step,
            "last_step": summary.last_step,
            "min": _json_number(summary.min),
            "max": _json_number(summary.max),
        }
        for summary in store.metric_summaries(run_id)
    ]


def series_dict(run_id: str, series: Mapping[str, Any]) -> dict[str, Any]:
    """``RunStore.metric_series`` as JSON: ``points`` are ``[step, value or null]``."""
    return {
        "run_id": run_id,
        "key": series["key"],
        "total_points": series["total_points"],
        "downsampled": series["downsampled"],
        "points": [[int(step), _json_number(value)] for step, value in series["points"]],
    }


def latest_values(
    store: Any, run_ids: Sequence[str], keys: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    """{run id: {key: latest value}} for the given runs and keys (one query)."""
    return {
        run_id: {key: _json_number(value) for key, value in values.items()}
        for run_id, values in store.latest_metric_values(run_ids, keys).items()
    }


def run_metrics(store: Any, run_id: str) -> dict[str, Any]:
    """A run's status and the summary of each of its metric keys."""
    run = store.require_run(run_id)
    return {"run_id": run.id, "status": run.status, "keys": metric_summaries(store, run.id)}


class RunMetricsHandler(MLOpsHandler):
    """The metric keys of a run, each with its latest value and series totals."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.send_json(await self.blocking(run_metrics, self.mlops.store, run_id))


class MetricSeriesHandler(MLOpsHandler):
    """One metric series of a run, downsampled to at most ``max_points`` points."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, key: str) -> None:
        try:
            max_points = parse_max_points(self.get_argument("max_points", None))
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        store = self.mlops.store

        def load() -> dict[str, Any]:
            store.require_run(run_id)
            series = store.metric_series(run_id, key, max_points)
            if not series["total_points"] and key not in store.metric_keys(run_id):
                raise NotFound(f"run {run_id} has no metric {key!r}")
            return {**series_dict(run_id, series), "max_points": max_points}

        self.send_json(await self.blocking(load))


class MetricsHandler(MLOpsHandler):
    """Series of several runs and keys in one request (overlays, live refresh)."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        run_ids = split_values(self.get_arguments("run"))
        keys = split_values(self.get_arguments("key"), commas=False)
        try:
            max_points = parse_max_points(self.get_argument("max_points", None))
            if not run_ids:
                raise ValueError("give at least one run (run=<id>, repeatable)")
            if not keys:
                raise ValueError("give at least one metric key (key=<key>, repeatable)")
            check_keys(run_ids, "run", MAX_OVERLAY_RUNS)
            check_keys(keys, "key", MAX_OVERLAY_KEYS)
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        bad = [r for r in run_ids if not re.fullmatch(r"[0-9a-f]{1,32}", r)]
        if bad:
            raise self.fail(404, f"no run with id {bad[0]!r}")
        store = self.mlops.store

        def load() -> dict[str, Any]:
            for run_id in run_ids:
                store.require_run(run_id)
            series = [
                series_dict(run_id, store.metric_series(run_id, key, max_points))
                for run_id in run_ids
                for key in keys
            ]
            return {"max_points": max_points, "series": series}

        self.send_json(await self.blocking(load))


_RUN_IDS = {"type": "string", "pattern": "^[0-9a-f]{1,32}$"}
_KEY = {"type": "string", "maxLength": 255}

PATHS: PathItems = {
    "/runs/{run_id}/metrics": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "listRunMetrics",
            "summary": "The metric keys a run has logged, each with its latest value and totals",
            "responses": {
                "200": json_response("The run's metric keys, sorted", RunMetrics),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/runs/{run_id}/metrics/{key}": {
        "parameters": [
            RUN_ID,
            path_param("key", _KEY, "The metric key (may contain `/`, e.g. `train/loss`)."),
        ],
        "get": {
            "operationId": "getMetricSeries",
            "summary": "One metric series of a run, in step order, downsampled to `max_points`",
            "parameters": [MAX_POINTS_PARAM],
            "responses": {
                "200": json_response("The series", MetricSeriesWithMaxPoints),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/metrics": {
        "get": {
            "operationId": "getMetricSeriesSet",
            "summary": "Series of several runs and keys in one request (overlays)",
            "description": "One series per (run, key), runs in the order given, then keys. "
            "A run that has not logged a key gets an empty series (`total_points` 0); an "
            "unknown run is a 404.",
            "parameters": [
                query(
                    "run",
                    {"type": "array", "minItems": 1, "maxItems": 50, "items": _RUN_IDS},
                    "Run ids (repeat, or comma-separate); at most 50.",
                    required=True,
                ),
                query(
                    "key",
                    {"type": "array", "minItems": 1, "maxItems": 20, "items": _KEY},
                    "Metric keys (repeat; a key may contain commas); at most 20.",
                    required=True,
                ),
                MAX_POINTS_PARAM,
            ],
            "responses": {
                "200": json_response("The series", MetricSeriesSet),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
