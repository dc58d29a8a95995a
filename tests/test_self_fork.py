"""A submitting command with no runner host up forks itself into its run's runner
(:mod:`jupyter_mlops.self_fork`): the runner is the command's child, named and detached as a
spawned one, its run recorded exactly as a spawned runner's, and it outlives the command."""

from __future__ import annotations

import dataclasses
import os
import select
import signal
import subprocess
from pathlib import Path

import psutil

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.processes import runner_alive
from jupyter_mlops.store import RunStore

from .conftest import mlops
from .test_runner_host import differences, stable
from .test_runs import all_output_text, executed_notebook, wait_until


def test_a_forked_runner_records_its_run_as_a_spawned_runner_does(
    project: Path, shared_store_env: dict[str, str], settings: Settings
) -> None:
    """On SQLite and PostgreSQL (the child must not use or close the command's connections,
    which the command goes on using)."""
    args = ("run", "notebooks/params.ipynb", "-p", "epochs", "4", "--seed", "5", "--wait")
    spawning = {**shared_store_env, "JUPYTER_MLOPS_CLI_RUNNER": "spawn"}
    mlops(*args, env=spawning, cwd=project)  # fills the environment caches (torch's)
    results = [
        mlops(*args, "--no-progress", env=e, cwd=project) for e in (spawning, shared_store_env)
    ]
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    shared = dataclasses.replace(settings, db_url=shared_store_env["JUPYTER_MLOPS_DB_URL"])
    store = RunStore.from_settings(shared)
    runs = [store.require_run(r.stdout.strip().splitlines()[-1]) for r in results]
    assert [(r.status, r.seed, r.cells_done) for r in runs] == [
        ("succeeded", 5, runs[0].cells_total)
    ] * 2
    service = JobService(shared, store)
    texts = {all_output_text(executed_notebook(service, r.id)) for r in runs}
    assert len(texts) == 1 and "'epochs': 4" in texts.pop()
    records = [stable(store.environment(r.id) or {}) for r in runs]
    modes = [r["environment_variables"].pop("JUPYTER_MLOPS_CLI_RUNNER") for r in records]
    assert modes == ["spawn", "fork"]  # the only difference
    assert records[0] == records[1], differences(records)
    for r in runs:  # the HTML is stored after the run's status, which --wait returns on
        wait_until(lambda r=r: not runner_alive(r.runner_pid, r.id, r.runner_create_time), 120)
    artifacts = [sorted(a.name for a in store.artifacts(r.id)) for r in runs]
    assert artifacts[0] == artifacts[1] and "output.html" in artifacts[0]
    assert store.count_runs() == 3


def test_the_forked_runner_is_the_commands_child_in_its_own_session_and_outlives_it(
    env: dict[str, str], project: Path, settings: Settings, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    cli = subprocess.Popen(
        ["jupyter", "mlops", "run", "notebooks/gated.ipynb", "-p", "gate", str(gate), "--wait"],
        env=env,
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = RunStore.from_settings(settings)
    wait_until(lambda: store.count_runs() == 1 and store.list_runs().runs[0].status == "running")
    run = store.require_run(store.list_runs().runs[0].id)
    assert run.runner_pid is not None
    runner = psutil.Process(run.runner_pid)
    assert runner.ppid() == cli.pid  # forked, not spawned through a fresh interpreter
    assert [a for a in runner.cmdline() if a][-3:] == ["-m", "jupyter_mlops.runner", run.id]
    assert runner_alive(run.runner_pid, run.id, run.runner_create_time)
    assert os.getsid(run.runner_pid) == run.runner_pid != os.getsid(cli.pid)

    cli.send_signal(signal.SIGINT)  # the user gives up waiting: the run goes on
    _, err = cli.communicate(timeout=60)
    assert cli.returncode != 0 and "KeyboardInterrupt" in err
    assert store.require_run(run.id).status == "running" and runner.is_running()
    gate.touch()
    wait_until(lambda: store.require_run(run.id).status == "succeeded", 120)
    assert "Traceback" not in (Path(str(run.run_dir)) / "runner.log").read_text()


def test_a_pipe_given_to_the_command_closes_when_the_command_ends_not_the_run(
    env: dict[str, str], project: Path, settings: Settings, tmp_path: Path
) -> None:
    """A caller that waits for the end of a pipe it gave the command (an inherited
    descriptor beyond stdin, stdout and stderr) is not held for the run's life."""
    gate = tmp_path / "gate"
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        cli = subprocess.Popen(
            ["jupyter", "mlops", "run", "notebooks/gated.ipynb", "-p", "gate", str(gate)],
            env=env,
            cwd=project,
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        out, _ = cli.communicate(timeout=120)
        assert cli.returncode == 0
        ready, _, _ = select.select([read_end], [], [], 60)
        assert ready and os.read(read_end, 1) == b""  # every writer is gone
    finally:
        os.close(read_end)
    store = RunStore.from_settings(settings)
    run_id = out.strip().splitlines()[-1]
    wait_until(lambda: store.require_run(run_id).status == "running", 120)
    gate.touch()
    wait_until(lambda: store.require_run(run_id).status == "succeeded", 120)
