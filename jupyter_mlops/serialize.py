"""JSON views of runs, shared by the CLI (``--json``) and the REST API.

Each view is built as its response model (:mod:`jupyter_mlops.server.models`), so what is
sent is what ``openapi.yaml`` documents; callers get the plain dict.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .server import models
from .store import Artifact, Run, RunEvent, RunStatus
from .store.store import QUEUE_POSITION_ATTR
from .store.types import utcnow


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def duration_seconds(run: Run) -> float | None:
    if run.started_at is None:
        return None
    end = run.finished_at or (None if RunStatus(run.status).is_terminal else utcnow())
    return (end - run.started_at).total_seconds() if end else None


def run_summary(run: Run, *, queue_position: int | None = None) -> dict[str, Any]:
    """What a list row needs.

    ``queue_position`` (queued runs only; 1 = next to start) is taken from the argument, or
    from the run when :meth:`RunStore.annotate_queue_positions` set it (``list_runs`` does,
    with one query per page); otherwise it is null.
    """
    if queue_position is None and run.status == RunStatus.QUEUED.value:
        queue_position = getattr(run, QUEUE_POSITION_ATTR, None)
    return models.RunSummary(**_summary_fields(run, queue_position)).to_json()


def _summary_fields(run: Run, queue_position: int | None) -> dict[str, Any]:
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
        "tags": [t.tag for t in run.tags],
        "seed": run.seed,
        "gpus": run.gpus,
        "commit": run.commit_sha,
        "reproduced_from": run.reproduced_from,
        "source": run.source,
        "queue_position": queue_position if run.status == RunStatus.QUEUED.value else None,
        "schedule_id": run.schedule_id,
        "scheduled_for": run.scheduled_for,
    }


def _artifact(artifact: Artifact) -> models.Artifact:
    return models.Artifact(
        name=artifact.name,
        kind=artifact.kind,
        size=artifact.size,
        sha256=artifact.sha256,
        content_type=artifact.content_type,
        created_at=artifact.created_at,
        meta=artifact.meta,
    )


def _event(event: RunEvent) -> models.RunEvent:
    return models.RunEvent(
        at=event.at,
        kind=event.kind,
        status=event.status,
        cell_index=event.cell_index,
        duration_s=event.duration_s,
        message=event.message,
    )


def run_detail(
    run: Run,
    *,
    events: list[RunEvent],
    artifacts: list[Artifact],
    environment: dict[str, Any] | None,
    metrics: dict[str, float | None],
) -> dict[str, Any]:
    """Everything about one run."""
    error = None
    if run.error_ename:
        error = models.RunError(
            cell_index=run.error_cell_index,
            ename=run.error_ename,
            evalue=run.error_evalue,
            traceback=run.error_traceback,
        )
    detail = models.RunDetail(
        **_summary_fields(run, getattr(run, QUEUE_POSITION_ATTR, None)),
        parameter_types={p.name: p.type_name for p in run.params},
        timeout_s=run.timeout_s,
        cuda_visible_devices=run.cuda_visible_devices,
        snapshot=models.RunSnapshot(
            commit=run.commit_sha,
            ref=run.snapshot_ref,
            git_dir=run.git_dir,
            worktree=run.worktree,
            notebook=run.notebook_relpath,
            branch=run.branch,
            base_commit=run.base_commit,
            dirty=run.dirty,
            private_repo=run.private_repo,
        ),
        runner=models.RunRunner(
            backend=run.backend,
            pid=run.runner_pid,
            host=run.runner_host,
            kernel_pid=run.kernel_pid,
            heartbeat_at=run.heartbeat_at,
            run_dir=run.run_dir,
        ),
        error=error,
        status_history=[_event(e) for e in events if e.kind == "status"],
        cells=[_event(e) for e in events if e.kind == "cell"],
        artifacts=[_artifact(a) for a in artifacts],
        environment=environment,
        metrics=metrics,
    )
    return detail.to_json()
