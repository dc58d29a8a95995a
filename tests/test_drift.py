"""Drift figures from recorded statistics: PSI and KS of synthetic columns, checked against
``scipy.stats.ks_2samp`` on the raw samples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from jupyter_mlops.drift import KS_THRESHOLD, PSI_THRESHOLD, compare_stats

QUANTILE_POINTS = [i / 20 for i in range(21)]


def numeric_column(name: str, values: np.ndarray) -> dict[str, Any]:
    """A numeric column summary in the shape the datasets record (21 quantiles, 20 bins)."""
    counts, edges = np.histogram(values, bins=20)
    return {
        "name": name,
        "type": "numeric",
        "count": int(values.size),
        "nulls": 0,
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
        "quantiles": {f"{p:.2f}": float(np.quantile(values, p)) for p in QUANTILE_POINTS},
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


def categorical_column(name: str, values: list[str]) -> dict[str, Any]:
    labels, counts = np.unique(values, return_counts=True)
    top = sorted(zip(labels.tolist(), counts.tolist(), strict=True), key=lambda t: -t[1])[:20]
    return {
        "name": name,
        "type": "categorical",
        "count": len(values),
        "nulls": 0,
        "distinct": len(labels),
        "top": [[v, int(c)] for v, c in top],
    }


def table(*columns: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "csv",
        "rows": columns[0]["count"],
        "sampled": False,
        "columns": list(columns),
    }


def test_the_same_distribution_does_not_drift() -> None:
    rng = np.random.default_rng(1)
    old, new = rng.normal(0, 1, 20_000), rng.normal(0, 1, 20_000)
    [drift] = compare_stats(table(numeric_column("x", old)), table(numeric_column("x", new)))
    assert drift.psi is not None and drift.psi < 0.01
    assert drift.ks is not None and drift.ks < 0.03
    assert not drift.flagged


@pytest.mark.parametrize("shift", [0.3, 0.5, 1.0])
def test_a_shifted_column_is_flagged_and_ks_matches_scipy(shift: float) -> None:
    rng = np.random.default_rng(2)
    old, new = rng.normal(0, 1, 20_000), rng.normal(shift, 1.3, 20_000)
    [drift] = compare_stats(table(numeric_column("x", old)), table(numeric_column("x", new)))
    exact = scipy_stats.ks_2samp(old, new).statistic
    assert drift.ks == pytest.approx(exact, abs=0.03)
    assert drift.flagged and drift.ks > KS_THRESHOLD
    assert drift.psi is not None and drift.psi > 0.05 * shift


def test_psi_grows_with_the_shift_and_passes_its_threshold() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(0, 1, 20_000)
    psis = []
    for shift in (0.0, 0.25, 0.5, 1.0):
        [drift] = compare_stats(
            table(numeric_column("x", base)),
            table(numeric_column("x", rng.normal(shift, 1, 20_000))),
        )
        psis.append(drift.psi)
    assert psis == sorted(psis)
    assert psis[0] < 0.01 and psis[-1] > PSI_THRESHOLD


def test_categorical_psi_from_top_values() -> None:
    rng = np.random.default_rng(4)
    old = rng.choice(["a", "b", "c"], 5000, p=[0.5, 0.3, 0.2]).tolist()
    same = rng.choice(["a", "b", "c"], 5000, p=[0.5, 0.3, 0.2]).tolist()
    moved = rng.choice(["a", "b", "c", "d"], 5000, p=[0.2, 0.2, 0.2, 0.4]).tolist()
    [steady] = compare_stats(
        table(categorical_column("c", old)), table(categorical_column("c", same))
    )
    [shifted] = compare_stats(
        table(categorical_column("c", old)), table(categorical_column("c", moved))
    )
    assert steady.psi is not None and steady.psi < 0.01 and not steady.flagged
    assert shifted.psi is not None and shifted.psi > PSI_THRESHOLD and shifted.flagged
    assert shifted.ks is None


def test_columns_missing_or_retyped_are_flagged_in_order() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1, 1000)
    old = table(numeric_column("a", values), numeric_column("b", values))
    retyped = categorical_column("b", ["x"] * 1000)
    new = table(numeric_column("a", values), retyped, numeric_column("c", values))
    drifts = compare_stats(old, new)
    assert [(d.column, d.flagged) for d in drifts] == [("a", False), ("b", True), ("c", True)]
    assert drifts[0].psi == pytest.approx(0.0, abs=1e-9) and drifts[0].ks == 0.0
    assert drifts[1].note == "type changed: numeric → categorical"
    assert drifts[2].note == "only in the new data"


def test_a_constant_column_and_missing_stats() -> None:
    const = numeric_column("k", np.full(100, 3.0))
    assert compare_stats(table(const), table(const))[0].flagged is False
    assert compare_stats(None, None) == []
