"""``jupyter mlops run`` handed to a runner host (``jupyter_mlops.cli.handoff``): real CLI
processes, a real host, real runs. Handed off, the command prints, exits and records
exactly what it does in its own process; signals to the CLI reach it; a CLI that dies
takes it along and loses no run; a host of another interpreter refuses it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.runner_host import runner_host_up, socket_path
from jupyter_mlops.store import RunStore

from .conftest import mlops
from .test_runner_host import differences, stable
from .test_runs import wait_until

HANDED = re.compile(r"`jupyter mlops (.+)` handed to pid (\d+)")


@pytest.fixture
def host_log(settings: Settings, env: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    """A runner host (``jupyter mlops worker``) writing its log to the yielded file."""
    yield from logged_host(settings, env, tmp_path / "host.log")


def logged_host(settings: Settings, env: dict[str, str], log: Path) -> Iterator[Path]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["jupyter", "mlops", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until(lambda: runner_host_up(settings.data_dir) or proc.poll() is not None, 120)
    assert proc.poll() is None, log.read_text()
    yield log
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def handed_off(log: Path) -> list[tuple[str, int]]:
    """The commands the host ran for a CLI, with the pid of the child that ran each."""
    return [(m.group(1), int(m.group(2))) for m in HANDED.finditer(log.read_text())]


def run_id_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_a_handed_off_run_prints_exits_and_records_as_one_run_here(
    env: dict[str, str], project: Path, settings: Settings, tmp_path: Path
) -> None:
    args = ("run", "notebooks/params.ipynb", "-p", "epochs", "4", "--seed", "5", "--wait")
    mlops(*args, env=env, cwd=project)  # fills the environment caches (torch's section)
    here = mlops(*args, "--no-progress", env=env, cwd=project)
    assert here.returncode == 0, here.stderr
    hosts = logged_host(settings, env, tmp_path / "host.log")
    log = next(hosts)  # only now: the first run was the CLI's own
    try:
        there = mlops(*args, "--no-progress", env=env, cwd=project)
        failed = mlops("run", "notebooks/broken.ipynb", "--wait", env=env, cwd=project)
        bad = mlops("run", "notebooks/params.ipynb", "-p", "nope", "1", env=env, cwd=project)
        detached = mlops("run", "notebooks/trivial.ipynb", env=env, cwd=project)
        again = mlops("reproduce", run_id_of(here)[:8], "--wait", env=env, cwd=project)
        commands = [cmd.split()[:2] for cmd, _ in handed_off(log)]
        assert commands == [["run", f"notebooks/{n}.ipynb"] for n in ("params", "broken")] + [
            ["run", "notebooks/params.ipynb"],
            ["run", "notebooks/trivial.ipynb"],
            ["reproduce", run_id_of(here)[:8]],
        ]
    finally:
        next(hosts, None)
    assert there.returncode == 0, there.stderr
    ids = [run_id_of(here), run_id_of(there)]
    assert [line.replace(ids[1], ids[0]) for line in there.stderr.splitlines()] == (
        here.stderr.splitlines()
    )
    store = RunStore.from_settings(settings)
    runs = [store.require_run(i) for i in ids]
    given = [{p.name: p.value_json for p in r.params if p.overridden} for r in runs]
    assert [(r.status, r.seed, r.source) for r in runs] == [("succeeded", 5, "cli")] * 2
    assert given == [{"epochs": "4", "seed": "5"}] * 2
    records = [stable(store.environment(i) or {}) for i in ids]
    assert records[0] == records[1], differences(records)

    assert failed.returncode == 1
    assert "ValueError" in failed.stderr and "broken on purpose" in failed.stderr
    assert bad.returncode == 2 and "nope" in bad.stderr and "Traceback" not in bad.stderr
    assert detached.returncode == 0 and re.fullmatch(r"[0-9a-f]{12}\n", detached.stdout)
    wait_until(lambda: store.require_run(detached.stdout.strip()).status == "succeeded", 120)
    assert again.returncode == 0, again.stderr
    copy = store.require_run(run_id_of(again))
    assert (copy.reproduced_from, copy.status, copy.seed) == (ids[0], "succeeded", 5)
    assert store.count_runs() == 6  # the refused -p made no run


def gated_cli_run(
    env: dict[str, str], project: Path, settings: Settings, gate: Path, host_log: Path
) -> tuple[subprocess.Popen[str], RunStore, int]:
    """``jupyter mlops run gated.ipynb --wait``, once its run is running: the CLI, the
    store, and the pid of the host's child that runs the command."""
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
    [(_, child)] = handed_off(host_log)
    return cli, store, child


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_ctrl_c_reaches_the_handed_off_command_and_the_run_goes_on(
    env: dict[str, str], project: Path, settings: Settings, host_log: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    cli, store, child = gated_cli_run(env, project, settings, gate, host_log)
    assert psutil.Process(child).ppid() != cli.pid  # the host's child, not the CLI's
    cli.send_signal(signal.SIGINT)
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 128 + signal.SIGINT, err
    assert "KeyboardInterrupt" in err
    wait_until(lambda: gone(child))
    run = store.require_run(out.strip())
    assert run.status == "running"  # interrupting the wait does not cancel the run
    gate.touch()
    wait_until(lambda: store.require_run(run.id).status == "succeeded", 120)


def test_a_killed_cli_takes_its_handed_off_command_along_and_loses_no_run(
    env: dict[str, str], project: Path, settings: Settings, host_log: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    cli, store, child = gated_cli_run(env, project, settings, gate, host_log)
    cli.kill()
    cli.communicate(timeout=120)  # the child holds the pipes too: ends once it is gone
    wait_until(lambda: gone(child))
    run = store.list_runs().runs[0]
    gate.touch()
    wait_until(lambda: store.require_run(run.id).status == "succeeded", 120)


def test_a_host_of_another_interpreter_refuses_and_the_cli_runs_it_itself(
    env: dict[str, str], project: Path, settings: Settings, host_log: Path
) -> None:
    request = {"cli": {"argv": ["runs"], "cwd": str(project), "env": env}}
    request["cli"].update(executable="/bin/sh", package="elsewhere", version="0")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock, open(os.devnull) as null:
        sock.connect(str(socket_path(settings.data_dir)))
        socket.send_fds(sock, [json.dumps(request).encode() + b"\n"], [null.fileno()] * 3)
        reply = json.loads(sock.makefile("rb").readline())
    assert "/bin/sh" in reply["refused"] and "pid" not in reply
    assert handed_off(host_log) == []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:  # no streams: refused
        sock.connect(str(socket_path(settings.data_dir)))
        sock.sendall(json.dumps(request).encode() + b"\n")
        assert "streams" in json.loads(sock.makefile("rb").readline())["refused"]
    result = mlops("run", "notebooks/trivial.ipynb", "--wait", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    assert len(handed_off(host_log)) == 1  # the host still serves, and took this one
