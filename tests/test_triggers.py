"""Triggers: on-commit and on-metric, in-process and across three scheduler processes.

Real git repositories and real runs: a commit trigger must run exactly the commit that
fired it (its snapshot ref points there), once per commit whatever the number of watchers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.scheduling.trigger_service import TriggerError, TriggerService, TriggerSpec
from jupyter_mlops.scheduling.triggers import (
    TriggerWatcher,
    describe_event,
    run_spec_for_event,
    wake_file_for,
)
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.triggers import EventRecord, NewEvent, TriggerStore
from jupyter_mlops.store.types import utcnow
from jupyter_mlops.tracking.streams import push_to_stream

from .conftest import git, mlops_line
from .scheduler_processes import all_ended, kill_scheduler, schedulers, trigger_runs, wait_for
from .test_scheduler import Recorder


@pytest.fixture
def jobs(settings: Settings, store: RunStore) -> Iterator[JobService]:
    service = JobService(settings, store)
    yield service
    service.close()


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def watcher(jobs: JobService, submit: Recorder) -> TriggerWatcher:
    return TriggerWatcher(TriggerStore(jobs.store), submit, holder="test")


def look_all(w: TriggerWatcher) -> list[str]:
    """One look at every active trigger, now (what a watcher's pass does when all are due)."""
    fired: list[str] = []
    for trigger in w.store.list(active_only=True):
        fired += w.look(trigger, w.clock())
    return fired


def test_each_commit_fires_one_run_from_exactly_that_commit(
    jobs: JobService, store: RunStore, project: Path
) -> None:
    service = TriggerService(jobs)
    trigger = service.create(
        TriggerSpec(
            notebook=str(project / "notebooks/trivial.ipynb"), on_commit="main", policy="each"
        )
    )
    recorder = Recorder(jobs)
    w = watcher(jobs, recorder)
    assert look_all(w) == []  # nothing new since the trigger was added
    first = commit_file(project, "a.txt", "1\n", "first change")
    second = commit_file(project, "b.txt", "2\n", "second change")
    fired = look_all(w)
    assert len(fired) == 2
    assert look_all(w) == []  # seen: never again
    runs = recorder.wait(store, timeout=180)
    assert [r.commit_sha for r in runs] == [first, second]
    for run in runs:
        assert run.status == "succeeded", run.status_reason
        assert run.source == "trigger" and run.branch == "main" and run.dirty is False
        assert git(project, "rev-parse", f"refs/mlops/runs/{run.id}") == run.commit_sha
        notes = [e.message for e in store.events(run.id, kind="trigger")]
        assert len(notes) == 1 and run.commit_sha[:12] in notes[0]
    detail = service.detail(trigger.id)
    assert sorted(e["key"] for e in detail["events"]) == sorted([first, second])
    assert {e["run_id"] for e in detail["events"]} == set(fired)
    assert all(e["state"] == "done" for e in detail["events"])


def test_newest_policy_and_paths_filter(jobs: JobService, store: RunStore, project: Path) -> None:
    service = TriggerService(jobs)
    service.create(
        TriggerSpec(
            notebook=str(project / "notebooks/trivial.ipynb"),
            on_commit="main",
            paths=["src"],
        )
    )
    recorder = Recorder(jobs)
    w = watcher(jobs, recorder)
    commit_file(project, "README.md", "docs\n", "docs only")
    assert look_all(w) == []  # no commit touched src/
    (project / "src").mkdir()
    older = commit_file(project, "src/one.py", "x = 1\n", "src one")
    newest = commit_file(project, "src/two.py", "y = 2\n", "src two")
    fired = look_all(w)
    assert len(fired) == 1
    (run,) = recorder.wait(store, timeout=180)
    assert run.commit_sha == newest and run.status == "succeeded", run.status_reason
    events = {e.key: e for e in TriggerStore(store).events_of(service.list()[0]["id"])}
    assert events[older].state == "skipped" and "superseded" in (events[older].reason or "")
    assert events[newest].state == "done"


def test_bad_triggers_are_refused_and_nothing_is_written(
    jobs: JobService, project: Path, env: dict[str, str]
) -> None:
    service = TriggerService(jobs)
    notebook = str(project / "notebooks/trivial.ipynb")
    cases = [
        (TriggerSpec(notebook=notebook, on_commit="nope"), "unknown branch 'nope'"),
        (TriggerSpec(notebook=notebook), "exactly one of"),
        (TriggerSpec(notebook=notebook, on_commit="main", on_metric="a < 1"), "got --on-commit"),
        (TriggerSpec(notebook=notebook, on_metric="acc <", stream="s"), "METRIC OP NUMBER"),
        (TriggerSpec(notebook=notebook, on_metric="acc < 0.9"), "--stream"),
        (TriggerSpec(notebook=notebook, on_commit="main", policy="all"), "--policy"),
    ]
    for spec, message in cases:
        with pytest.raises((TriggerError, ValueError)) as info:
            service.create(spec)
        assert message in str(info.value)
    assert service.list() == []

    result = mlops_line(f"trigger add {notebook} --on-commit does-not-exist", env=env)
    assert result.returncode == 2, result.stderr
    assert "unknown branch 'does-not-exist'" in result.stderr
    assert "Traceback" not in result.stderr
    listed = mlops_line("trigger list --json", env=env)
    assert listed.returncode == 0 and listed.stdout.strip() == "[]"


def test_metric_trigger_fires_once_per_crossing(
    jobs: JobService, store: RunStore, project: Path
) -> None:
    service = TriggerService(jobs)
    push_to_stream(store, "churn-prod", {"prod/accuracy": 0.5})  # before: never counts
    trigger = service.create(
        TriggerSpec(
            notebook=str(project / "notebooks/trivial.ipynb"),
            on_metric="prod/accuracy < 0.9",
            stream="churn-prod",
            for_points=2,
        )
    )
    recorder = Recorder(jobs)
    w = watcher(jobs, recorder)

    def push(*values: float) -> list[str]:
        for value in values:
            push_to_stream(store, "churn-prod", {"prod/accuracy": value, "other": 0.0})
        return look_all(w)

    assert push(0.95, 0.85) == []  # one point below: not yet (--for 2)
    assert len(push(0.80)) == 1  # the second in a row: fires
    assert push(0.70, 0.60) == []  # still below: same crossing, no second run
    assert push(0.95) == []  # recovered
    assert len(push(0.85, 0.80)) == 1  # a new crossing
    push_to_stream(store, "other-stream", {"prod/accuracy": 0.1})
    assert look_all(w) == []  # another stream
    runs = recorder.wait(store, timeout=180)
    assert len(runs) == 2 and all(r.status == "succeeded" for r in runs)
    events = service.detail(trigger.id)["events"]
    assert sorted(tuple(e["details"]["values"]) for e in events) == [(0.85, 0.8), (0.85, 0.8)]


def test_a_run_has_its_trigger_note_even_when_its_claimer_dies_after_submitting(
    jobs: JobService, store: RunStore, project: Path
) -> None:
    """A scheduler killed between submitting an event's run and marking the event done
    leaves the run (it goes on, with the note of why it fired, written with the run) and a
    pending event. Once the claim is stale, another scheduler finishes the event; the run
    keeps its one note."""
    trigger = TriggerService(jobs).create(
        TriggerSpec(notebook=str(project / "notebooks/trivial.ipynb"), on_commit="main")
    )
    sha = commit_file(project, "c.txt", "3\n", "a change")
    details = {"commit": sha, "branch": "main", "subject": "a change"}
    triggers = TriggerStore(store)
    (claimed,) = triggers.advance(
        trigger, {"last_commit": sha}, [NewEvent(sha, details)], holder="dead"
    ) or [None]
    assert claimed is not None
    recorder = Recorder(jobs)
    recorder(run_spec_for_event(claimed))  # submitted; then the claimer dies: no finish_event
    (run,) = recorder.wait(store, timeout=180)
    assert run.status == "succeeded", run.status_reason
    survivor = TriggerWatcher(triggers, recorder, holder="survivor")
    survivor.maintain(utcnow())  # the claim is fresh: its claimer may still finish it
    assert [e.state for e in triggers.events_of(trigger.id)] == ["pending"]
    note = describe_event(claimed.trigger, details)
    assert [e.message for e in store.events(run.id, kind="trigger")] == [note]
    later = utcnow() + timedelta(seconds=survivor.claim_timeout + 60)
    for _ in range(2):  # the second pass finds nothing left to do
        survivor.maintain(later)
        assert [(e.state, e.run_id) for e in triggers.events_of(trigger.id)] == [("done", run.id)]
        notes = [e.message for e in store.events(run.id, kind="trigger")]
        assert notes == [note] and sha[:12] in notes[0]
    assert store.require_run(run.id).status == "succeeded"  # not recorded as failed
    assert len(recorder.submissions) == 1


def test_hooks_install_wakes_the_watchers(project: Path, env: dict[str, str]) -> None:
    data_dir = Path(env["JUPYTER_MLOPS_DATA_DIR"])
    wake = wake_file_for(data_dir)
    (project / ".git/hooks/post-commit").write_text("#!/bin/sh\necho mine > hook-ran.tmp\n")
    result = mlops_line(f"hooks install --repo {project}", env=env)
    assert result.returncode == 0, result.stderr
    assert not wake.exists()
    commit_file(project, "c.txt", "3\n", "hooked")
    assert wake.exists()  # the hook touched it
    assert (project / "hook-ran.tmp").read_text() == "mine\n"  # the user's hook still runs
    again = mlops_line(f"hooks install --repo {project}", env=env)  # idempotent
    assert again.returncode == 0
    text = (project / ".git/hooks/post-commit").read_text()
    assert text.count("jupyter-mlops: wake") == 1
    removed = mlops_line(f"hooks uninstall --repo {project}", env=env)
    assert removed.returncode == 0
    assert "jupyter-mlops" not in (project / ".git/hooks/post-commit").read_text()
    assert not (project / ".git/hooks/post-merge").exists()


def test_metrics_push_cli(env: dict[str, str], settings: Settings) -> None:
    ok = mlops_line("metrics push --stream prod latency_ms 41.5 errors 2", env=env)
    assert ok.returncode == 0, ok.stderr
    store = RunStore.from_settings(settings)
    try:
        points = TriggerStore(store).points_after("prod", "latency_ms", 0)
        assert [p.value for p in points] == [41.5]
    finally:
        store.close()
    for line, message in [
        ("metrics push latency_ms 1", "--stream"),
        ("metrics push --stream prod latency_ms", "KEY VALUE pairs"),
        ("metrics push --stream prod latency_ms fast", "not a number"),
    ]:
        bad = mlops_line(line, env=env)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr


# -- three scheduler processes ----------------------------------------------------------------


def all_done(store: RunStore, trigger_id: str) -> list[EventRecord]:
    """The trigger's events once every one of them is done, else an empty list."""
    events = TriggerStore(store).events_of(trigger_id)
    return events if all(e.state == "done" for e in events) else []


def test_three_schedulers_two_commits_exactly_two_runs(
    shared_store_env: dict[str, str], project: Path
) -> None:
    env = shared_store_env
    notebook = project / "notebooks/trivial.ipynb"
    added = mlops_line(f"trigger add {notebook} --on-commit main --policy each", env=env)
    assert added.returncode == 0, added.stderr
    trigger_id = added.stdout.strip()
    store = RunStore(env["JUPYTER_MLOPS_DB_URL"])
    try:
        with schedulers(env, 3) as procs:
            first = commit_file(project, "one.txt", "1\n", "one")
            wait_for(lambda: len(trigger_runs(store)) >= 1, "the first commit's run")
            kill_scheduler(procs[0])  # one scheduler dies mid-way
            second = commit_file(project, "two.txt", "2\n", "two")
            runs = wait_for(lambda: all_ended(store, 2), "both runs to end")
            # Killed between submitting the first run and marking its event done, the
            # first claimer leaves the event pending until a survivor's recovery (after
            # the claim timeout) finishes it: wait for that, do not assume it was quick.
            events = wait_for(lambda: all_done(store, trigger_id), "both events to be done")
            assert sorted(e.key for e in events) == sorted([first, second])
            assert all(len(store.events(r.id, kind="trigger")) == 1 for r in runs)
            assert sorted(r.commit_sha for r in runs) == sorted([first, second])
            assert all(r.status == "succeeded" for r in runs), [r.status_reason for r in runs]
            assert len(runs) == 2
        assert len(trigger_runs(store)) == 2  # and none more once all have stopped
    finally:
        store.close()
