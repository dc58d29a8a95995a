"""Create, list, pause, resume and delete triggers: the one path the CLI and REST take.

Everything is checked before anything is written, as for schedules: the notebook and its
parameters (on the branch for an on-commit trigger: a branch that does not exist is
refused), the condition of a metric trigger, the dataset of a data trigger. A new trigger
starts from what exists now (the branch's head, the data's hash, the stream's last point):
it fires for what comes *after* it was added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..input_rules import (
    InputLimits,
    check_gpus,
    check_parameters,
    check_tags,
    check_texts,
    check_timeout,
)
from ..jobs import JobService, RunSettings, new_run_id
from ..store.models_triggers import Trigger
from ..store.triggers import TriggerStore
from ..store.types import utcnow
from .service import validated_target
from .trigger_checks import COMMIT_POLICIES, CheckError, branch_head, dataset_hash, parse_condition


class TriggerError(ValueError):
    """Invalid trigger input; the message says what and how to fix it."""


@dataclass
class TriggerSpec(RunSettings):
    """What to fire (a notebook and its :class:`~jupyter_mlops.jobs.RunSettings`) and on
    which events: exactly one of ``on_commit`` (a branch), ``on_data`` (a dataset path or
    URL), ``on_drift`` (a dataset, with ``reference`` a registered model version) or
    ``on_metric`` (a condition on ``stream``)."""

    notebook: str = ""
    on_commit: str | None = None
    paths: Sequence[str] = ()
    policy: str = "newest"
    on_data: str | None = None
    on_drift: str | None = None
    reference: str | None = None
    column_psi: float = 0.2
    ks: float = 0.1
    on_metric: str | None = None
    stream: str | None = None
    for_points: int = 1
    branch: str | None = None
    """For data, drift and metric triggers: run this branch's head instead of the file."""
    interval: float | None = None
    name: str | None = None
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def trigger_dict(trigger: Trigger) -> dict[str, Any]:
    """A trigger as the CLI's ``--json`` and REST show it."""
    return {
        "id": trigger.id,
        "name": trigger.name,
        "kind": trigger.kind,
        "notebook_path": trigger.notebook_path,
        "target": trigger.target,
        "parameters": dict(trigger.parameters or {}),
        "kernel": trigger.kernel_name,
        "gpus": trigger.gpus,
        "timeout": trigger.timeout_s,
        "tags": list(trigger.tags or []),
        "config": dict(trigger.config or {}),
        "state": dict(trigger.state or {}),
        "active": trigger.active,
        "created_at": trigger.created_at.isoformat() if trigger.created_at else None,
        "last_event_at": trigger.last_event_at.isoformat() if trigger.last_event_at else None,
        "last_run_id": trigger.last_run_id,
        "last_error": trigger.last_error,
    }


