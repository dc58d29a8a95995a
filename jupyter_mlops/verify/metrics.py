"""Logged metrics of two runs, compared point by point.

Both runs must have logged the same keys at the same steps; values are equal exactly, or
within ``rtol``/``atol`` as :func:`math.isclose` takes them (``|a - b| <= max(rtol *
max(|a|, |b|), atol)``). NaN equals NaN here: a reproduction that diverges the same way
reproduced it. ``system/*`` metrics (CPU, memory, GPU samples) describe the machine, not
the result, and are left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SYSTEM_PREFIX = "system/"
MAX_DIFFERENCES = 20
"""Most differing metric points reported (the first ones, by key then step)."""

Series = Mapping[str, Sequence[tuple[int, float | None]]]
"""``{key: [(step, value), ...]}`` in step order."""


@dataclass
class MetricDifference:
    key: str
    step: int | None
    original: float | None
    reproduction: float | None
    outcome: str
    """``equivalent`` (within tolerance) or ``differs``."""
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "step": self.step,
            "original": _json_number(self.original),
            "reproduction": _json_number(self.reproduction),
            "outcome": self.outcome,
            "why": self.why,
        }


def _json_number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b


def _close(a: float | None, b: float | None, rtol: float, atol: float) -> bool:
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return _same(a, b)
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def compare_metrics(
    original: Series, reproduction: Series, *, rtol: float = 0.0, atol: float = 0.0
) -> tuple[list[MetricDifference], int]:
    """Every point that is not exactly equal (up to :data:`MAX_DIFFERENCES`), and how many
    points were compared."""
    differences: list[MetricDifference] = []
    compared = 0
    keys = sorted(k for k in set(original) | set(reproduction) if not k.startswith(SYSTEM_PREFIX))
    for key in keys:
        if key not in reproduction or key not in original:
            side = "reproduction" if key not in reproduction else "original"
            differences.append(
                MetricDifference(key, None, None, None, "differs", f"not logged by the {side}")
            )
            continue
        a, b = list(original[key]), list(reproduction[key])
        steps_a, steps_b = [s for s, _ in a], [s for s, _ in b]
        if steps_a != steps_b:
            missing = sorted(set(steps_a) ^ set(steps_b))
            step = missing[0] if missing else None
            differences.append(
                MetricDifference(
                    key,
                    step,
                    None,
                    None,
                    "differs",
                    f"logged at other steps ({len(steps_a)} points against {len(steps_b)})",
                )
            )
            continue
        for (step, va), (_, vb) in zip(a, b, strict=True):
            compared += 1
            if _same(va, vb):
                continue
            within = _close(va, vb, rtol, atol)
            differences.append(
                MetricDifference(
                    key,
                    step,
                    va,
                    vb,
                    "equivalent" if within else "differs",
                    f"within rtol={rtol:g} atol={atol:g}" if within else "outside the tolerance",
                )
            )
    differs = [d for d in differences if d.outcome == "differs"]
    within = [d for d in differences if d.outcome != "differs"]
    return (differs + within)[:MAX_DIFFERENCES] if differences else [], compared


def metric_series(store: Any, run_id: str) -> dict[str, list[tuple[int, float | None]]]:
    """Every point of every (non-system) metric a run logged, from the store."""
    series: dict[str, list[tuple[int, float | None]]] = {}
    for key in store.metric_keys(run_id):
        if key.startswith(SYSTEM_PREFIX):
            continue
        points = store.metric_series(run_id, key, max_points=None)["points"]
        series[key] = [(int(step), None if v is None else float(v)) for step, v in points]
    return series
