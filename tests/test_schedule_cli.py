"""``jupyter mlops schedule ...`` and ``jupyter mlops scheduler`` as a user would call them:
real processes, real exit codes, a real run fired by the stand-alone scheduler."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.processes import kill_tree
from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.schedules import ScheduleStore

from .conftest import mlops, mlops_line


def schedule_json(key: str, env: dict[str, str]) -> dict:
    result = mlops("schedule", "show", key, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_schedule_lifecycle(env: dict[str, str], project: Path) -> None:
    added = mlops_line(
        "schedule add notebooks/params.ipynb --cron '0 3 * * *' --tz Europe/Berlin "
        "-p epochs 4 -p layers '[2, 1]' --tag nightly --catchup all --max-catchup 3 "
        "--concurrency skip --name train-nightly",
        env=env,
        cwd=project,
    )
    assert added.returncode == 0, added.stderr
    schedule_id = added.stdout.strip()
    assert "03:00:00 CE" in added.stderr  # next run, shown in the schedule's zone

    listed = mlops("schedule", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert schedule_id in listed.stdout and "train-nightly" in listed.stdout
    assert "0 3 * * *" in listed.stdout and "Europe/Berlin" in listed.stdout

    detail = schedule_json("train-nightly", env)  # by name, or an id prefix
    assert detail["id"] == schedule_id
    assert detail["parameters"] == {"epochs": 4, "layers": [2, 1]}
    assert detail["notebook"] == "notebooks/params.ipynb"  # one name: repository-relative
    assert (detail["catchup"], detail["max_catchup"], detail["concurrency"]) == ("all", 3, "skip")
    assert detail["tags"] == ["nightly"] and detail["source"] == "working_copy"
    berlin = ZoneInfo("Europe/Berlin")
    upcoming = [datetime.fromisoformat(t).astimezone(berlin) for t in detail["upcoming"]]
    assert [(t.hour, t.minute) for t in upcoming] == [(3, 0)] * 5

    assert mlops("schedule", "pause", schedule_id[:6], env=env).returncode == 0
    assert schedule_json(schedule_id, env)["active"] is False
    assert mlops("schedule", "resume", schedule_id, env=env).returncode == 0
    assert schedule_json(schedule_id, env)["active"] is True

    now = mlops("schedule", "run-now", schedule_id, "--wait", "--no-progress", env=env)
    assert now.returncode == 0, now.stderr
    run_id = now.stdout.strip().splitlines()[0]
    shown = mlops("show", run_id, "--json", env=env)
    run = json.loads(shown.stdout)
    assert run["status"] == "succeeded" and run["parameters"]["epochs"] == 4
    assert schedule_json(schedule_id, env)["last_run_id"] == run_id
    text = mlops("schedule", "show", schedule_id, env=env)
    assert text.returncode == 0 and "next fire times" in text.stdout
    assert "concurrency  skip" in text.stdout and f"{run_id} (succeeded)" in text.stdout

    deleted = mlops("schedule", "delete", schedule_id, env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert mlops("schedule", "show", schedule_id, env=env).returncode == 2
    empty = mlops("schedule", "list", "--json", env=env)
    assert json.loads(empty.stdout) == []
    assert mlops("show", run_id, env=env).returncode == 0  # the run stays


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["notebooks/params.ipynb", "--cron", "0 3 * *"], "invalid cron expression"),
        (["notebooks/params.ipynb", "--cron", "61 * * * *"], "invalid cron expression"),
        (["notebooks/params.ipynb"], "--cron is required"),
        (["notebooks/params.ipynb", "--cron", "0 3 * * *", "--tz", "Moon/Base"], "time zone"),
        (["notebooks/missing.ipynb", "--cron", "0 3 * * *"], "does not exist"),
        (["helpers.py", "--cron", "0 3 * * *"], "not a notebook"),
        (["notebooks/params.ipynb", "--cron", "0 3 * * *", "--branch", "gone"], "unknown branch"),
        (["notebooks/params.ipynb", "--cron", "0 3 * * *", "-p", "epoch", "3"], "did you mean"),
        (["notebooks/params.ipynb", "--cron", "0 3 * * *", "-p", "epochs", "x"], "expected int"),
        (["notebooks/params.ipynb", "--cron", "0 3 * * *", "--catchup", "maybe"], "catch-up"),
        (["notebooks/params.ipynb", "--cron", "0 3 * * *", "--concurrency", "x"], "concurrency"),
        (["notebooks/params.ipynb", "--cron", "0 3 * * *", "--kernel", "nope"], "nope"),
    ],
)
def test_schedule_add_rejects_bad_input_and_writes_nothing(
    env: dict[str, str],
    project: Path,
    data_dir: Path,
    args: list[str],
    message: str,
) -> None:
    result = mlops("schedule", "add", *args, env=env, cwd=project)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    store = RunStore(f"sqlite:///{data_dir / 'mlops.db'}")
    try:
        assert ScheduleStore(store).list() == []
    finally:
        store.close()


def test_branch_schedule_from_the_cli(env: dict[str, str], project: Path) -> None:
    added = mlops_line(
        "schedule add notebooks/trivial.ipynb --cron @daily --tz UTC --branch main --json",
        env=env,
        cwd=project,
    )
    assert added.returncode == 0, added.stderr
    view = json.loads(added.stdout)
    assert view["source"] == "branch" and view["branch"] == "main"
    assert view["cron"] == "@daily" and view["next_fire_at"].endswith("T00:00:00+00:00")
    assert view["name"] == "trivial@main"


def test_scheduler_command_fires_and_stops_on_sigterm(
    env: dict[str, str],
    project: Path,
    data_dir: Path,
    settings: Settings,
) -> None:
    added = mlops_line(
        "schedule add notebooks/trivial.ipynb --cron '* * * * * */2' --tz UTC --concurrency skip",
        env=env,
        cwd=project,
    )
    assert added.returncode == 0, added.stderr
    schedule_id = added.stdout.strip()
    proc = subprocess.Popen(
        ["jupyter", "mlops", "scheduler", "--poll-interval", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = RunStore(settings.resolved_db_url)
    schedules = ScheduleStore(store)
    try:
        deadline = time.monotonic() + 60
        while not schedules.runs_of(schedule_id):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scheduler did not fire within 60 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "SIGTERM received: stopping" in err and "Traceback" not in err
        assert f"schedule {schedule_id} fired slot" in err

        runs = schedules.runs_of(schedule_id)
        first = runs[-1]
        assert first.scheduled_for is not None and first.source == "schedule"
        assert first.created_at >= first.scheduled_for  # the delay: bench/scheduler.py
        deadline = time.monotonic() + 120
        while not RunStatus(store.require_run(first.id).status).is_terminal:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert store.require_run(first.id).status == "succeeded"
        # concurrency skip: while the first run was active, later slots were skipped
        fires = schedules.fires(schedule_id, limit=100)
        assert all(f.state in ("done", "skipped") for f in fires)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        for run in store.active_runs():
            kill_tree(run.kernel_pid)
            kill_tree(run.runner_pid)
        store.close()