class TriggerService:
    """Triggers over a :class:`JobService` (its store, root directory and kernels)."""

    def __init__(self, jobs: JobService, *, on_change: Callable[[], None] | None = None) -> None:
        self.jobs = jobs
        self.triggers = TriggerStore(jobs.store)
        self.on_change = on_change

    # -- validation -----------------------------------------------------------------------

    def _kind(self, spec: TriggerSpec) -> str:
        given = {
            "commit": spec.on_commit,
            "data": spec.on_data,
            "drift": spec.on_drift,
            "metric": spec.on_metric,
        }
        kinds = [kind for kind, value in given.items() if value]
        if len(kinds) != 1:
            raise TriggerError(
                "say what fires the notebook with exactly one of --on-commit BRANCH, "
                "--on-data PATH_OR_URL, --on-drift PATH_OR_URL or --on-metric CONDITION"
                + (f" (got {', '.join('--on-' + k for k in kinds)})" if kinds else "")
            )
        return kinds[0]

    def _check_inputs(self, spec: TriggerSpec) -> None:
        limits = InputLimits.of(self.jobs.settings)
        check_texts(
            {
                "notebook": spec.notebook,
                "on_commit": spec.on_commit,
                "on_data": spec.on_data,
                "on_drift": spec.on_drift,
                "on_metric": spec.on_metric,
                "stream": spec.stream,
                "branch": spec.branch,
                "name": spec.name,
                "reference": spec.reference,
                **{f"paths[{i}]": p for i, p in enumerate(spec.paths)},
            }
        )
        check_parameters({**spec.parameters, **spec.raw_parameters}, limits)
        check_tags(spec.tags or (), limits)
        check_timeout(spec.timeout)
        check_gpus(spec.gpus)
        if spec.interval is not None and not 0.1 <= spec.interval <= 86400:
            raise TriggerError("--interval must be between 0.1 and 86400 seconds")

    def _dataset_uri(self, uri: str) -> str:
        """A local path made absolute (against the server root or the working directory);
        a URL (``s3://...``) as given."""
        if "://" in uri:
            return uri
        base = self.jobs.root_dir or Path.cwd()
        path = (base / Path(uri).expanduser()).resolve()
        if self.jobs.root_dir is not None and not path.is_relative_to(self.jobs.root_dir):
            raise TriggerError(f"{uri!r} is outside the server's root directory")
        return str(path)

    def validate(self, spec: TriggerSpec) -> dict[str, Any]:
        """Check everything; return the trigger's column values (nothing is written)."""
        self._check_inputs(spec)
        kind = self._kind(spec)
        branch = spec.on_commit if kind == "commit" else spec.branch
        target = validated_target(self.jobs, spec, branch=branch, error=TriggerError)
        config: dict[str, Any] = {}
        state: dict[str, Any] = {}
        if spec.interval is not None:
            config["interval"] = float(spec.interval)
        if kind == "commit":
            if spec.policy not in COMMIT_POLICIES:
                raise TriggerError(f"--policy must be one of {', '.join(COMMIT_POLICIES)}")
            from ..snapshot.branches import resolve_branch

            head = resolve_branch(Path(target["notebook_abspath"]), target["branch"])
            config.update(
                branch=head.branch,
                repo=head.worktree,
                paths=[p for p in spec.paths if p],
                policy=spec.policy,
            )
            state["last_commit"] = branch_head(head.worktree, head.branch)
        elif kind in ("data", "drift"):
            uri = self._dataset_uri(str(spec.on_data or spec.on_drift))
            config["uri"] = uri
            try:
                state["last_sha256"] = dataset_hash(uri)["sha256"]
            except CheckError as err:
                raise TriggerError(str(err)) from None
            if kind == "drift":
                config.update(self._drift_config(spec))
        else:
            try:
                condition = parse_condition(str(spec.on_metric))
            except ValueError as err:
                raise TriggerError(str(err)) from None
            if not spec.stream:
                raise TriggerError("--on-metric needs --stream NAME (the stream the figures go to)")
            if spec.for_points < 1:
                raise TriggerError("--for must be at least 1 (consecutive points)")
            config.update(condition=str(condition), stream=spec.stream, **{"for": spec.for_points})
            state["last_point"] = self.triggers.last_point_id(spec.stream, condition.key)
        if kind != "commit" and target["branch"]:
            config["run_branch"] = target["branch"]
        name = spec.name or self._default_name(kind, target["notebook_path"], config)
        if len(name) > 255:
            raise TriggerError("the name is longer than 255 characters")
        target.pop("branch")
        return {
            "name": name,
            "kind": kind,
            **target,
            "gpus": spec.gpus,
            "timeout_s": spec.timeout,
            "tags": sorted(set(spec.tags or [])),
            "config": config,
            "state": state,
            "active": spec.active,
        }

    def _drift_config(self, spec: TriggerSpec) -> dict[str, Any]:
        if not spec.reference:
            raise TriggerError("--on-drift needs --reference models:/NAME@ALIAS (or /VERSION)")
        if not (spec.column_psi > 0) or not (0 < spec.ks <= 1):
            raise TriggerError("--column-psi must be > 0 and --ks between 0 and 1")
        from .drift_reference import reference_stats

        try:
            reference_stats(self.jobs.store, spec.reference)
        except LookupError as err:
            raise TriggerError(str(err)) from None
        return {"reference": spec.reference, "column_psi": spec.column_psi, "ks": spec.ks}

    @staticmethod
    def _default_name(kind: str, notebook: str, config: dict[str, Any]) -> str:
        stem = Path(notebook).stem
        what = {
            "commit": lambda: f"commit@{config['branch']}",
            "data": lambda: f"data:{Path(config['uri']).name}",
            "drift": lambda: f"drift:{Path(config['uri']).name}",
            "metric": lambda: f"metric:{config['stream']}",
        }[kind]()
        return f"{stem} on {what}"

    # -- commands -----------------------------------------------------------------------

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def create(self, spec: TriggerSpec) -> Trigger:
        values = self.validate(spec)
        now = utcnow()
        trigger = Trigger(id=new_run_id(), created_at=now, updated_at=now, version=0, **values)
        created = self.triggers.create(trigger)
        self._changed()
        return created

    def resolve_id(self, key: str) -> str:
        return self.triggers.resolve_id(key)

    def list(self) -> list[dict[str, Any]]:
        return [trigger_dict(t) for t in self.triggers.list()]

    def detail(self, trigger_id: str, *, history: int = 20) -> dict[str, Any]:
        """The trigger and its newest events (what fired, which run, its status)."""
        view = trigger_dict(self.triggers.require(trigger_id))
        view["events"] = [
            {
                "key": e.key,
                "state": e.state,
                "run_id": e.run_id,
                "run_status": e.run_status,
                "claimed_at": e.claimed_at.isoformat(),
                "details": e.details,
                "reason": e.reason,
            }
            for e in self.triggers.events_of(trigger_id, history)
        ]
        return view

    def pause(self, trigger_id: str) -> Trigger:
        trigger = self.triggers.set_active(trigger_id, False)
        self._changed()
        return trigger

    def resume(self, trigger_id: str) -> Trigger:
        """Resume: what happened while paused is not replayed one by one; the next look
        compares with the state seen before the pause (so a changed branch or dataset
        fires once, by its policy)."""
        trigger = self.triggers.set_active(trigger_id, True)
        self._changed()
        return trigger

    def delete(self, trigger_id: str) -> None:
        self.triggers.delete(trigger_id)
        self._changed()
