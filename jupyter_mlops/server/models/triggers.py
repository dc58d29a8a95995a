"""Request and response shapes of the triggers API (``/mlops/api/triggers``)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from .base import (
    NonBlank,
    NonNegativeInt,
    PositiveSeconds,
    RequestModel,
    ResponseModel,
    RunStatusName,
    Tag,
    Timestamp,
)

TriggerKind = Literal["commit", "data", "drift", "metric"]


class TriggerRequest(RequestModel):
    """Fire a notebook on events (`POST /triggers`): give exactly one of `on_commit`,
    `on_data`, `on_drift` (with `reference`) or `on_metric` (with `stream`)."""

    problems: ClassVar = {
        "notebook": "notebook must be a non-empty string, got {value}",
        "parameters": "parameters must be an object of name -> value, got {value}",
        "paths": "paths must be a list of non-empty strings, got {value}",
        "policy": 'policy must be "newest" or "each", got {value}',
        "for_points": "for_points must be an integer >= 1, got {value}",
    }

    notebook: NonBlank = Field(
        None,
        description="Path of the .ipynb relative to the server's root (no `..`); a "
        "`.yaml`/`.yml` file is a pipeline, as with `pipeline`.",
    )
    pipeline: NonBlank = Field(
        None,
        description="Instead of `notebook`: a pipeline file (YAML) relative to the root; "
        'each event starts a pipeline run. `parameters` are then by step: `{"train": {"lr": '
        "0.01}}`.",
    )
    on_commit: str | None = Field(
        None, description="A branch: each new commit on it runs the notebook from that commit."
    )
    paths: list[Tag] = Field(
        default_factory=list, description="On commit: only commits touching these paths."
    )
    policy: Literal["newest", "each"] = Field(
        "newest", description="Several new commits at once: run only the newest, or each."
    )
    on_data: str | None = Field(
        None, description="A dataset (path or fsspec URL): each new content hash fires."
    )
    on_drift: str | None = Field(
        None, description="A dataset whose drift from `reference`'s training data fires."
    )
    reference: str | None = Field(None, description="`models:/NAME@ALIAS` (drift).")
    column_psi: float = Field(0.2, gt=0, description="Drift: PSI threshold per column.")
    ks: float = Field(0.1, gt=0, le=1, description="Drift: KS statistic threshold.")
    on_metric: str | None = Field(
        None, description="`KEY OP NUMBER` on `stream`, e.g. `prod/accuracy < 0.9`."
    )
    stream: str | None = Field(None, description="The monitored stream (on_metric).")
    for_points: int = Field(
        1, ge=1, strict=True, description="On metric: consecutive points that must hold."
    )
    branch: str | None = Field(
        None, description="Data, drift, metric: run this branch's head, not the file on disk."
    )
    interval: PositiveSeconds | None = Field(None, description="Seconds between two looks.")
    parameters: dict[str, Any] = Field(default_factory=dict)
    kernel: str | None = None
    gpus: NonNegativeInt = 0
    timeout: PositiveSeconds | None = None
    tags: list[Tag] = Field(default_factory=list)
    name: str | None = Field(None, max_length=255)
    active: bool = True

    def spec_fields(self) -> dict[str, Any]:
        """The fields of :class:`~jupyter_mlops.scheduling.trigger_service.TriggerSpec`
        (``pipeline`` given as the ``notebook`` it replaces)."""
        fields = {key: getattr(self, key) for key in type(self).model_fields}
        fields["notebook"] = one_target(fields["notebook"], fields.pop("pipeline"))
        return fields


def one_target(notebook: str | None, pipeline: str | None) -> str:
    """The path of what a schedule or trigger fires: exactly one of ``notebook`` and
    ``pipeline`` (a pipeline file must end in .yaml or .yml)."""
    if (notebook is None) == (pipeline is None):
        raise ValueError("give exactly one of notebook (a .ipynb) and pipeline (a .yaml file)")
    if pipeline is not None and not pipeline.strip().lower().endswith((".yaml", ".yml")):
        raise ValueError(f"pipeline {pipeline!r} is not a pipeline file (.yaml or .yml)")
    return str(notebook if notebook is not None else pipeline)


class TriggerEvent(ResponseModel):
    """An event a trigger saw: what, whether it ran, and the run."""

    key: str = Field(description="The commit sha, `sha256:<hash>` or `point:<id>`.")
    state: Literal["pending", "done", "skipped"]
    run_id: str | None
    run_status: RunStatusName | None
    claimed_at: Timestamp
    details: dict[str, Any] = Field(
        description="Why it fired: commit and subject, old and new hashes, drift figures, "
        "metric values."
    )
    reason: str | None = Field(description="Why an event was skipped, or its run failed.")


class Trigger(ResponseModel):
    id: str
    name: str
    kind: TriggerKind
    notebook_path: str = Field(description="The notebook, or the pipeline file (`target`).")
    target: Literal["notebook", "pipeline"] = Field(
        "notebook",
        description="What an event fires: a notebook run, or a pipeline run (`last_run_id` "
        "and the events' `run_id` are then pipeline run ids).",
    )
    parameters: dict[str, Any]
    kernel: str | None
    gpus: int
    timeout: float | None
    tags: list[str]
    config: dict[str, Any] = Field(description="What it watches (branch, uri, condition...).")
    state: dict[str, Any] = Field(description="What it has seen so far.")
    active: bool
    created_at: str | None
    last_event_at: str | None
    last_run_id: str | None
    last_error: str | None = Field(description="Why the last look failed, if it did.")


class TriggerList(ResponseModel):
    triggers: list[Trigger]


class TriggerDetail(Trigger):
    events: list[TriggerEvent] = Field(description="Newest first.")


class TriggerChanges(RequestModel):
    """Pause (`{"active": false}`) or resume a trigger."""

    problems: ClassVar = {"active": "active must be true or false, got {value}"}
    active: bool
