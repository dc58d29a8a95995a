"""Request and response models of the pipeline API (``/mlops/api/pipelines``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import NonBlank, RequestModel, ResponseModel


class PipelineRequest(RequestModel):
    """Run a pipeline file (`POST /pipelines`)."""

    pipeline: NonBlank = Field(
        description="Path of the pipeline file (YAML) relative to the server's root (no `..`)."
    )
    parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='Typed values over the file\'s, by step: `{"train": {"lr": 0.01}}` '
        "(references allowed, as in the file).",
    )
    no_cache: bool = Field(False, description="Run every step; serve none from the cache.")


class PipelineOrigin(ResponseModel):
    """Where a cached step's outputs come from."""

    run_id: str
    pipeline_id: str | None
    step: str | None


class PipelineStepAttempt(ResponseModel):
    attempt: int
    status: str
    run_id: str | None
    cached_from: str | None
    created_at: str | None


class PipelineStep(ResponseModel):
    """A step: `run_id` is the run whose outputs it has (its own, or the cached one)."""

    name: str
    status: str = Field(
        description="pending, submitting, running, succeeded, cached, failed, cancelled or "
        "skipped (an upstream step did not succeed)."
    )
    run_id: str | None
    cached: bool
    cached_from: PipelineOrigin | None
    attempt: int
    needs: list[str]
    reason: str | None
    cache_key: str | None
    attempts: list[PipelineStepAttempt]


class PipelineRunSummary(ResponseModel):
    id: str
    name: str
    pipeline_path: str
    status: str = Field(description="running, succeeded, failed or cancelled.")
    status_reason: str | None
    source: str
    commit: str | None
    no_cache: bool
    fired_by: str | None = Field(
        None, description="Which schedule slot or trigger event started it; null: by hand."
    )
    created_at: str | None
    finished_at: str | None
    steps_total: int = Field(description="How many steps the run has.")
    steps_done: int = Field(description="Steps succeeded or served from the cache.")
    steps_cached: int = Field(description="Steps served from the step cache.")


class PipelineRunDetail(PipelineRunSummary):
    steps: list[PipelineStep]


class PipelineRunList(ResponseModel):
    pipelines: list[PipelineRunSummary]


class PipelineFileStep(ResponseModel):
    """A step of a pipeline file, as the Run Pipeline form shows it."""

    name: str
    notebook: str = Field(description="The step's notebook, relative to the server's root.")
    parameters: dict[str, Any] = Field(
        description="The file's values for the step (the form's defaults over the notebook's)."
    )
    references: list[str] = Field(
        description="Parameters whose value references an upstream output (not editable)."
    )
    needs: list[str] = Field(description="The steps it runs after (needs and references).")


class PipelineFile(ResponseModel):
    """A pipeline file's steps (`GET /pipelines/file?path=`), before anything runs."""

    pipeline: str
    name: str
    steps: list[PipelineFileStep]


PIPELINE_REQUEST_MODELS = (PipelineRequest,)
PIPELINE_RESPONSE_MODELS = (
    PipelineOrigin,
    PipelineStepAttempt,
    PipelineStep,
    PipelineRunSummary,
    PipelineRunDetail,
    PipelineRunList,
    PipelineFileStep,
    PipelineFile,
)
