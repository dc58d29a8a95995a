"""``c.MLOps.runner_host``: with ``"auto"`` the server starts a warm runner host for its data
directory, and the runs submitted through REST are forked by it; with ``"off"`` it starts
none and runs are started fresh, as before."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from jupyter_mlops.runner_host import runner_host_up, socket_path

from .conftest import NOTEBOOKS, extension_server_config
from .test_rest import api, mlops_data, wait_for_status, wait_until  # noqa: F401 (fixtures)

HOST_MODULE = "jupyter_mlops.runner_host"


@pytest.fixture
def runner_host_mode() -> str:
    return "off"


def hosts_serving(data_dir: Path) -> list[psutil.Process]:
    """The runner hosts this test process started for ``data_dir`` (the server is in it)."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if HOST_MODULE in proc.cmdline() and Path(proc.cwd()) == data_dir.resolve():
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def jp_server_config(
    jp_root_dir: Path,
    mlops_data: Path,  # noqa: F811
    runner_host_mode: str,
) -> Iterator[dict[str, Any]]:
    """The extension on, ``runner_host`` as the test says; any host it started is killed
    after the test (the server leaves it running, by design)."""
    shutil.copytree(NOTEBOOKS, jp_root_dir / "notebooks")
    config = extension_server_config(jp_root_dir)
    config["MLOps"]["runner_host"] = runner_host_mode
    yield config
    for host in hosts_serving(mlops_data):
        os.killpg(host.pid, signal.SIGKILL)


async def gated_run(
    api: Any,  # noqa: F811
    mlops: Any,
    gate: Path,
) -> tuple[str, psutil.Process]:
    """A run of ``gated.ipynb`` submitted through REST, once running: its id and runner."""
    body = {"notebook": "notebooks/gated.ipynb", "parameters": {"gate": str(gate)}}
    run_id = (await api("POST", "/runs", body=body, expect=201)).data["id"]
    await wait_for_status(api, run_id, {"running"}, timeout=120)
    runner = psutil.Process(mlops.store.require_run(run_id).runner_pid)
    assert run_id in runner.cmdline() and "jupyter_mlops.runner" in runner.cmdline()
    return run_id, runner


@pytest.mark.parametrize("runner_host_mode", ["auto"])
async def test_auto_starts_a_host_that_forks_the_rest_runs(
    api: Any,  # noqa: F811
    mlops: Any,
    mlops_data: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    await wait_until(lambda: runner_host_up(mlops_data), timeout=120)
    [host] = hosts_serving(mlops_data)
    assert host.ppid() == os.getpid()  # started by the server, which runs in this process
    assert os.getsid(host.pid) == host.pid  # in its own session: it outlives the server

    gate = tmp_path / "gate"
    run_id, runner = await gated_run(api, mlops, gate)
    assert runner.ppid() == host.pid  # forked by the host, not a fresh interpreter
    gate.touch()
    detail = await wait_for_status(api, run_id, {"succeeded"}, timeout=120)
    assert "output.ipynb" in {a["name"] for a in detail["artifacts"]}
    assert host.is_running() and hosts_serving(mlops_data) == [host]  # one host, still up


@pytest.mark.parametrize("runner_host_mode", ["off"])
async def test_off_starts_no_host(
    api: Any,  # noqa: F811
    mlops: Any,
    mlops_data: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    run_id, runner = await gated_run(api, mlops, gate)
    assert runner.ppid() == os.getpid()  # a fresh runner, started by the server itself
    assert HOST_MODULE not in " ".join(runner.parent().cmdline())
    gate.touch()
    await wait_for_status(api, run_id, {"succeeded"}, timeout=120)
    assert hosts_serving(mlops_data) == []
    assert not socket_path(mlops_data).exists() and not runner_host_up(mlops_data)
