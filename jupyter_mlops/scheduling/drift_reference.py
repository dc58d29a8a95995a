"""On-drift triggers: the statistics a model version was trained on, and the verdict.

The reference is a registered model version (``models:/churn@production``): through its run
(lineage) the store knows the datasets it read, with their recorded statistics. When the
watched data changes, its statistics are computed the same way (``table_stats``) and compared
column by column (:func:`jupyter_mlops.drift.compare_stats`: population stability index and
Kolmogorov-Smirnov statistic). The event fires a run only when a column is beyond the
trigger's thresholds; otherwise it is recorded as seen, with the figures, and nothing runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store import RunStore
from ..store.models_triggers import Trigger
from ..store.triggers import NewEvent, TriggerStore


def reference_stats(store: RunStore, reference: str, uri: str | None = None) -> dict[str, Any]:
    """The recorded statistics of the data ``reference`` was trained on: the input with the
    same URI (or file name) as the watched data when there is one, else its only tabular
    input. LookupError (with what to fix) when there is none to compare with."""
    from ..registry.service import resolve_version

    try:
        version = resolve_version(store, reference)
    except (LookupError, ValueError) as err:
        raise LookupError(f"--reference {reference}: {err}") from None
    tabular = [i for i in store.run_inputs(version.run_id) if i.stats and "columns" in i.stats]
    if not tabular:
        raise LookupError(
            f"{reference} (run {version.run_id}) recorded no tabular dataset: its training "
            "notebook must read its data with jupyter_mlops.use_dataset (or a '# mlops: "
            "dataset' parameter) for drift to have a reference"
        )
    if uri is not None and len(tabular) > 1:
        name = Path(uri).name
        for wanted in (lambda i: i.uri == uri, lambda i: Path(i.uri).name == name):
            matching = [i for i in tabular if wanted(i)]
            if matching:
                return dict(matching[0].stats)
    return dict(tabular[0].stats)


def drift_event(trigger: Trigger, store: TriggerStore, event: NewEvent) -> NewEvent:
    """``event`` (the watched data's new version) with the drift figures; it runs only when
    a column is beyond the thresholds."""
    from ..datasets import fingerprint
    from ..drift import compare_stats

    config = trigger.config
    reference = reference_stats(store.runs, config["reference"], config["uri"])
    current = fingerprint(config["uri"]).stats
    if not current or "columns" not in current:
        reason = f"{config['uri']} has no table statistics (not a CSV or Parquet file?)"
        return NewEvent(key=event.key, details=event.details, run=False, reason=reason)
    drifts = compare_stats(
        reference, current, psi_threshold=config["column_psi"], ks_threshold=config["ks"]
    )
    details = {
        **event.details,
        "reference": config["reference"],
        "drift": [d.to_json() for d in drifts],
    }
    flagged = [d.column for d in drifts if d.flagged]
    if flagged:
        return NewEvent(key=event.key, details=details)
    return NewEvent(
        key=event.key,
        details=details,
        run=False,
        reason=(
            f"no column drifted beyond PSI {config['column_psi']:g} / KS {config['ks']:g} "
            f"from {config['reference']}'s training data"
        ),
    )
