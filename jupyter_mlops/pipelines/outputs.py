"""Upstream outputs for a step's parameters: references resolved against the run whose
outputs an upstream step has (the run it executed, or the run it was served from).

* ``artifacts.NAME``: the artifact's local path, materialized content-addressed under
  ``<data_dir>/pipeline-inputs/<sha256>/`` (so the same bytes give the same path, and an
  unchanged input keeps a step's effective parameters, and cache key, unchanged);
* ``models.NAME``: ``runs:/RUN_ID/NAME``, which ``jupyter_mlops.load_model`` accepts
  (the registry's ``models:/NAME/VERSION`` URIs are a later addition);
* ``metrics.KEY``: the latest value; ``run_id``: the run's id.

Each artifact or model read is an *input* of the step, with its sha256: the cache key
includes them (see :func:`jupyter_mlops.pipelines.cache.step_input_hashes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..artifacts import open_artifact_store
from ..config import Settings
from ..store import RunStore
from .references import Reference, substitute

INPUTS_DIR = "pipeline-inputs"


class StepInputError(ValueError):
    """An upstream output a step references does not exist (the step fails with this)."""


@dataclass
class ResolvedInputs:
    """A step's parameters after references, and the inputs read for them."""

    parameters: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)
    """``"steps.NAME.KIND.OUTPUT"`` -> sha256 of each artifact and model read."""


def _artifact(store: RunStore, run_id: str, name: str) -> Any:
    found = store.get_artifact(run_id, name)
    if found is not None:
        return found
    close = [a for a in store.artifacts(run_id) if Path(a.name).stem == name]
    if len(close) == 1:
        return close[0]
    names = ", ".join(sorted(a.name for a in store.artifacts(run_id))) or "none"
    raise StepInputError(f"run {run_id} has no artifact named {name!r} (it has: {names})")


def materialize(settings: Settings, sha256: str, name: str) -> Path:
    """The blob as a local file named like the artifact (copied once per content)."""
    target = settings.data_dir / INPUTS_DIR / sha256 / Path(name).name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        open_artifact_store(settings).copy_to(sha256, partial)
        partial.replace(target)
    return target


def resolve_parameters(
    store: RunStore,
    settings: Settings,
    values: Mapping[str, Any],
    output_runs: Mapping[str, str],
) -> ResolvedInputs:
    """``values`` with every reference replaced; ``output_runs``: step -> the run whose
    outputs it has."""
    resolved = ResolvedInputs({})

    def resolve(ref: Reference) -> Any:
        run_id = output_runs[ref.step]
        where = f"steps.{ref.step}.{ref.kind}.{ref.output}"
        if ref.kind == "run_id":
            return run_id
        if ref.kind == "metrics":
            latest = store.latest_metrics(run_id)
            if ref.output not in latest:
                keys = ", ".join(sorted(latest)) or "none"
                raise StepInputError(
                    f"{ref.text}: run {run_id} logged no metric {ref.output!r} (it has: {keys})"
                )
            return latest[ref.output]
        artifact = _artifact(store, run_id, str(ref.output))
        resolved.inputs[where] = artifact.sha256
        if ref.kind == "models":
            return f"runs:/{run_id}/{artifact.name}"
        return str(materialize(settings, artifact.sha256, artifact.name))

    resolved.parameters = {k: substitute(v, resolve) for k, v in values.items()}
    return resolved
