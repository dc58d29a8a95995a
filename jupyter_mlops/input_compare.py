"""Two runs' inputs side by side: the same content (hash), changed, or on one side only,
with drift figures per column where both sides recorded table statistics.

Inputs are paired by their name (the parameter name or the name given to
``use_dataset``), else by URI. This is what ``jupyter mlops compare A B`` prints and
``GET /runs/{a}/input-drift/{b}`` serves to the compare view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .drift import KS_THRESHOLD, PSI_THRESHOLD, compare_stats
from .verify.inputs import recorded_inputs

SAME = "same"
CHANGED = "changed"
ONLY_FIRST = "only_first"
ONLY_SECOND = "only_second"


def _side(record: Any) -> dict[str, Any]:
    stats = getattr(record, "stats", None) or None
    return {
        "uri": record.uri,
        "sha256": record.sha256,
        "size": record.size,
        "rows": stats.get("rows") if isinstance(stats, dict) else None,
        "kind": getattr(record, "kind", "dataset"),
    }


def _pair(first: Sequence[Any], second: Sequence[Any]) -> list[tuple[str, Any, Any]]:
    pairs: list[tuple[str, Any, Any]] = []
    rest = list(second)
    for record in first:
        match = next((r for r in rest if r.name == record.name), None)
        if match is None:
            match = next((r for r in rest if r.uri == record.uri), None)
        if match is not None:
            rest.remove(match)
        pairs.append((record.name, record, match))
    pairs += [(r.name, None, r) for r in rest]
    return pairs


def compare_run_inputs(
    first: Sequence[Any],
    second: Sequence[Any],
    *,
    psi_threshold: float = PSI_THRESHOLD,
    ks_threshold: float = KS_THRESHOLD,
) -> list[dict[str, Any]]:
    """One row per input: ``name``, ``status``, ``first``/``second`` (uri, sha256, size,
    rows; None on the side without it), ``drift`` (per column, when both sides have
    stats and the content changed) and ``flagged`` (any column above a threshold)."""
    rows = []
    for name, a, b in _pair(first, second):
        if a is None or b is None:
            status = ONLY_FIRST if b is None else ONLY_SECOND
        else:
            status = SAME if a.sha256 == b.sha256 else CHANGED
        drift: list[dict[str, Any]] | None = None
        stats_a, stats_b = getattr(a, "stats", None), getattr(b, "stats", None)
        if status == CHANGED and stats_a and stats_b:
            drift = [
                d.to_json()
                for d in compare_stats(
                    stats_a, stats_b, psi_threshold=psi_threshold, ks_threshold=ks_threshold
                )
            ]
        rows.append(
            {
                "name": name,
                "status": status,
                "first": _side(a) if a is not None else None,
                "second": _side(b) if b is not None else None,
                "drift": drift,
                "flagged": any(d["flagged"] for d in drift or []),
            }
        )
    return rows


def compare_inputs(
    store: Any, first_id: str, second_id: str, **thresholds: float
) -> dict[str, Any]:
    """:func:`compare_run_inputs` of two stored runs, with the thresholds used."""
    store.require_run(first_id)
    store.require_run(second_id)
    return {
        "first": first_id,
        "second": second_id,
        "psi_threshold": thresholds.get("psi_threshold", PSI_THRESHOLD),
        "ks_threshold": thresholds.get("ks_threshold", KS_THRESHOLD),
        "inputs": compare_run_inputs(
            recorded_inputs(store, first_id), recorded_inputs(store, second_id), **thresholds
        ),
    }
