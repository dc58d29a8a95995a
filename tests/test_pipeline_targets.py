"""A schedule or a trigger whose target is a ``pipeline.yaml``: real git repositories, real
pipelines of small notebooks (``tests/pipelines``), on SQLite and PostgreSQL.

Firing starts one pipeline run through the pipeline engine under the id claimed with the
slot or event (an on-commit trigger: exactly that commit), records who fired it, and a
claimer that dies between claim and start is recovered as for notebook runs: a failed
pipeline run under the claimed id, which a late start collides with.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.pipelines.orchestrator import (
    PipelineAdvancer,
    PipelineNeverStarted,
    resume_pipeline,
)
from jupyter_mlops.pipelines.report import pipeline_detail
from jupyter_mlops.scheduling.pipeline_target import PipelineLaunch, pipeline_launcher
from jupyter_mlops.scheduling.scheduler import Scheduler
from jupyter_mlops.scheduling.service import ScheduleError, ScheduleService, ScheduleSpec
from jupyter_mlops.scheduling.trigger_service import TriggerError, TriggerService, TriggerSpec
from jupyter_mlops.scheduling.triggers import TriggerWatcher
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.pipelines import PipelineStore
from jupyter_mlops.store.schedules import ScheduleStore
from jupyter_mlops.store.triggers import NewEvent, TriggerStore
from jupyter_mlops.store.types import utcnow

from .conftest import git, init_repo, mlops_line, stop_active_runs

PIPELINES = Path(__file__).parent / "pipelines"
SHORT = (
    "name: short\n"
    "steps:\n"
    "  first:\n    notebook: sleepy.ipynb\n    parameters: {label: one}\n"
    "  second:\n    notebook: sleepy.ipynb\n"
    "    parameters: {label: '${steps.first.run_id}'}\n"
)


@dataclass
class Project:
    root: Path
    jobs: JobService
    advancer: PipelineAdvancer

    @property
    def pipeline(self) -> str:
        return str(self.root / "flow" / "short.yaml")

    def commit(self, name: str, text: str) -> str:
        (self.root / name).write_text(text)
        git(self.root, "add", name)
        git(self.root, "commit", "-q", "-m", f"change {name}")
        return git(self.root, "rev-parse", "HEAD")

    def finish(self, pipeline_id: str) -> dict:
        done = self.advancer.advance(pipeline_id, wait=True)
        return pipeline_detail(self.advancer.store, done)


def make_project(base: Path, db_url: str | None = None) -> Project:
    root = base / "project"
    shutil.copytree(PIPELINES, root / "flow")
    (root / "flow" / "short.yaml").write_text(SHORT)
    init_repo(root)
    settings = Settings(
        data_dir=base / "data", db_url=db_url or "", heartbeat_interval=0.5, lost_after=30.0
    )
    store = RunStore.from_settings(settings)  # the runners write to the same store
    jobs = JobService(settings, store)
    return Project(root, jobs, PipelineAdvancer(jobs))


@pytest.fixture
def project(tmp_path: Path, db_url: str) -> Iterator[Project]:
    p = make_project(tmp_path, db_url)
    yield p
    stop_active_runs(p.jobs.store)
    p.jobs.close()
    p.jobs.store.close()


class Launches:
    """The real launcher, keeping the pipeline runs it started."""

    def __init__(self, jobs: JobService) -> None:
        self.launch = pipeline_launcher(jobs)
        self.started: list[str] = []

    def __call__(self, item: PipelineLaunch) -> object:
        run = self.launch(item)
        self.started.append(run.id)
        return run


def watcher(project: Project, launches: Launches | None) -> TriggerWatcher:
    def no_notebooks(spec: object) -> None:
        raise AssertionError(f"a notebook run was submitted: {spec}")

    return TriggerWatcher(
        TriggerStore(project.jobs.store), no_notebooks, holder="test", launch_pipeline=launches
    )


def look(w: TriggerWatcher, trigger_id: str) -> list[str]:
    return w.look(w.store.require(trigger_id), w.clock())


def test_each_commit_fires_one_pipeline_run_from_exactly_that_commit(project: Project) -> None:
    service = TriggerService(project.jobs)
    trigger = service.create(
        TriggerSpec(
            notebook=project.pipeline,
            on_commit="main",
            policy="each",
            raw_parameters={"first.label": "from-cli"},
        )
    )
    assert trigger.target == "pipeline" and trigger.kernel_name is None
    assert trigger.parameters == {"first": {"label": "from-cli"}}
    launches = Launches(project.jobs)
    w = watcher(project, launches)
    assert look(w, trigger.id) == []  # nothing new since it was added
    first = project.commit("a.txt", "1\n")
    second = project.commit("b.txt", "2\n")
    fired = look(w, trigger.id)
    assert fired == launches.started and len(fired) == 2
    assert all(f.startswith("pl-") for f in fired)
    assert look(w, trigger.id) == []  # seen: never again

    store = PipelineStore(project.jobs.store)
    for pipeline_id, sha in zip(fired, (first, second), strict=True):
        run = store.require(pipeline_id)
        assert run.snapshot["commit"] == sha and run.source == "trigger"
        assert run.fired_by and sha[:12] in run.fired_by and trigger.name in run.fired_by
        assert git(project.root, "rev-parse", f"refs/mlops/runs/{pipeline_id}") == sha
        detail = project.finish(pipeline_id)
        assert detail["status"] == "succeeded", detail
        assert detail["fired_by"] == run.fired_by
        step_run = project.jobs.store.require_run(detail["steps"][0]["run_id"])
        assert step_run.commit_sha == sha
    events = service.detail(trigger.id)["events"]
    assert sorted((e["key"], e["run_id"]) for e in events) == sorted(
        zip((first, second), fired, strict=True)
    )
    assert {e["state"] for e in events} == {"done"}
    assert {e["run_status"] for e in events} == {"succeeded"}
    assert service.list()[0]["last_run_id"] in fired
    assert project.jobs.store.list_runs(limit=50).runs  # the steps' ordinary runs
    assert all(r.source == "pipeline" for r in project.jobs.store.list_runs(limit=50).runs)


def test_a_schedule_slot_starts_a_pipeline_run_of_the_branch(project: Project) -> None:
    service = ScheduleService(project.jobs)
    schedule = service.create(
        ScheduleSpec(notebook=project.pipeline, cron="0 3 * * *", timezone="UTC", branch="main")
    )
    assert schedule.target == "pipeline"
    head = git(project.root, "rev-parse", "main")
    launches = Launches(project.jobs)
    clock = [schedule.next_fire_at + timedelta(seconds=1)]
    scheduler = Scheduler(
        ScheduleStore(project.jobs.store),
        lambda spec: pytest.fail(f"a notebook run was submitted: {spec}"),
        clock=lambda: clock[0],
        holder="test",
        launch_pipeline=launches,
    )
    scheduler.tick()
    (pipeline_id,) = launches.started
    run = PipelineStore(project.jobs.store).require(pipeline_id)
    assert run.source == "schedule" and run.snapshot["commit"] == head
    assert (
        run.fired_by
        == f"fired by schedule {schedule.name} for slot {schedule.next_fire_at.isoformat()}"
    )
    detail = project.finish(pipeline_id)
    assert detail["status"] == "succeeded", detail
    view = service.detail(schedule.id)
    assert view["target"] == "pipeline" and view["last_run_id"] == pipeline_id
    assert view["last_run_status"] == "succeeded"
    assert [(f["run_id"], f["state"], f["run_status"]) for f in view["fires"]] == [
        (pipeline_id, "done", "succeeded")
    ]
    with pytest.raises(ScheduleError, match="pipeline run"):
        service.run_now(schedule.id)


def test_a_trigger_claimer_that_dies_is_recovered_as_a_failed_pipeline_run(
    project: Project,
) -> None:
    triggers = TriggerStore(project.jobs.store)
    trigger = TriggerService(project.jobs).create(
        TriggerSpec(notebook=project.pipeline, on_commit="main")
    )
    sha = project.commit("c.txt", "3\n")
    # claim, then "crash": nothing is started
    (claimed,) = triggers.advance(
        trigger, {"last_commit": sha}, [NewEvent(sha, {"commit": sha})], holder="dead"
    ) or [None]
    assert claimed is not None and claimed.target == "pipeline"
    later = utcnow() + timedelta(seconds=300)
    assert triggers.recover_stale_events(later, timeout=120) == [claimed.run_id]
    pipelines = PipelineStore(project.jobs.store)
    failed = pipelines.require(claimed.run_id)
    assert failed.status == "failed" and "did not submit" in (failed.status_reason or "")
    assert pipelines.steps(failed.id) == []
    (event,) = triggers.events_of(trigger.id)
    assert event.state == "done" and event.run_status == "failed"
    # the claimer wakes up late and starts it: it collides, nothing runs twice
    launch = pipeline_launcher(project.jobs)
    from jupyter_mlops.scheduling.triggers import launch_for_event

    with pytest.raises(IntegrityError):
        launch(launch_for_event(claimed))
    assert [r.id for r in pipelines.list()] == [claimed.run_id]
    assert pipelines.require(claimed.run_id).status == "failed"
    assert triggers.recover_stale_events(later, timeout=120) == []  # once
    with pytest.raises(PipelineNeverStarted, match="never started"):
        resume_pipeline(project.advancer, claimed.run_id)


def test_a_schedule_claimer_that_dies_is_recovered_as_a_failed_pipeline_run(
    project: Project,
) -> None:
    schedule = ScheduleService(project.jobs).create(
        ScheduleSpec(notebook=project.pipeline, cron="0 3 * * *", timezone="UTC")
    )
    schedules = ScheduleStore(project.jobs.store)
    now = schedule.next_fire_at + timedelta(seconds=1)
    scheduler = Scheduler(schedules, lambda spec: None, clock=lambda: now, holder="dead")
    (fire,) = schedules.claim_due(now, holder="dead", planner=scheduler._plan)  # then "crash"
    assert fire.run_id.startswith("pl-")
    lost = schedules.recover_stale_fires(now + timedelta(seconds=300), timeout=120)
    assert lost == [fire.run_id]
    pipelines = PipelineStore(project.jobs.store)
    assert pipelines.require(fire.run_id).status == "failed"
    assert project.jobs.store.list_runs(limit=10).runs == []  # no notebook run row
    with pytest.raises(IntegrityError):
        pipeline_launcher(project.jobs)(scheduler.launch_for(fire))
    assert [r.id for r in pipelines.list()] == [fire.run_id]
    (record,) = schedules.fires(schedule.id)
    assert record.state == "done" and record.run_status == "failed"


def test_a_scheduler_without_pipelines_records_why(project: Project) -> None:
    trigger = TriggerService(project.jobs).create(
        TriggerSpec(notebook=project.pipeline, on_commit="main")
    )
    project.commit("d.txt", "4\n")
    (pipeline_id,) = look(watcher(project, None), trigger.id)
    failed = PipelineStore(project.jobs.store).require(pipeline_id)
    assert failed.status == "failed" and "without pipelines" in (failed.status_reason or "")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_pipeline_targets_are_refused(project: Project, env: dict[str, str]) -> None:
    bad = project.root / "flow" / "bad.yaml"
    bad.write_text(
        "steps:\n  a:\n    notebook: missing.ipynb\n"
        "  b:\n    notebook: sleepy.ipynb\n    parameters: {nope: 1}\n"
    )
    triggers, schedules = TriggerService(project.jobs), ScheduleService(project.jobs)
    cases = [
        (TriggerSpec(notebook=str(bad), on_commit="main"), "does not exist on branch"),
        (TriggerSpec(notebook=str(bad), on_data=str(bad)), "missing.ipynb not found"),
        (TriggerSpec(notebook=project.pipeline, on_commit="nope"), "unknown branch 'nope'"),
        (
            TriggerSpec(notebook=project.pipeline, on_commit="main", kernel="python3"),
            "--kernel",
        ),
        (
            TriggerSpec(
                notebook=project.pipeline, on_commit="main", raw_parameters={"first.nope": "1"}
            ),
            "nope",
        ),
    ]
    for spec, message in cases:
        with pytest.raises((TriggerError, ValueError)) as info:
            triggers.create(spec)
        assert message in str(info.value), str(info.value)
    with pytest.raises(ScheduleError) as info:
        schedules.create(ScheduleSpec(notebook=str(bad), cron="@daily"))
    assert "2 problems" in str(info.value) and "unknown parameter 'nope'" in str(info.value)
    with pytest.raises(ScheduleError, match="concurrency"):
        schedules.create(ScheduleSpec(notebook=project.pipeline, cron="@daily", concurrency="skip"))
    assert triggers.list() == [] and schedules.list() == []

    env = {**env, "JUPYTER_MLOPS_DB_URL": str(project.jobs.store.engine.url)}
    result = mlops_line(f"schedule add {bad} --cron @daily", env=env)
    assert result.returncode == 2, result.stderr
    assert "missing.ipynb not found" in result.stderr and "nope" in result.stderr
    assert "Traceback" not in result.stderr
    added = mlops_line(f"trigger add {project.pipeline} --on-commit main -p first.label x", env=env)
    assert added.returncode == 0, added.stderr
    listed = mlops_line("trigger list", env=env)
    assert "pipeline flow/short.yaml" in listed.stdout or "pipeline " in listed.stdout, listed
    sched = mlops_line(
        f"schedule add {project.pipeline} --cron @daily --branch main -p first.label y", env=env
    )
    assert sched.returncode == 0, sched.stderr
    shown = mlops_line(f"schedule show {sched.stdout.strip()}", env=env)
    assert "pipeline     " in shown.stdout and 'first = {"label": "y"}' in shown.stdout, shown
    assert "as in the pipeline file" in shown.stdout


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_scheduler_process_fires_and_advances_a_pipeline_trigger(
    project: Project, env: dict[str, str]
) -> None:
    from .scheduler_processes import schedulers, wait_for

    env = {**env, "JUPYTER_MLOPS_DB_URL": str(project.jobs.store.engine.url)}
    added = mlops_line(f"trigger add {project.pipeline} --on-commit main", env=env)
    assert added.returncode == 0, added.stderr
    with schedulers(env, 1):  # stopped with SIGTERM at the end: exit 0, no traceback
        sha = project.commit("e.txt", "5\n")
        pipelines = PipelineStore(project.jobs.store)

        def ended() -> list:
            runs = pipelines.list()
            return runs if runs and all(r.status != "running" for r in runs) else []

        (run,) = wait_for(ended, "the pipeline run to end", timeout=300)
    assert run.status == "succeeded", run.status_reason
    assert run.snapshot["commit"] == sha and run.fired_by and sha[:12] in run.fired_by
