"""A pipeline run as plain data: what ``pipeline show --json`` prints and REST returns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..store.models_pipelines import PipelineRun, PipelineStepAttempt
from ..store.pipelines import PipelineStore


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _origin(store: PipelineStore, run_id: str) -> dict[str, Any]:
    """Where a cached step's outputs come from: the run, and the step that executed it."""
    where = store.executed_by(run_id)
    return {
        "run_id": run_id,
        "pipeline_id": where.pipeline_id if where else None,
        "step": where.step if where else None,
    }


def _attempt(a: PipelineStepAttempt) -> dict[str, Any]:
    return {
        "attempt": a.attempt,
        "status": a.status,
        "run_id": a.run_id,
        "cached_from": a.cached_from,
        "created_at": _when(a.created_at),
    }


def step_progress(counts: Mapping[str, int]) -> dict[str, int]:
    """``steps_total``, ``steps_done`` (succeeded or cached) and ``steps_cached`` of a
    run's {step status: count}."""
    cached = counts.get("cached", 0)
    return {
        "steps_total": sum(counts.values()),
        "steps_done": counts.get("succeeded", 0) + cached,
        "steps_cached": cached,
    }


def pipeline_summaries(store: PipelineStore, runs: Iterable[PipelineRun]) -> list[dict[str, Any]]:
    """Summaries of many runs with their step progress (one query for all counts)."""
    rows = list(runs)
    counts = store.step_counts(r.id for r in rows)
    return [pipeline_summary(r, counts.get(r.id, {})) for r in rows]


def pipeline_summary(run: PipelineRun, counts: Mapping[str, int]) -> dict[str, Any]:
    return {
        **step_progress(counts),
        "id": run.id,
        "name": run.name,
        "pipeline_path": run.pipeline_path,
        "status": run.status,
        "status_reason": run.status_reason,
        "source": run.source,
        "commit": run.snapshot.get("commit"),
        "no_cache": run.no_cache,
        "fired_by": run.fired_by,
        "created_at": _when(run.created_at),
        "finished_at": _when(run.finished_at),
    }


def pipeline_detail(store: PipelineStore, run: PipelineRun) -> dict[str, Any]:
    """The run with its steps: ``name``, ``status``, ``run_id`` (the run whose outputs the
    step has: its own, or the one it was served from), ``cached`` and ``cached_from``."""
    attempts: dict[str, list[dict[str, Any]]] = {}
    for a in store.attempts(run.id):
        attempts.setdefault(a.step, []).append(_attempt(a))
    steps = []
    for s in store.steps(run.id):
        cached = s.status == "cached"
        steps.append(
            {
                "name": s.name,
                "status": s.status,
                "run_id": s.cached_from if cached else s.run_id,
                "cached": cached,
                "cached_from": _origin(store, s.cached_from) if cached and s.cached_from else None,
                "attempt": s.attempt,
                "needs": list(s.needs),
                "reason": s.reason,
                "cache_key": s.cache_key,
                "attempts": attempts.get(s.name, []),
            }
        )
    counts: dict[str, int] = {}
    for s in steps:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    return {**pipeline_summary(run, counts), "steps": steps}


def format_pipeline(detail: dict[str, Any]) -> str:
    """For people: one line per step."""
    lines = [f"{detail['id']}  {detail['name']}  {detail['status']}"]
    if detail.get("fired_by"):
        lines.append(f"  {detail['fired_by']}")
    if detail.get("status_reason"):
        lines.append(f"  {detail['status_reason']}")
    for s in detail["steps"]:
        origin = f" (cached from {s['run_id']})" if s["cached"] else ""
        run = "" if s["cached"] else f"  {s['run_id'] or '-'}"
        reason = f"  {s['reason']}" if s["reason"] else ""  # a run step: why it missed
        lines.append(f"  {s['name']:<20} {s['status']:<10}{run}{origin}{reason}")
    return "\n".join(lines)
