"""The warm runner host (``jupyter mlops worker``): runs forked from it are recorded and
behave exactly as runs of a fresh runner, survive the host, and the CLI uses it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.runner_host import (
    CONNECT_TIMEOUT_S,
    runner_host_up,
    socket_path,
    start_hosted_runner,
)

from .conftest import mlops
from .test_runs import all_output_text, executed_notebook, wait_for, wait_until

VOLATILE = {
    "captured_at",
    "queue_wait_s",
    "duration_s",
    "capture_seconds",
    "cwd",
    "JUPYTER_MLOPS_RUN_ID",
    "commit",
    "ref",
}
"""Environment record fields that differ between any two runs (times, its id, directory
and snapshot commit)."""


@pytest.fixture
def host(settings: Settings, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    yield from running_host(settings, env)


def running_host(settings: Settings, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``jupyter mlops worker`` with ``env`` while the caller yields; SIGKILLed after."""
    proc = subprocess.Popen(
        ["jupyter", "mlops", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(lambda: runner_host_up(settings.data_dir) or proc.poll() is not None, 120)
    assert proc.poll() is None, "the runner host exited"
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def stable(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: stable(v) if isinstance(v, dict) else v for k, v in record.items() if k not in VOLATILE
    }


def differences(records: list[dict[str, Any]], where: str = "") -> list[str]:
    """Where the records differ, as dotted paths with the values."""
    found = []
    for key in sorted(set().union(*records)):
        values = [r.get(key) for r in records]
        if all(isinstance(v, dict) for v in values):
            found += differences(values, f"{where}{key}.")
        elif len({json.dumps(v, default=str) for v in values}) > 1:
            found.append(f"{where}{key}: {values}")
    return found


def params_run(service: JobService, project: Path) -> Any:
    spec = RunSpec(
        notebook=str(project / "notebooks/params.ipynb"), parameters={"epochs": 3}, seed=11
    )
    return wait_for(service, service.submit(spec))


def test_warm_and_cold_runs_are_identical(
    service: JobService, project: Path, settings: Settings, env: dict[str, str]
) -> None:
    params_run(service, project)  # fills the environment caches (torch's section)
    cold = params_run(service, project)
    proc = subprocess.Popen(
        ["jupyter", "mlops", "worker"], env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_until(lambda: runner_host_up(settings.data_dir), 120)
        warm = params_run(service, project)
        again = params_run(service, project)  # a second fork: nothing left from the first
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    runs = [cold, warm, again]
    assert [r.status for r in runs] == ["succeeded"] * 3, [r.status_reason for r in runs]
    texts = {all_output_text(executed_notebook(service, r.id)) for r in runs}
    assert len(texts) == 1 and "'epochs': 3" in texts.pop()
    records = [stable(service.store.environment(r.id) or {}) for r in runs]
    assert records[0] == records[1] == records[2], differences(records)
    artifacts = [sorted(a.name for a in service.store.artifacts(r.id)) for r in runs]
    assert artifacts[0] == artifacts[1] == artifacts[2]
    assert [(r.seed, r.cells_done, r.cells_total) for r in runs] == [
        (11, r.cells_total, r.cells_total) for r in runs
    ]


def test_a_run_is_forked_by_the_host_and_outlives_it(
    service: JobService, project: Path, tmp_path: Path, host: subprocess.Popen[bytes]
) -> None:
    gate = tmp_path / "gate"
    sub = service.submit(
        RunSpec(notebook=str(project / "notebooks/gated.ipynb"), parameters={"gate": str(gate)})
    )
    wait_until(lambda: service.store.require_run(sub.run.id).status == "running", 120)
    run = service.store.require_run(sub.run.id)
    runner = psutil.Process(run.runner_pid)
    assert runner.ppid() == host.pid  # forked, not a fresh interpreter
    assert "jupyter_mlops.runner" in runner.cmdline() and run.id in runner.cmdline()
    os.killpg(host.pid, signal.SIGKILL)  # the host dies mid-run
    host.wait()
    assert service.reconcile() == []  # its run is still the run's runner, alive
    gate.touch()
    done = wait_for(service, sub)
    assert done.status == "succeeded", done.status_reason
    assert "output.ipynb" in {a.name for a in service.store.artifacts(done.id)}


def test_cancel_reaches_a_hosted_runner(
    service: JobService, project: Path, tmp_path: Path, host: subprocess.Popen[bytes]
) -> None:
    sub = service.submit(
        RunSpec(
            notebook=str(project / "notebooks/gated.ipynb"),
            parameters={"gate": str(tmp_path / "never")},
        )
    )
    wait_until(lambda: service.store.require_run(sub.run.id).status == "running", 120)
    service.cancel(sub.run.id)
    assert sub.handle is not None and sub.handle.wait(timeout=60) == 3
    assert service.store.require_run(sub.run.id).status == "cancelled"


def test_the_cli_runs_through_the_host(
    env: dict[str, str], project: Path, host: subprocess.Popen[bytes]
) -> None:
    result = mlops("run", "notebooks/trivial.ipynb", "--wait", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    shown = mlops("show", run_id, "--json", env=env)
    assert json.loads(shown.stdout)["status"] == "succeeded"
    assert host.poll() is None  # still up for the next run


def test_a_host_slow_to_fork_is_waited_for_not_doubled(tmp_path: Path) -> None:
    """A host that has the request forks the runner however long a loaded machine makes it
    take; the submitter waits for its pid instead of giving up after the connect timeout
    and starting a second runner for the same run. The host here is a stand-in that
    answers only after longer than ``CONNECT_TIMEOUT_S`` (a fault a real host shows only
    on a machine far busier than a test's)."""
    sock_path = socket_path(tmp_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(1)
    requests: list[dict[str, Any]] = []

    def slow_host() -> None:
        conn, _ = server.accept()
        with conn:
            requests.append(json.loads(conn.makefile("rb").readline()))
            time.sleep(CONNECT_TIMEOUT_S + 1.5)  # the fault: a fork that takes this long
            conn.sendall(b'{"pid": 4242}\n')

    thread = threading.Thread(target=slow_host, daemon=True)
    thread.start()
    try:
        pid = start_hosted_runner(tmp_path, "slowfork0001", tmp_path / "run", {})
    finally:
        thread.join(timeout=60)
        server.close()
    assert pid == 4242
    assert [r["run_id"] for r in requests] == ["slowfork0001"]


def test_a_client_gone_before_its_answer_and_one_that_stalls_leave_the_host_serving(
    settings: Settings, host: subprocess.Popen[bytes]
) -> None:
    path = str(socket_path(settings.data_dir))
    for _ in range(3):  # asks, and leaves at once: the host's answer meets a closed socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            sock.sendall(b'{"run_id": ""}\n')
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stalled:
        stalled.connect(path)
        stalled.sendall(b'{"run_id": ')  # half a request, and nothing more
        wait_until(lambda: runner_host_up(settings.data_dir), 60)  # answered meanwhile
    assert host.poll() is None
