"""Data drift between two recorded datasets, from their statistics alone.

Runs record per-column summaries of tabular inputs (see the stats dict of
:func:`jupyter_mlops.datasets.table_stats`: 21 quantiles and a 20-bin histogram per
numeric column, the top values per categorical one), not the data. Drift is estimated from
those, so two runs a year apart can be compared without either file:

* **PSI** (population stability index) of a numeric column: both distributions are put on
  common edges, the old one's deciles (open-ended outer bins, so new mass beyond the old
  range counts), each side's mass per bin read from its histogram as a piecewise-linear
  CDF (uniform within a recorded bin); ``PSI = Σ (new - old) · ln(new / old)``. Of a
  categorical column: over the union of both top-value lists plus one "other" bucket.
  Empty bins are floored at :data:`EPSILON`.
* **KS** (Kolmogorov-Smirnov statistic) of a numeric column: the largest distance between
  the two CDFs given by the quantile functions (linear between recorded quantiles); both
  are piecewise linear, so the supremum is at a knot of either and is computed exactly
  for them. It approximates ``scipy.stats.ks_2samp`` on the raw data to within about the
  quantiles' spacing (0.05).

A column is flagged when PSI > ``psi_threshold`` (0.2: the usual "significant shift") or
KS > ``ks_threshold`` (0.1), or when it is only on one side or changed type.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

PSI_THRESHOLD = 0.2
KS_THRESHOLD = 0.1
EPSILON = 1e-4
"""The smallest share a bin is given, so an empty bin does not make PSI infinite."""
DECILES = [i / 10 for i in range(1, 10)]


@dataclass
class ColumnDrift:
    column: str
    type: str
    psi: float | None
    ks: float | None
    flagged: bool
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class PiecewiseCDF:
    """A CDF through the points ``(x_i, p_i)`` (x ascending, p non-decreasing), linear
    between them; a repeated ``x`` is a jump. 0 before the first point, 1 after the last."""

    def __init__(self, xs: Sequence[float], ps: Sequence[float]) -> None:
        self.xs: list[float] = []
        self.low: list[float] = []
        self.high: list[float] = []
        for x, p in zip(xs, ps, strict=True):
            if self.xs and x == self.xs[-1]:
                self.high[-1] = max(self.high[-1], p)
            else:
                self.xs.append(float(x))
                self.low.append(float(p))
                self.high.append(float(p))
        if self.xs:
            self.low[0], self.high[-1] = 0.0, 1.0  # all mass within the recorded range

    def __call__(self, x: float, *, left: bool = False) -> float:
        """F(x), or the left limit F(x-) with ``left``."""
        xs = self.xs
        if not xs:
            return 0.0
        i = bisect.bisect_right(xs, x) - 1
        if i < 0:
            return 0.0
        if xs[i] == x:
            return self.low[i] if left else self.high[i]
        if i == len(xs) - 1:
            return 1.0
        x0, x1 = xs[i], xs[i + 1]
        p0, p1 = self.high[i], self.low[i + 1]
        return p0 + (p1 - p0) * (x - x0) / (x1 - x0)


def quantile_cdf(quantiles: Mapping[str, float | None]) -> PiecewiseCDF:
    points = sorted(
        (float(p), float(v)) for p, v in quantiles.items() if v is not None and math.isfinite(v)
    )
    return PiecewiseCDF([v for _, v in points], [p for p, _ in points])


def histogram_cdf(histogram: Mapping[str, Sequence[float]]) -> PiecewiseCDF | None:
    edges, counts = list(histogram.get("edges") or []), list(histogram.get("counts") or [])
    total = float(sum(counts))
    if len(edges) != len(counts) + 1 or total <= 0:
        return None
    cumulative, running = [0.0], 0.0
    for count in counts:
        running += count
        cumulative.append(running / total)
    return PiecewiseCDF(edges, cumulative)


def _psi(old: Sequence[float], new: Sequence[float]) -> float:
    total = 0.0
    for a, b in zip(old, new, strict=True):
        a, b = max(a, EPSILON), max(b, EPSILON)
        total += (b - a) * math.log(b / a)
    return total


def _bin_shares(cdf: PiecewiseCDF, cuts: Sequence[float]) -> list[float]:
    bounds = [0.0, *(cdf(c) for c in cuts), 1.0]
    return [max(0.0, b - a) for a, b in itertools.pairwise(bounds)]


def ks_statistic(old: PiecewiseCDF, new: PiecewiseCDF) -> float:
    """sup |F_old - F_new|, at the knots of either (and their left limits)."""
    best = 0.0
    for x in sorted(set(old.xs) | set(new.xs)):
        for left in (False, True):
            best = max(best, abs(old(x, left=left) - new(x, left=left)))
    return best


def numeric_drift(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[float | None, float | None]:
    """(PSI, KS) of two numeric column summaries; None where they lack the figures."""
    q_old, q_new = old.get("quantiles") or {}, new.get("quantiles") or {}
    ks = None
    if q_old and q_new:
        ks = ks_statistic(quantile_cdf(q_old), quantile_cdf(q_new))
    cdf_old = histogram_cdf(old.get("histogram") or {}) or (quantile_cdf(q_old) if q_old else None)
    cdf_new = histogram_cdf(new.get("histogram") or {}) or (quantile_cdf(q_new) if q_new else None)
    psi = None
    if cdf_old is not None and cdf_new is not None and cdf_old.xs and cdf_new.xs:
        reference = quantile_cdf(q_old) if q_old else cdf_old
        cuts = sorted({_inverse(reference, p) for p in DECILES})
        psi = _psi(_bin_shares(cdf_old, cuts), _bin_shares(cdf_new, cuts))
    return psi, ks


def _inverse(cdf: PiecewiseCDF, p: float) -> float:
    """The smallest x with F(x) >= p (a cut point at the old distribution's quantile p)."""
    xs = cdf.xs
    for i, x in enumerate(xs):
        if cdf.high[i] >= p:
            if cdf.low[i] >= p or i == 0:
                return x
            x0, p0 = xs[i - 1], cdf.high[i - 1]
            return x0 + (x - x0) * (p - p0) / (cdf.low[i] - p0) if cdf.low[i] > p0 else x
    return xs[-1]


def categorical_psi(old: Mapping[str, Any], new: Mapping[str, Any]) -> float | None:
    """PSI over the union of both top-value lists, plus an "other" bucket for the rest."""

    def shares(column: Mapping[str, Any]) -> tuple[dict[str, float], float] | None:
        count = (column.get("count") or 0) - (column.get("nulls") or 0)
        if count <= 0:
            return None
        top = {str(v): c / count for v, c in column.get("top") or []}
        return top, max(0.0, 1.0 - sum(top.values()))

    a, b = shares(old), shares(new)
    if a is None or b is None:
        return None
    values = sorted(set(a[0]) | set(b[0]))
    old_shares = [a[0].get(v, 0.0) for v in values] + [a[1]]
    new_shares = [b[0].get(v, 0.0) for v in values] + [b[1]]
    return _psi(old_shares, new_shares)


def compare_stats(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    *,
    psi_threshold: float = PSI_THRESHOLD,
    ks_threshold: float = KS_THRESHOLD,
) -> list[ColumnDrift]:
    """Drift per column of two stats dicts (old: the reference), in the old one's column
    order, then columns only the new one has."""
    old_columns = {c["name"]: c for c in (old or {}).get("columns") or []}
    new_columns = {c["name"]: c for c in (new or {}).get("columns") or []}
    names = list(old_columns) + [n for n in new_columns if n not in old_columns]
    drifts = []
    for name in names:
        a, b = old_columns.get(name), new_columns.get(name)
        if a is None or b is None:
            side = "old" if b is None else "new"
            kind = (a or b or {}).get("type", "other")
            drifts.append(ColumnDrift(name, kind, None, None, True, f"only in the {side} data"))
            continue
        if a.get("type") != b.get("type"):
            note = f"type changed: {a.get('type')} → {b.get('type')}"
            drifts.append(ColumnDrift(name, str(b.get("type")), None, None, True, note))
            continue
        kind = str(a.get("type"))
        psi: float | None
        ks: float | None = None
        if kind == "numeric":
            psi, ks = numeric_drift(a, b)
        elif kind == "categorical":
            psi = categorical_psi(a, b)
        else:
            psi = None
        flagged = (psi is not None and psi > psi_threshold) or (
            ks is not None and ks > ks_threshold
        )
        drifts.append(
            ColumnDrift(
                name,
                kind,
                None if psi is None else round(psi, 6),
                None if ks is None else round(ks, 6),
                flagged,
            )
        )
    return drifts
