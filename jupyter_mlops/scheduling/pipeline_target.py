"""A schedule or a trigger whose target is a pipeline file (``pipeline.yaml``).

The path given to ``schedule add`` / ``trigger add`` (or REST's ``notebook``/``pipeline``)
decides: a ``.yaml``/``.yml`` file is a pipeline, anything else a notebook. A pipeline
target is validated whole when it is added, as ``pipeline run`` validates it (every
problem listed), on the branch when it runs from one; its ``-p STEP.NAME VALUE`` values
are stored typed, by step. When it fires, one pipeline run starts through the pipeline
engine (:func:`~jupyter_mlops.pipelines.steps.start_pipeline`) under the id claimed with
the slot or event, from committed code: the branch's head, exactly the commit of an
on-commit trigger, or a snapshot of the working copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store.claim_targets import PIPELINE

if TYPE_CHECKING:
    from ..jobs import JobService, RunSettings
    from ..store.models_pipelines import PipelineRun

PIPELINE_SUFFIXES = (".yaml", ".yml")


def is_pipeline_file(path: object) -> bool:
    """Whether a schedule's or trigger's target path names a pipeline file."""
    return isinstance(path, str) and path.strip().lower().endswith(PIPELINE_SUFFIXES)


@dataclass(frozen=True)
class PipelineLaunch:
    """One pipeline run a slot or an event fires, under the id claimed for it."""

    pipeline: str
    display: str
    pipeline_id: str
    source: str
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    branch: str | None = None
    at_commit: str | None = None
    fired_by: str | None = None


LaunchFn = Callable[[PipelineLaunch], Any]


def pipeline_launcher(jobs: JobService) -> LaunchFn:
    """Start a launch's pipeline run through ``jobs`` (the scheduler's job service); the
    process's pipeline upkeep advances it from there, as any pipeline run."""
    from ..pipelines.steps import start_pipeline

    def launch(item: PipelineLaunch) -> PipelineRun:
        return start_pipeline(
            jobs,
            Path(item.pipeline),
            typed=item.overrides,
            source=item.source,
            display=item.display,
            pipeline_id=item.pipeline_id,
            branch=item.branch,
            at_commit=item.at_commit,
            fired_by=item.fired_by,
        )

    return launch


def launch_of(
    owner: Any,
    claimed: str,
    *,
    source: str,
    fired_by: str,
    branch: str | None,
    at_commit: str | None = None,
) -> PipelineLaunch:
    """The launch of a pipeline schedule or trigger (``owner``: its row)."""
    return PipelineLaunch(
        pipeline=owner.notebook_abspath,
        display=owner.notebook_path,
        pipeline_id=claimed,
        source=source,
        overrides={k: dict(v) for k, v in (owner.parameters or {}).items()},
        branch=branch,
        at_commit=at_commit,
        fired_by=fired_by,
    )


def schedule_fired_by(name: str, slot: datetime | None) -> str:
    when = f"for slot {slot.isoformat()}" if slot is not None else "now (run now)"
    return f"fired by schedule {name} {when}"


# -- validation ------------------------------------------------------------------------


def _pipeline_path(jobs: JobService, pipeline: str, error: type[Exception]) -> tuple[Path, str]:
    raw = Path(pipeline.strip()).expanduser()
    base = jobs.root_dir or Path.cwd()
    path = (raw if raw.is_absolute() else base / raw).resolve()
    if jobs.root_dir is not None and not path.is_relative_to(jobs.root_dir):
        raise error(f"{pipeline!r} is outside the server's root directory {jobs.root_dir}")
    from ..pipelines.orchestrator import display_path

    return path, display_path(jobs, path)


def _typed_overrides(values: Mapping[str, Any], error: type[Exception]) -> dict[str, Any]:
    """Typed values by step (REST: ``{"train": {"lr": 0.01}}``; ``"train.lr": 0.01`` too)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        step, dot, name = key.partition(".")
        if dot and name:
            out.setdefault(step, {})[name] = value
        elif isinstance(value, Mapping):
            out.setdefault(key, {}).update(value)
        else:
            raise error(
                f"parameter {key!r}: a pipeline's parameters are given by step, as "
                '{"STEP": {"NAME": value}} or -p STEP.NAME VALUE'
            )
    return out


def _source(path: Path, display: str, branch: str | None, error: type[Exception]) -> Any:
    """(text, tree path of the file, reader of the files beside it) from the branch's head
    or from disk."""
    from ..pipelines.steps import file_reader
    from ..snapshot.branches import resolve_branch
    from ..snapshot.plumbing import SnapshotError
    from ..snapshot.reading import read_file_at

    if branch is not None:
        try:
            head = resolve_branch(path, branch)
            text = read_file_at(head.git_dir, head.commit, head.notebook_relpath)
        except SnapshotError as err:
            raise error(str(err)) from None
        return text, head.notebook_relpath, file_reader(head.git_dir, head.commit)
    if not path.is_file():
        raise error(f"pipeline file {display!r} does not exist")

    def read(relpath: str) -> bytes | None:
        file = path.parent / relpath
        return file.read_bytes() if file.is_file() else None

    return path.read_bytes(), path.name, read


def validated_pipeline_target(
    jobs: JobService,
    settings: RunSettings,
    *,
    pipeline: str,
    branch: str | None,
    error: type[Exception],
) -> dict[str, Any]:
    """The pipeline file (on disk, or as committed on ``branch``) validated whole, and its
    step values typed: the columns a schedule or a trigger stores to fire it. Raises
    ``error`` with a message saying what to fix (every problem of an invalid file)."""
    from ..pipelines.spec import PipelineInvalid, parse_pipeline
    from ..pipelines.steps import json_ready, with_values
    from ..pipelines.validation import coerce_overrides, split_overrides, validate_pipeline

    given = [
        flag
        for flag, value in (
            ("--kernel", settings.kernel),
            ("--gpus", settings.gpus),
            ("--timeout", settings.timeout),
            ("--tag", list(settings.tags or [])),
        )
        if value
    ]
    if given:
        raise error(
            f"{', '.join(given)}: a pipeline's steps set their kernel, gpus and timeout in "
            "the pipeline file; give only -p STEP.NAME VALUE"
        )
    path, display = _pipeline_path(jobs, pipeline, error)
    branch = (branch or "").strip() or None
    text, where, read = _source(path, display, branch, error)
    typed = _typed_overrides(settings.parameters, error)
    raw = dict(settings.raw_parameters)
    try:
        spec = with_values(parse_pipeline(text, where), typed, where)
        checked = validate_pipeline(spec, where, read, raw)
    except PipelineInvalid as err:
        raise error(str(err)) from None
    merged = {step: dict(values) for step, values in typed.items()}
    for step, values in coerce_overrides(checked, split_overrides(raw, spec.steps)[0]).items():
        merged.setdefault(step, {}).update(values)
    return {
        "notebook_path": display,
        "notebook_abspath": str(path),
        "branch": branch,
        "parameters": json_ready(merged),
        "kernel_name": None,
        "target": PIPELINE,
    }
