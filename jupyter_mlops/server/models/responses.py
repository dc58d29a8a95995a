"""Response bodies. Field order is the order of the keys clients get.

Constraints (patterns, minimums) are documented, not enforced: the bodies are built from
the store's rows, and a row the documentation did not foresee must still be served, not
turned into a 500.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel

from .base import ResponseModel, RunStatusName, Timestamp
from .datasets import RunInput
from .requests import Catchup, Concurrency
from .verify import ReproducibilityItem, RunVerification

RunIdText = Annotated[str, Field(json_schema_extra={"pattern": "^[0-9a-f]{1,32}$"})]
MetricValue = float | None
"""A metric value; null for NaN and infinities, which JSON cannot carry."""


class Error(ResponseModel):
    """Every error answer (never a traceback)."""

    message: str
    status: int
    problems: dict[str, str] = Field(
        None, description="For invalid parameters, parameter name -> its problem."
    )


class Health(ResponseModel):
    status: Literal["ok"]
    version: str
    runs: int = Field(json_schema_extra={"minimum": 0})


class RunSummary(ResponseModel):
    """What a list row needs (also the data of the event stream's `run` events)."""

    id: RunIdText
    status: RunStatusName
    status_reason: str | None
    notebook: str = Field(description="Notebook path relative to the root")
    kernel: str
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    duration_s: float | None
    cells_done: int = Field(json_schema_extra={"minimum": 0})
    cells_total: int | None
    current_cell: int | None
    parameters: dict[str, Any] = Field(
        description="The parameters the run ran with (name -> JSON value): the values given "
        "for it and the notebook's defaults for the others (runs from before jupyter-mlops "
        "recorded defaults list only the values given). A default that is an expression is "
        "its source text (`parameter_types` says `expression`)."
    )
    overridden: list[str] = Field(
        default_factory=list,
        description="The names in `parameters` given for this run (typed, on the CLI, by a "
        "schedule), not left at the notebook's default; values the notebook logged with "
        "`log_params` are in neither list.",
    )
    tags: list[str]
    seed: int
    gpus: int = Field(json_schema_extra={"minimum": 0})
    commit: str = Field(description="Snapshot commit sha")
    reproduced_from: str | None
    source: str = Field(description="ui, cli, schedule, reproduce, ...")
    submitted_by: str | None = Field(
        description="Who submitted it: the server identity (UI, REST), the OS user (CLI)"
    )
    queue_position: Annotated[int, Field(json_schema_extra={"minimum": 1})] | None = Field(
        description="Queued runs only, 1 = next to start; null otherwise."
    )
    schedule_id: str | None = Field(description="The schedule that fired this run, if any.")
    scheduled_for: Timestamp | None = Field(description="The cron slot the run was fired for.")


class RunListItem(RunSummary):
    metrics: dict[str, MetricValue] = Field(
        None,
        description="Only with the `metrics` query parameter: the latest value of each "
        "requested key the run has logged (keys it has not logged are absent).",
    )


class RunPage(ResponseModel):
    runs: list[RunListItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class RunEvent(ResponseModel):
    at: Timestamp
    kind: Literal["status", "cell", "warning"]
    status: str | None
    cell_index: int | None
    duration_s: float | None
    message: str | None


class Artifact(ResponseModel):
    name: str
    kind: str = Field(description="notebook, html, model, file, log")
    size: int = Field(json_schema_extra={"minimum": 0})
    sha256: str = Field(json_schema_extra={"pattern": "^[0-9a-f]{64}$"})
    content_type: str
    created_at: Timestamp
    meta: dict[str, Any] | None


class RunSnapshot(ResponseModel):
    """Where the run's code is: the snapshot commit and the repository that holds it."""

    # validation aliases: the run row's column names (built with from_attributes)
    commit: str = Field(validation_alias="commit_sha")
    ref: str = Field(validation_alias="snapshot_ref")
    git_dir: str
    worktree: str
    notebook: str = Field(validation_alias="notebook_relpath")
    branch: str | None
    base_commit: str | None
    dirty: bool
    dirty_files: list[str] | None = Field(
        None,
        description="The files that differed from the commit the snapshot was taken on "
        "(at most 100, `dirty_count` says how many in all); null for older runs.",
    )
    dirty_count: int | None = None
    private_repo: bool


class RunRunner(ResponseModel):
    """The process that executes the run."""

    backend: str
    pid: int | None = Field(validation_alias="runner_pid")
    host: str | None = Field(validation_alias="runner_host")
    kernel_pid: int | None
    heartbeat_at: Timestamp | None
    run_dir: str | None


class RunError(ResponseModel):
    """The exception that failed the run."""

    cell_index: int | None = Field(validation_alias="error_cell_index")
    execution_count: int | None = Field(
        None,
        validation_alias="error_execution_count",
        description="The failing cell's `In [n]` as JupyterLab numbers it (null for older "
        "runs, or a cell that never started); `cell_index` is its 0-based index.",
    )
    ename: str = Field(validation_alias="error_ename")
    evalue: str | None = Field(validation_alias="error_evalue")
    traceback: str | None = Field(validation_alias="error_traceback")


class RunDetail(RunSummary):
    """Everything about one run."""

    parameter_types: dict[str, str]
    notebook_in_root: str | None = Field(
        None,
        description="The notebook's path under the server's root (what JupyterLab opens); "
        "`notebook` is the run's name for it, relative to its repository. Null when the "
        "notebook is outside the root (or from the CLI's `show`).",
    )
    timeout_s: float | None
    cuda_visible_devices: str | None
    snapshot: RunSnapshot
    runner: RunRunner
    error: RunError | None
    status_history: list[RunEvent]
    cells: list[RunEvent]
    artifacts: list[Artifact]
    warnings: list[str] = Field(
        description="What the run could not do that its status does not show, oldest first: "
        "an artifact that could not be written (executed notebook, HTML rendering, logs, a "
        "logged file or model), a kernel start that had to be retried."
    )
    fired_by: str | None = Field(
        None,
        description="Why a trigger fired this run (the commit, the data hashes, the drift or "
        "metric figures); null for a run no trigger started. `GET /runs/{id}/trigger` gives "
        "the trigger and the event.",
    )
    environment: dict[str, Any] | None = Field(
        description="Python, packages, platform, git, torch/CUDA, GPUs (secrets filtered)."
    )
    metrics: dict[str, MetricValue] = Field(
        description="Latest value of each logged metric (null for NaN or infinite)."
    )
    inputs: list[RunInput] = Field(
        default_factory=list,
        description="What the run read (datasets by content hash), in the order recorded.",
    )
    verification: RunVerification | None = Field(
        None, description="Set on a verified reproduction: its input check and verdict."
    )
    reproducibility: list[ReproducibilityItem] = Field(
        default_factory=list,
        description="What a rebuild needs and whether the run pinned it (item, pinned, detail).",
    )


class MetricKey(ResponseModel):
    key: str
    latest: MetricValue = Field(description="The value at the highest step (null for NaN).")
    step: int = Field(description="The highest step logged")
    at: Timestamp | None
    total_points: int = Field(json_schema_extra={"minimum": 0})
    first_step: int
    last_step: int
    min: MetricValue = Field(description="Smallest value (null when only NaN)")
    max: MetricValue = Field(description="Largest value (null when only NaN)")


class RunMetrics(ResponseModel):
    run_id: str
    status: RunStatusName
    keys: list[MetricKey]


class MetricSeries(ResponseModel):
    run_id: str
    key: str
    total_points: int = Field(json_schema_extra={"minimum": 0}, description="Points logged in all")
    downsampled: bool = Field(
        description="Whether `points` is a min/max-per-bucket selection of the series."
    )
    points: list[tuple[int, MetricValue]] = Field(
        description="`[step, value]` pairs in step order; value null for NaN."
    )


class MetricSeriesWithMaxPoints(MetricSeries):
    """One series of one run, with the point limit it was read with."""

    max_points: int = Field(json_schema_extra={"minimum": 2})


class MetricSeriesSet(ResponseModel):
    max_points: int = Field(json_schema_extra={"minimum": 2})
    series: list[MetricSeries]


class Notebook(ResponseModel):
    """An nbformat v4 notebook."""

    cells: list[dict[str, Any]]
    metadata: dict[str, Any]
    nbformat: Literal[4]
    nbformat_minor: int


class Parameter(ResponseModel):
    name: str
    type_name: Literal["int", "float", "str", "bool", "list", "dict", "tuple", "NoneType", "any"]
    default: Any = Field(
        description="The literal default (null when it is an expression; see default_source)."
    )
    default_source: str = Field(description="The default as written")
    annotation: str | None
    help: str = Field(description="The trailing comment of the assignment")
    nullable: bool


class NotebookParameters(ResponseModel):
    path: str
    parameters: list[Parameter]
    problems: list[str] = Field(
        default_factory=list,
        description="Lines of the parameters cell that could not be read (a syntax error, a "
        "comparison papermill skips), one message each; the other parameters are listed. "
        "Absent when every line was read.",
    )
    kernel: str | None = Field(description="The kernel named in the notebook's metadata.")
    has_parameters_cell: bool


class KernelCudaDevice(ResponseModel):
    index: int = Field(json_schema_extra={"minimum": 0})
    name: str
    total_memory: int = Field(json_schema_extra={"minimum": 0}, description="bytes")
    capability: str = Field(description="compute capability, e.g. 9.0")


class KernelCuda(ResponseModel):
    cuda: bool = Field(description="torch.cuda.is_available() in the kernel's Python")
    devices: list[KernelCudaDevice]
    torch: str | None = Field(description="torch version; null without torch")
    cuda_version: str | None = Field(description="CUDA version torch was built with")
    cached: bool = Field(None)
    error: str = Field(None, description="why the probe failed (then cuda is false)")


class Kernel(ResponseModel):
    name: str
    display_name: str
    language: str
    cuda: KernelCuda | None = Field(
        description="Whether the kernel's Python can use CUDA, found by importing torch with "
        "the kernel's interpreter once per kernelspec (cached until its packages change); "
        "null for kernels that are not Python or whose interpreter cannot be known."
    )


class GPU(ResponseModel):
    index: int = Field(json_schema_extra={"minimum": 0})
    name: str
    memory_total: int = Field(json_schema_extra={"minimum": 0}, description="bytes")
    uuid: str | None


class Kernels(ResponseModel):
    kernels: list[Kernel]
    default_kernel: str
    gpus: list[GPU]


class ChangedFile(ResponseModel):
    status: str = Field(description="git's A, M or D")
    path: str


class SnapshotDiff(ResponseModel):
    base: str
    other: str
    base_commit: str
    other_commit: str
    same_repository: bool
    same_code: bool | None = Field(
        description="Whether both snapshots hold the same tree (null across repositories)."
    )
    files: list[ChangedFile]
    notebook_diff: str | None = Field(
        description="nbdime diff of the notebooks' sources; empty when identical."
    )
    error: str = Field(None)


class RunDeleted(ResponseModel):
    id: str


class Schedule(ResponseModel):
    id: RunIdText
    name: str
    notebook: str = Field(
        description="Notebook path relative to the root; with `target` pipeline, the "
        "pipeline file's"
    )
    target: Literal["notebook", "pipeline"] = Field(
        "notebook",
        description="What a slot fires: a notebook run, or a pipeline run "
        "(`last_run_id` and the slots' `run_id` are then pipeline run ids).",
    )
    source: Literal["working_copy", "branch"]
    branch: str | None
    cron: str
    timezone: str
    parameters: dict[str, Any]
    kernel: str | None
    gpus: int = Field(json_schema_extra={"minimum": 0})
    timeout_s: float | None
    tags: list[str]
    active: bool
    catchup: Catchup
    max_catchup: int = Field(json_schema_extra={"minimum": 1})
    concurrency: Concurrency
    created_at: Timestamp
    updated_at: Timestamp
    next_fire_at: Timestamp | None = Field(description="The next slot; null while paused.")
    last_fired_slot: Timestamp | None
    last_run_id: str | None
    last_run_status: RunStatusName | None


class ScheduleList(ResponseModel):
    schedules: list[Schedule]


class ScheduleFire(ResponseModel):
    """A slot a scheduler handled."""

    slot: Timestamp
    state: str
    run_id: str | None
    run_status: RunStatusName | None
    reason: str | None
    holder: str | None
    claimed_at: Timestamp | None


class ScheduleRun(ResponseModel):
    """A run of a schedule (a slot's or "run now")."""

    id: str
    status: RunStatusName
    status_reason: str | None
    scheduled_for: Timestamp | None = Field(
        description='The slot it was fired for; null for "run now".'
    )
    created_at: Timestamp


class ScheduleDetail(Schedule):
    """One schedule, its next fire times, its recent slots and runs."""

    upcoming: list[Timestamp] = Field(
        description="The next fire times (also while paused, as they would be)."
    )
    fires: list[ScheduleFire] = Field(
        description="Recent slots the schedulers handled, newest first."
    )
    runs: list[ScheduleRun] = Field(
        description='The schedule\'s runs (slots and "run now"), newest first.'
    )


class ValidCronPreview(ResponseModel):
    """A cron expression a schedule would accept, and when it would fire next."""

    valid: Literal[True]
    expression: str = Field(description="The expression as a schedule would store it.")
    timezone: str = Field(description="The IANA zone it is read in.")
    next: list[Timestamp] = Field(
        description="The next fire times, in the zone's offset (ISO 8601)."
    )


class InvalidCronPreview(ResponseModel):
    """A cron expression (or time zone) a schedule would refuse."""

    valid: Literal[False]
    error: str = Field(description="The message creating such a schedule answers.")


class CronPreview(RootModel[ValidCronPreview | InvalidCronPreview]):
    """Whether a schedule would accept the expression; if so, its next fire times."""
