"""The verdict of a reproduction: ``identical``, ``equivalent`` or ``differs``, and why.

``identical``: every output, metric point and model weight is byte-for-byte the same.
``equivalent``: what differs is only volatile text (see :mod:`.normalize`) or metric
values within the tolerance. ``differs``: anything else, including a reproduction that
did not succeed, a model only one side logged or whose weights hash differently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cells import CellDifference
from .metrics import MetricDifference

IDENTICAL = "identical"
EQUIVALENT = "equivalent"
DIFFERS = "differs"
VERDICTS = (IDENTICAL, EQUIVALENT, DIFFERS)
FIRST_CELLS = 5
"""Differing cells kept in the verdict (the first ones in notebook order)."""


@dataclass
class ModelDifference:
    name: str
    original: str | None
    reproduction: str | None
    """The sha256 of each side's weights; None: that side logged no model of that name."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "original": self.original, "reproduction": self.reproduction}


@dataclass
class Verdict:
    verdict: str
    summary: str
    cells: list[CellDifference] = field(default_factory=list)
    metrics: list[MetricDifference] = field(default_factory=list)
    models: list[ModelDifference] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "summary": self.summary,
            "cells": [c.to_json() for c in self.cells[:FIRST_CELLS]],
            "metrics": [m.to_json() for m in self.metrics],
            "models": [m.to_json() for m in self.models],
            "counts": dict(self.counts),
        }


def compare_models(
    original: Mapping[str, str], reproduction: Mapping[str, str]
) -> list[ModelDifference]:
    """Models (by artifact name) whose weights' sha256 differ or that one side lacks."""
    return [
        ModelDifference(name, original.get(name), reproduction.get(name))
        for name in sorted(set(original) | set(reproduction))
        if original.get(name) != reproduction.get(name)
    ]


def decide(
    cells: Sequence[CellDifference],
    metrics: Sequence[MetricDifference],
    models: Sequence[ModelDifference],
    counts: Mapping[str, int],
    *,
    failure: str | None = None,
) -> Verdict:
    """The verdict from the differences found; ``failure``: why the reproduction cannot
    have reproduced the run (it did not succeed, an executed notebook is missing)."""
    differing_cells = [c for c in cells if c.outcome == DIFFERS]
    differing_metrics = [m for m in metrics if m.outcome == DIFFERS]
    reasons = []
    if failure:
        reasons.append(failure)
    if differing_cells:
        listed = ", ".join(str(c.cell_index) for c in differing_cells[:FIRST_CELLS])
        reasons.append(f"outputs of cell {listed} differ")
    if differing_metrics:
        first = differing_metrics[0]
        at = f" at step {first.step}" if first.step is not None else ""
        reasons.append(f"metric {first.key}{at} differs ({first.why})")
    if models:
        reasons.append(f"model weights differ: {', '.join(m.name for m in models)}")
    kept_cells = differing_cells + [c for c in cells if c.outcome != DIFFERS]
    if reasons:
        verdict, summary = DIFFERS, "; ".join(reasons)
    elif cells or metrics:
        parts = []
        if cells:
            parts.append(f"{len(cells)} cell(s) equal after normalizing volatile text")
        if metrics:
            parts.append(f"{len(metrics)} metric point(s) within the tolerance")
        verdict, summary = EQUIVALENT, "; ".join(parts)
    else:
        verdict, summary = IDENTICAL, "outputs, metrics and model weights are the same"
    return Verdict(verdict, summary, kept_cells, list(metrics), list(models), dict(counts))
