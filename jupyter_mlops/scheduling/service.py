"""Create, change and inspect schedules: the one path the CLI and the REST API take.

Everything is validated before anything is written: the cron expression and time zone,
the notebook (inside the server root when there is one; on the branch for a branch
schedule), its parameters against the notebook's declared ones, the kernel, GPUs, the
timeout and the policies. A schedule that is stored can fire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..input_rules import (
    InputLimits,
    check_gpus,
    check_length,
    check_parameters,
    check_tags,
    check_text,
    check_texts,
    check_timeout,
)
from ..jobs import JobService, RunSettings, Submission, new_run_id
from ..masking import refuse_secret_parameters
from ..server import models
from ..store.claim_targets import NOTEBOOK, PIPELINE
from ..store.models import Schedule
from ..store.schedules import LastRun, ScheduleNotFound, ScheduleStore
from ..store.types import utcnow
from .cron import CronError, CronSchedule, local_zone_name
from .pipeline_target import is_pipeline_file, validated_pipeline_target
from .scheduler import cron_for, run_settings_of, run_spec_for


class ScheduleError(ValueError):
    """Invalid schedule input; the message says what and how to fix it."""


@dataclass
class ScheduleSpec(RunSettings):
    """What to schedule: a notebook (on a branch or the working copy), when, the
    :class:`~jupyter_mlops.jobs.RunSettings` of every run it fires, and its policies."""

    notebook: str
    cron: str
    timezone: str | None = None
    branch: str | None = None
    catchup: str = "skip"
    max_catchup: int = 10
    concurrency: str = "allow"
    name: str | None = None
    active: bool = True


EDITABLE = frozenset(f.name for f in fields(ScheduleSpec)) - {"raw_parameters"}


def schedule_dict(schedule: Schedule, last_run: LastRun | None = None) -> dict[str, Any]:
    """The JSON view of a schedule (CLI ``--json`` and REST)."""
    return schedule_model(schedule, last_run).to_json()


def schedule_model(schedule: Schedule, last_run: LastRun | None = None) -> models.Schedule:
    """:func:`schedule_dict` as its model (the detail view extends it)."""
    run_settings = run_settings_of(schedule)
    run_settings["timeout_s"] = run_settings.pop("timeout")  # the API's name for it
    fields = {
        "id": schedule.id,
        "name": schedule.name,
        "notebook": schedule.notebook_path,
        "target": schedule.target,
        "source": "branch" if schedule.branch else "working_copy",
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        **run_settings,
        "active": schedule.active,
        "catchup": schedule.catchup,
        "max_catchup": schedule.max_catchup,
        "concurrency": schedule.concurrency,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
        "next_fire_at": schedule.next_fire_at if schedule.active else None,
        "last_fired_slot": schedule.last_fired_slot,
        "last_run_id": last_run.run_id if last_run else schedule.last_run_id,
        "last_run_status": last_run.status if last_run else None,
    }
    return models.Schedule(**fields)


def parse_cron(expression: str, timezone: str | None) -> CronSchedule:
    """The cron expression read in ``timezone`` (default this machine's zone), as a
    schedule's is; a CronError says why a schedule would refuse it."""
    return CronSchedule.parse(expression, timezone.strip() if timezone else local_zone_name())


def preview_cron(
    expression: str, timezone: str | None, count: int, *, now: datetime | None = None
) -> models.CronPreview:
    """Whether a schedule would accept ``expression`` and, if so, its next ``count`` fire
    times after ``now``, in the zone's offset."""
    times: list[datetime] = []
    cursor = now or utcnow()
    try:
        cron = parse_cron(expression, timezone)
        while len(times) < count:
            cursor = cron.next_after(cursor)
            times.append(cursor.astimezone(cron.tz))
    except CronError as err:
        return models.CronPreview(models.InvalidCronPreview(valid=False, error=str(err)))
    return models.CronPreview(
        models.ValidCronPreview(
            valid=True, expression=expression.strip(), timezone=cron.tz_name, next=times
        )
    )


def validated_target(
    jobs: JobService,
    settings: RunSettings,
    *,
    notebook: str | None = None,
    branch: str | None,
    error: type[Exception],
) -> dict[str, Any]:
    """The notebook (on disk, or as committed on ``branch``), its typed parameter values and
    its kernel, checked as a run would check them: the columns a schedule or a trigger
    stores for the runs it will fire. Raises ``error`` with a message saying what to fix."""
    from ..kernels import resolve_kernel
    from ..notebook.coercion import parameter_values
    from ..notebook.inspection import inspect_parameters
    from ..notebook.reading import read_notebook
    from ..snapshot.plumbing import SnapshotError

    notebook = notebook if notebook is not None else getattr(settings, "notebook", None)
    if not isinstance(notebook, str) or not notebook.strip():
        raise error("the notebook path is empty")
    if is_pipeline_file(notebook):
        return validated_pipeline_target(
            jobs, settings, pipeline=notebook, branch=branch, error=error
        )
    path, display = jobs.resolve_notebook(notebook)
    branch = (branch or "").strip() or None
    if branch is not None:
        from ..jobs import read_branch_notebook

        try:
            _, nb = read_branch_notebook(path, branch)
        except SnapshotError as err:
            raise error(str(err)) from None
    else:
        if not path.exists():
            raise error(f"notebook {display!r} does not exist")
        nb = read_notebook(path)
    declared = inspect_parameters(nb)
    values = parameter_values(declared, settings.parameters, settings.raw_parameters)
    check_parameters(values, InputLimits.of(jobs.settings))  # a CLI "nan", coerced
    refuse_secret_parameters(values, jobs.settings.secret_parameter_patterns)
    kernel = settings.kernel or None
    resolve_kernel(kernel, nb)
    return {
        "notebook_path": display,
        "notebook_abspath": str(path),
        "branch": branch,
        "parameters": values,
        "kernel_name": kernel,
        "target": NOTEBOOK,
    }


class ScheduleService:
    """Schedules over a :class:`JobService` (its store, root directory and kernels)."""

    def __init__(
        self,
        jobs: JobService,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.jobs = jobs
        self.schedules = ScheduleStore(jobs.store)
        self.clock = clock
        self.on_change = on_change

    # -- validation -----------------------------------------------------------------------

    def validate(self, spec: ScheduleSpec) -> dict[str, Any]:
        """Check everything; return the schedule's column values (nothing is written)."""

        self._check_inputs(spec)
        cron = parse_cron(spec.cron, spec.timezone)
        target = validated_target(self.jobs, spec, branch=spec.branch, error=ScheduleError)
        branch, display = target["branch"], target["notebook_path"]
        settings = {
            key: getattr(spec, key) for key in models.SchedulePolicy.model_fields if key != "tags"
        }
        policy = self._policy(**settings, tags=list(spec.tags or []))
        if target["target"] == PIPELINE and policy.concurrency != "allow":
            raise ScheduleError(
                "a schedule of a pipeline runs with --concurrency allow (skip and queue "
                "look at notebook runs only)"
            )
        name = policy.name or Path(display).stem + (f"@{branch}" if branch else "")
        if len(name) > 255:
            raise ScheduleError("the name is longer than 255 characters")
        return {
            "name": name,
            **target,
            "gpus": policy.gpus,
            "timeout_s": policy.timeout,
            "tags": sorted(set(policy.tags)),
            "cron": spec.cron.strip(),
            "timezone": cron.tz_name,
            "catchup": policy.catchup,
            "max_catchup": policy.max_catchup,
            "concurrency": policy.concurrency,
            "active": policy.active,
        }

    def _check_inputs(self, spec: ScheduleSpec) -> None:
        """The rules of :mod:`~jupyter_mlops.input_rules` (no NUL, finite numbers, sizes),
        the same as for a run, before anything else is looked at."""
        limits = InputLimits.of(self.jobs.settings)
        texts = {
            "notebook": spec.notebook,
            "cron": spec.cron,
            "timezone": spec.timezone,
            "branch": spec.branch,
            "kernel": spec.kernel,
            "name": spec.name,
        }
        check_texts(texts)
        check_length(spec.cron, "cron")
        check_parameters({**spec.parameters, **spec.raw_parameters}, limits)
        check_tags(spec.tags or (), limits)
        check_timeout(spec.timeout)
        check_gpus(spec.gpus)

    @staticmethod
    def _policy(**fields: Any) -> models.SchedulePolicy:
        """The run settings and policies, checked by their model."""
        try:
            return models.SchedulePolicy.parse(fields)
        except ValueError as err:
            raise ScheduleError(str(err)) from None

    def _spec_of(self, schedule: Schedule) -> ScheduleSpec:
        return ScheduleSpec(
            notebook=schedule.notebook_abspath,
            cron=schedule.cron,
            timezone=schedule.timezone,
            **run_settings_of(schedule),
            catchup=schedule.catchup,
            max_catchup=schedule.max_catchup,
            concurrency=schedule.concurrency,
            name=schedule.name,
            active=schedule.active,
        )

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- commands -----------------------------------------------------------------------

    def create(self, spec: ScheduleSpec) -> Schedule:
        values = self.validate(spec)
        now = self.clock()
        schedule = Schedule(
            id=new_run_id(),
            created_at=now,
            updated_at=now,
            next_fire_at=cron_for(values["cron"], values["timezone"]).next_after(now),
            **values,
        )
        created = self.schedules.create(schedule)
        self._changed()
        return created

    def update(self, schedule_id: str, changes: Mapping[str, Any]) -> Schedule:
        """Edit fields (names as in :class:`ScheduleSpec`); the whole schedule is validated
        again unless only ``active`` or ``name`` change. A new cron expression or time zone
        starts from the next slot after now; resuming applies the catch-up policy to the
        slots missed while paused."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ScheduleError(f"cannot change {', '.join(sorted(unknown))}")
        current = self.schedules.require(schedule_id)
        light = set(changes) <= {"active", "name"}
        if light:
            check_text(changes.get("name"), "name")
            policy = self._policy(**changes)
            values: dict[str, Any] = {}
            if "name" in changes:
                if not policy.name:
                    raise ScheduleError("the name must be 1 to 255 characters")
                values["name"] = policy.name
            if "active" in changes:
                values["active"] = policy.active
        else:
            spec = replace(self._spec_of(current), **dict(changes))
            if "notebook" not in changes:
                spec.notebook = current.notebook_abspath
            values = self.validate(spec)
        retime = (values.get("cron", current.cron), values.get("timezone", current.timezone)) != (
            current.cron,
            current.timezone,
        )

        def compute(row: Schedule) -> dict[str, Any]:
            out = dict(values)
            now = self.clock()
            if retime or row.next_fire_at is None:
                after = max(now, row.last_fired_slot) if row.last_fired_slot else now
                out["next_fire_at"] = cron_for(
                    out.get("cron", row.cron), out.get("timezone", row.timezone)
                ).next_after(after)
            return out

        updated = self.schedules.update(schedule_id, compute)
        self._changed()
        return updated

    def pause(self, schedule_id: str) -> Schedule:
        return self.update(schedule_id, {"active": False})

    def resume(self, schedule_id: str) -> Schedule:
        return self.update(schedule_id, {"active": True})

    def delete(self, schedule_id: str) -> None:
        self.schedules.delete(schedule_id)
        self._changed()

    def run_now(self, schedule_id: str, source: str = "schedule") -> Submission:
        """Run the schedule's notebook once, now (not a slot: ``scheduled_for`` is None;
        the concurrency policy does not apply to an explicit request)."""
        schedule = self.schedules.require(schedule_id)
        if schedule.target == PIPELINE:
            raise ScheduleError(
                f"schedule {schedule.name} fires a pipeline: start one now with "
                f"jupyter mlops pipeline run {schedule.notebook_path}"
            )
        submission = self.jobs.submit(run_spec_for(schedule, source=source))
        self.schedules.set_last_run(schedule.id, submission.run.id)
        return submission

    # -- views --------------------------------------------------------------------------

    def resolve_id(self, key: str) -> str:
        return self.schedules.resolve_id(key)

    def list(self) -> list[dict[str, Any]]:
        return [schedule_dict(s, last) for s, last in self.schedules.list()]

    def get(self, schedule_id: str) -> dict[str, Any]:
        schedule = self.schedules.require(schedule_id)
        return schedule_dict(schedule, self.schedules.last_run(schedule))

    def detail(self, schedule_id: str, *, upcoming: int = 5, history: int = 20) -> dict[str, Any]:
        """The schedule, its next few fire times, its recent slots and runs."""
        schedule = self.schedules.require(schedule_id)
        cron = cron_for(schedule.cron, schedule.timezone)
        times: list[datetime] = []
        cursor = schedule.next_fire_at or self.clock()
        if schedule.active and schedule.next_fire_at is not None:
            times.append(cursor)
        while len(times) < upcoming:
            cursor = cron.next_after(cursor)
            times.append(cursor)
        fires = [
            models.ScheduleFire(
                slot=f.slot,
                state=f.state,
                run_id=f.run_id if f.state != "skipped" else None,
                run_status=f.run_status,
                reason=f.reason,
                holder=f.holder,
                claimed_at=f.claimed_at,
            )
            for f in self.schedules.fires(schedule.id, limit=history)
        ]
        runs = [
            models.ScheduleRun(
                id=r.id,
                status=r.status,
                status_reason=r.status_reason,
                scheduled_for=r.scheduled_for,
                created_at=r.created_at,
            )
            for r in self.schedules.runs_of(schedule.id, limit=history)
        ]
        return models.ScheduleDetail(
            **dict(schedule_model(schedule, self.schedules.last_run(schedule))),
            upcoming=times,
            fires=fires,
            runs=runs,
        ).to_json()


__all__ = [
    "CronError",
    "ScheduleError",
    "ScheduleNotFound",
    "ScheduleService",
    "ScheduleSpec",
    "parse_cron",
    "preview_cron",
    "schedule_dict",
]
