"""What a schedule slot or a trigger event fires: a run, or a pipeline run.

A claim (``schedule_fires``, ``trigger_events``) carries the id chosen at claim time in
``run_id`` and, in ``target``, what that id names. Everything exactly-once depends on is the
same for both kinds: the id is chosen before submitting, a claim whose claimer died is
found because nothing with that id exists, and recovery records a *failed* row under that
very id (a ``runs`` row, or a ``pipeline_runs`` row), so a late submit collides with it
on the primary key instead of running twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from .models import Run
from .models_pipelines import PipelineRun
from .runs import new_run_id

NOTEBOOK = "notebook"
PIPELINE = "pipeline"
TARGETS = (NOTEBOOK, PIPELINE)

PIPELINE_ID_PREFIX = "pl-"
"""Pipeline run ids start with this (the same as :mod:`jupyter_mlops.pipelines.steps`)."""


def new_pipeline_id() -> str:
    return PIPELINE_ID_PREFIX + new_run_id()[: 32 - len(PIPELINE_ID_PREFIX)]


def claim_id(target: str) -> str:
    """A fresh id for what a claim of ``target`` will create."""
    return new_pipeline_id() if target == PIPELINE else new_run_id()


def claimed_exists(session: Session, target: str, claimed: str) -> bool:
    """Whether the run or pipeline run a claim chose exists (it was submitted)."""
    table: Any = PipelineRun if target == PIPELINE else Run
    return session.scalar(select(table.id).where(table.id == claimed)) is not None


def claimed_status(claim_table: Any) -> tuple[ColumnElement[Any], list[tuple[Any, Any]]]:
    """The status of a claim's run or pipeline run, as a column, and the outer joins it
    needs (``claim_table`` has ``run_id`` and ``target``)."""
    joins = [
        (Run, Run.id == claim_table.run_id),
        (PipelineRun, PipelineRun.id == claim_table.run_id),
    ]
    return func.coalesce(Run.status, PipelineRun.status), joins


def add_failed_pipeline_run(
    session: Session,
    owner: Any,
    pipeline_id: str,
    reason: str,
    now: datetime,
    *,
    source: str,
) -> None:
    """A pipeline run row that says, with a reason, that a schedule slot or trigger event
    fired a pipeline but it could not start (no steps: nothing ran)."""
    session.add(
        PipelineRun(
            id=pipeline_id,
            created_at=now,
            updated_at=now,
            finished_at=now,
            name=owner.name,
            pipeline_path=owner.notebook_path,
            status="failed",
            status_reason=reason,
            source=source,
            snapshot={},
            spec={},
            overrides={},
            no_cache=False,
            fired_by=f"fired by {source} {owner.name}",
        )
    )
    session.flush()
