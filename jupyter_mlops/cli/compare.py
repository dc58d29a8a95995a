"""``jupyter mlops compare A B``: two runs side by side: their inputs (same content or
changed, with drift per column of changed tables), parameters and latest metrics."""

from __future__ import annotations

import json
from typing import Any

from traitlets import Float

from .base import JSON_FLAG, MLOpsBaseApp, fail
from .verify_text import format_comparison


class CompareApp(MLOpsBaseApp):
    name = "jupyter-mlops-compare"
    description = (
        "Compare two runs (ids or unique prefixes): inputs by hash, with data drift per "
        "column (PSI, KS; flagged above --psi-threshold / --ks-threshold), parameters and "
        "latest metrics."
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "psi-threshold": "CompareApp.psi_threshold",
        "ks-threshold": "CompareApp.ks_threshold",
    }
    flags = dict(JSON_FLAG)

    psi_threshold = Float(0.2, help="Flag a column whose PSI is above this.").tag(config=True)
    ks_threshold = Float(0.1, help="Flag a column whose KS statistic is above this.").tag(
        config=True
    )

    def run(self) -> int:
        from ..input_compare import compare_inputs

        if len(self.extra_args) != 2:
            fail(f"expected two run ids, got {len(self.extra_args)}: {self.extra_args}")
        if self.psi_threshold < 0 or self.ks_threshold < 0:
            fail("--psi-threshold and --ks-threshold must be >= 0")
        first, second = (self.resolve_id(a) for a in self.extra_args)
        store = self.store
        comparison: dict[str, Any] = compare_inputs(
            store, first, second, psi_threshold=self.psi_threshold, ks_threshold=self.ks_threshold
        )
        runs = [store.require_run(first), store.require_run(second)]
        comparison["parameters"] = _side_by_side(
            *({p.name: json.loads(p.value_json) for p in r.params} for r in runs)
        )
        comparison["metrics"] = _side_by_side(*(store.latest_metrics(r.id) for r in runs))
        return self.print_result(comparison, format_comparison)


def _side_by_side(first: dict[str, Any], second: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": name, "first": first.get(name), "second": second.get(name)}
        for name in sorted(set(first) | set(second))
    ]
