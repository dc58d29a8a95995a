"""A step of a pipeline run as the run it submits, and starting a pipeline run: one
snapshot, the file read and validated as committed there, the rows written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..jobs import RunSpec
from ..snapshot.plumbing import SnapshotError
from ..snapshot.reading import read_file_at
from ..snapshot.shared import snapshot_from_dict
from ..store.models_pipelines import PipelineRun, PipelineStep
from .plan import dependencies
from .spec import PipelineInvalid, PipelineSpec, StepSpec, parse_pipeline
from .validation import CheckedStep, coerce_overrides, split_overrides, validate_pipeline

PIPELINE_TAG, STEP_TAG = "pipeline", "pipeline-step"
"""The tags (``NAME=value``) of a step's run: ``tags.pipeline = 'pl-…'`` in the runs table
or ``runs --filter`` lists a pipeline run's step runs."""

if TYPE_CHECKING:
    from ..jobs import JobService

PIPELINE_ID_PREFIX = "pl-"


@dataclass(frozen=True)
class Step:
    """One step of one pipeline run."""

    name: str
    spec: StepSpec
    checked: CheckedStep
    run: PipelineRun

    def values(self) -> dict[str, Any]:
        """The file's parameter values with the run's ``-p`` values over them."""
        return {**self.spec.parameters, **self.run.overrides.get(self.name, {})}

    def run_spec(self, run_id: str, parameters: Mapping[str, Any]) -> RunSpec:
        snapshot = snapshot_from_dict(self.run.snapshot)
        return RunSpec(
            notebook=str(Path(snapshot.worktree) / self.checked.relpath),
            parameters=dict(parameters),
            kernel=self.checked.kernel,
            gpus=self.spec.gpus,
            timeout=self.spec.timeout,
            tags=[f"{PIPELINE_TAG}={self.run.id}", f"{STEP_TAG}={self.name}"],
            source="pipeline",
            run_id=run_id,
            shared_snapshot=snapshot,
        )


def file_reader(git_dir: str, commit: str):  # type: ignore[no-untyped-def]
    """A reader of files at ``commit`` (None for a missing one), as pipeline validation
    takes: shared by starting a pipeline and by checking a schedule's or trigger's target."""

    def read(relpath: str) -> bytes | None:
        try:
            return read_file_at(git_dir, commit, relpath)
        except SnapshotError:
            return None

    return read


def checked_steps(run: PipelineRun, spec: PipelineSpec) -> dict[str, CheckedStep]:
    """What validation says about each step, at the run's commit (again, in any process)."""
    snap = run.snapshot
    read = file_reader(snap["git_dir"], snap["commit"])
    return validate_pipeline(spec, snap["notebook_relpath"], read)


def start_pipeline(
    jobs: JobService,
    path: Path,
    raw_overrides: Mapping[str, str] = {},
    *,
    typed: Mapping[str, Mapping[str, Any]] = {},
    no_cache: bool = False,
    source: str = "cli",
    display: str | None = None,
    pipeline_id: str | None = None,
    branch: str | None = None,
    at_commit: str | None = None,
    fired_by: str | None = None,
) -> PipelineRun:
    """Snapshot the pipeline's repository once, validate the file and every step against
    that commit (:class:`~.spec.PipelineInvalid` listing every problem, nothing left
    behind), and record the pipeline run with its steps pending. ``raw_overrides`` are the
    CLI's ``STEP.NAME`` texts (converted to the declared types); ``typed`` values (REST)
    are taken as if written in the file, references included.

    A schedule or trigger passes the ``pipeline_id`` it claimed (exactly once: a second
    start under it collides with the first), and ``branch`` (with ``at_commit``: that
    commit of it) to run what is committed there instead of the working copy."""
    from ..snapshot.create import take_snapshot
    from ..snapshot.refs import delete_run_ref
    from ..store.pipelines import PipelineStore
    from ..store.runs import new_run_id

    pipeline_id = pipeline_id or PIPELINE_ID_PREFIX + new_run_id()[: 32 - len(PIPELINE_ID_PREFIX)]
    if branch is not None:
        snapshot = branch_snapshot(path, branch, pipeline_id, at_commit)
    else:
        snapshot = take_snapshot(
            path,
            pipeline_id,
            private_repo_dir=jobs.settings.private_repo_dir,
            message=f"jupyter-mlops pipeline {pipeline_id}: {path.name}",
            data_dir=jobs.settings.data_dir,
        )
    try:
        where = snapshot.notebook_relpath
        text = read_file_at(snapshot.git_dir, snapshot.commit, where)
        spec = with_values(parse_pipeline(text, where), typed, where)
        read = file_reader(snapshot.git_dir, snapshot.commit)
        checked = validate_pipeline(spec, where, read, raw_overrides)
        overrides = coerce_overrides(checked, split_overrides(raw_overrides, spec.steps)[0])
        run = PipelineRun(
            id=pipeline_id,
            name=spec.name or path.stem,
            pipeline_path=display or str(path),
            status="running",
            source=source,
            snapshot=snapshot.to_dict(),
            spec=spec.model_dump(mode="json"),
            overrides=json_ready(overrides),
            no_cache=no_cache,
            fired_by=fired_by,
        )
        return PipelineStore(jobs.store).create(run, pipeline_steps(spec))
    except BaseException:
        if PipelineStore(jobs.store).get(pipeline_id) is None:  # not another start's ref
            delete_run_ref(snapshot.git_dir, pipeline_id)
        raise


def branch_snapshot(path: Path, branch: str, pipeline_id: str, at_commit: str | None) -> Any:
    """The snapshot of a pipeline file as committed on ``branch`` (its head, or its commit
    ``at_commit``): no new commit, the file on disk is not read."""
    from ..snapshot.branches import pin_branch_commit, resolve_branch, snapshot_branch

    head = resolve_branch(path, branch)
    if at_commit is not None:
        head = pin_branch_commit(head, at_commit)
    return snapshot_branch(path, head.branch, pipeline_id, commit=head.commit)


def with_values(
    spec: PipelineSpec, typed: Mapping[str, Mapping[str, Any]], where: str
) -> PipelineSpec:
    """``spec`` with ``typed`` values over its steps' parameters."""
    unknown = [
        f"parameters.{name}: unknown step {name!r}" for name in typed if name not in spec.steps
    ]
    if unknown:
        raise PipelineInvalid(unknown, where)
    if not typed:
        return spec
    steps = {
        name: step.model_copy(update={"parameters": {**step.parameters, **typed.get(name, {})}})
        for name, step in spec.steps.items()
    }
    return spec.model_copy(update={"steps": steps})


def json_ready(values: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Tuples as lists: the overrides are stored as JSON."""

    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {s: {k: plain(v) for k, v in d.items()} for s, d in values.items()}


def pipeline_steps(spec: PipelineSpec) -> list[PipelineStep]:
    """The rows of a new run's steps: pending, with their dependencies, in file order."""
    deps = dependencies(spec)
    return [
        PipelineStep(name=name, position=i, needs=deps[name], status="pending", attempt=0)
        for i, name in enumerate(spec.steps)
    ]
