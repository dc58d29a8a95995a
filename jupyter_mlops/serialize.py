"""JSON views of runs, shared by the CLI (``--json``) and the REST API.

A run's detail is built as its response model (:mod:`jupyter_mlops.server.models`), so what
is sent is what ``openapi.yaml`` documents; callers get the plain dict. The summary, on every
hot path (``jupyter mlops runs``, each REST submit, list page and event), is written as the
plain dict its model dumps, without importing pydantic's models (about a third of the CLI's
start); ``tests/test_cli_imports.py`` checks it against ``RunSummary``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .store import Artifact, Run, RunEvent, RunStatus
from .store.artifacts import LOGGED_PARAM_TYPE
from .store.events import WARNING_EVENT
from .store.run_rows import QUEUE_POSITION_ATTR, RunRow
from .store.types import utcnow

if TYPE_CHECKING:
    from .server.models import ResponseModel

TIMESTAMP_FIELDS = ("created_at", "started_at", "finished_at", "scheduled_for")
"""The summary's instants, sent as ``datetime.isoformat()`` (as the models' ``Timestamp``)."""


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def duration_seconds(run: Run | RunRow) -> float | None:
    if run.started_at is None:
        return None
    end = run.finished_at or (None if RunStatus(run.status).is_terminal else utcnow())
    return (end - run.started_at).total_seconds() if end else None


def run_summary(run: Run | RunRow, *, queue_position: int | None = None) -> dict[str, Any]:
    """What a list row needs.

    ``queue_position`` (queued runs only; 1 = next to start) is taken from the argument, or
    from the run when :meth:`RunStore.annotate_queue_positions` set it (``list_runs`` does,
    with one query per page); otherwise it is null.
    """
    if queue_position is None and run.status == RunStatus.QUEUED.value:
        queue_position = getattr(run, QUEUE_POSITION_ATTR, None)
    fields = _summary_fields(run, queue_position)
    fields["status"] = RunStatus(run.status).value
    for name in TIMESTAMP_FIELDS:
        fields[name] = iso(fields[name])
    return fields


def _summary_fields(run: Run | RunRow, queue_position: int | None) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "status_reason": run.status_reason,
        "notebook": run.notebook_path,
        "kernel": run.kernel_name,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_s": duration_seconds(run),
        "cells_done": run.cells_done,
        "cells_total": run.cells_total,
        "current_cell": run.current_cell,
        "parameters": {p.name: json.loads(p.value_json) for p in run.params},
        "overridden": [
            p.name for p in run.params if p.overridden and p.type_name != LOGGED_PARAM_TYPE
        ],
        "tags": [t.tag for t in run.tags],
        "seed": run.seed,
        "gpus": run.gpus,
        "commit": run.commit_sha,
        "reproduced_from": run.reproduced_from,
        "source": run.source,
        "submitted_by": run.submitted_by,
        "queue_position": queue_position if run.status == RunStatus.QUEUED.value else None,
        "schedule_id": run.schedule_id,
        "scheduled_for": run.scheduled_for,
    }


def _row(model: type[ResponseModel], row: object) -> ResponseModel:
    """``model`` read from a store row's attributes (named as its fields or their aliases)."""
    return model.model_validate(row, from_attributes=True)


def run_detail(
    run: Run,
    *,
    events: list[RunEvent],
    artifacts: list[Artifact],
    environment: dict[str, Any] | None,
    metrics: dict[str, float | None],
    inputs: list[Any] | None = None,
    verification: dict[str, Any] | None = None,
    reproducibility: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything about one run (``inputs``: its :class:`RunInputRecord` rows;
    ``verification`` and ``reproducibility`` as
    :func:`jupyter_mlops.reproducibility.record_fields` gives them)."""
    from .server import models

    detail = models.RunDetail(
        **_summary_fields(run, getattr(run, QUEUE_POSITION_ATTR, None)),
        parameter_types={p.name: p.type_name for p in run.params},
        timeout_s=run.timeout_s,
        cuda_visible_devices=run.cuda_visible_devices,
        snapshot=_row(models.RunSnapshot, run),
        runner=_row(models.RunRunner, run),
        error=_row(models.RunError, run) if run.error_ename else None,
        status_history=[_row(models.RunEvent, e) for e in events if e.kind == "status"],
        cells=[_row(models.RunEvent, e) for e in events if e.kind == "cell"],
        artifacts=[_row(models.Artifact, a) for a in artifacts],
        warnings=[e.message or "" for e in events if e.kind == WARNING_EVENT],
        fired_by=next((e.message for e in events if e.kind == "trigger"), None),
        environment=environment,
        metrics=metrics,
        inputs=[_row(models.RunInput, i) for i in inputs or []],
        verification=verification,
        reproducibility=reproducibility or [],
    )
    return detail.to_json()


def stored_detail(store: Any, run: Run) -> dict[str, Any]:
    """:func:`run_detail` of ``run`` with all the store holds of it (events, artifacts,
    environment, latest metrics, inputs, verification and reproducibility records): what
    ``jupyter mlops show`` prints and the REST run detail sends."""
    from .reproducibility import record_fields

    environment = store.environment(run.id)
    return run_detail(
        run,
        events=store.events(run.id),
        artifacts=store.artifacts(run.id),
        environment=environment,
        metrics=store.latest_metrics(run.id),
        inputs=store.run_inputs(run.id),
        **record_fields(store, run, environment),
    )
