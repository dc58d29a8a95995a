"""A verified reproduction from end to end: the request at submit, the verdict at the end.

:func:`prepare_verification` runs before the reproduction is written (the pre-flight input
check, which may refuse it); :func:`record_request` stores what to compare with, so the
runner of the reproduction, not whoever asked, computes the verdict when the run ends
(:func:`verify_finished_run`). Then a reproduction started from JupyterLab that nobody
waits for, one from the CLI and one from a schedule are verified the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .cells import compare_notebooks
from .inputs import InputCheck, check_run_inputs, checks_json, refuse_changed
from .metrics import compare_metrics, metric_series
from .normalize import DEFAULT_PATTERNS, Normalizer, check_patterns
from .verdict import DIFFERS, Verdict, compare_models, decide

log = logging.getLogger("jupyter_mlops.verify")

EXECUTED_NOTEBOOK = "output.ipynb"
"""The executed notebook's artifact name (``runner_outputs.OUTPUT_NOTEBOOK``)."""


@dataclass
class VerifyOptions:
    """How a reproduction is compared with its original."""

    rtol: float = 0.0
    atol: float = 0.0
    normalize: Sequence[str] = field(default_factory=lambda: list(DEFAULT_PATTERNS))
    """Every pattern applied (configured or default, plus those given with the request)."""
    allow_changed_inputs: bool = False
    strict_env: bool = False

    def __post_init__(self) -> None:
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        self.normalize = check_patterns(self.normalize)

    @classmethod
    def with_patterns(
        cls, configured: Sequence[str] | None, extra: Sequence[str] = (), **options: Any
    ) -> VerifyOptions:
        """Options whose patterns are the configured ones (the defaults when none are
        configured) followed by ``extra``."""
        base = list(DEFAULT_PATTERNS if configured is None else configured)
        return cls(normalize=[*base, *extra], **options)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "normalize": list(self.normalize)}


@dataclass
class PreparedVerification:
    original_id: str
    options: VerifyOptions
    checks: list[InputCheck]
    changed: bool


def prepare_verification(
    store: Any, artifacts: Any, original: Any, options: VerifyOptions
) -> PreparedVerification:
    """The pre-flight check of every input ``original`` recorded; raises
    :class:`~.inputs.InputsChanged` (nothing written yet) when one changed, unless allowed."""
    checks = check_run_inputs(store, artifacts, original, strict_env=options.strict_env)
    changed = refuse_changed(original.id, checks, options.allow_changed_inputs)
    return PreparedVerification(original.id, options, checks, changed)


def record_request(store: Any, run_id: str, prepared: PreparedVerification) -> None:
    """Store the request on the new run (before its runner starts), and say on the run
    when it runs with changed inputs."""
    store.add_verification_request(
        run_id,
        original_id=prepared.original_id,
        options=prepared.options.to_json(),
        inputs=checks_json(prepared.checks),
        changed_inputs=prepared.changed,
    )
    if prepared.changed:
        changed = [f"{c.kind} {c.name}: {c.reason}" for c in prepared.checks if c.blocking]
        store.add_warning(
            run_id, "reproduced with changed inputs (--allow-changed-inputs): " + "; ".join(changed)
        )


def _notebook(store: Any, artifacts: Any, run_id: str) -> dict[str, Any] | None:
    row = store.get_artifact(run_id, EXECUTED_NOTEBOOK)
    if row is None:
        return None
    with artifacts.open(row.sha256) as stream:
        return dict(json.loads(stream.read().decode("utf-8")))


def _models(store: Any, run_id: str) -> dict[str, str]:
    return {a.name: a.sha256 for a in store.artifacts(run_id) if a.kind == "model"}


def compare_runs(
    store: Any,
    artifacts: Any,
    original_id: str,
    reproduction_id: str,
    options: VerifyOptions,
    *,
    status: str = "succeeded",
) -> Verdict:
    """The verdict of ``reproduction_id`` against ``original_id`` (both stored, ended)."""
    failure = None if status == "succeeded" else f"the reproduction ended {status}"
    first = _notebook(store, artifacts, original_id)
    second = _notebook(store, artifacts, reproduction_id)
    cells: list[Any] = []
    compared_cells = 0
    if first is None or second is None:
        missing = "original" if first is None else "reproduction"
        failure = failure or f"the {missing} has no executed notebook"
    else:
        cells, compared_cells = compare_notebooks(first, second, Normalizer(options.normalize))
    metrics, compared_points = compare_metrics(
        metric_series(store, original_id),
        metric_series(store, reproduction_id),
        rtol=options.rtol,
        atol=options.atol,
    )
    original_models = _models(store, original_id)
    models = compare_models(original_models, _models(store, reproduction_id))
    counts = {
        "cells_compared": compared_cells,
        "metric_points_compared": compared_points,
        "models_compared": len(original_models),
    }
    return decide(cells, metrics, models, counts, failure=failure)


def verify_finished_run(
    store: Any, artifacts: Any, run_id: str, status: str, run_dir: Path | None = None
) -> Verdict | None:
    """Compute and record the verdict of a verified reproduction whose run just ended
    (called by its runner before the terminal status); None when it was not asked for."""
    request = store.verification(run_id)
    if request is None or request["verdict"] is not None:
        return None
    try:
        options = VerifyOptions(**request["options"])
        verdict = compare_runs(
            store, artifacts, request["original_id"], run_id, options, status=status
        )
    except Exception as err:  # the comparison itself broke: say so, never leave it pending
        log.exception("run %s: verification failed", run_id)
        verdict = Verdict(DIFFERS, f"the comparison failed: {type(err).__name__}: {err}")
    store.record_verdict(run_id, verdict.verdict, verdict.summary, verdict.to_json())
    return verdict
