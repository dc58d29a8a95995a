"""Nothing a run starts outlives it, whichever way a cell daemonizes and the run ends.

One fixture notebook per escape route (``tests/notebooks/daemon_*.ipynb``): ``setsid -f``,
a double fork with ``setsid`` in Python, and ``nohup setsid ... &`` through a shell that
exits. Each leaves the kernel's process tree and group, so killing the kernel's tree does
not reach it; the runner is a child subreaper, so the daemon is re-parented to it, and
the runner kills every descendant before it records the run's end. The runs end by
success, failure, cancel and timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec, Submission
from jupyter_mlops.store import RunStatus, RunStore

from .test_runs import wait_for, wait_until

TIMEOUT_S = 20
"""A timeout long enough for a loaded machine to start the kernel and the daemon."""


@pytest.fixture
def service(settings: Settings, store: RunStore) -> JobService:
    return JobService(settings, store)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def daemon_pid(pid_dir: Path) -> int | None:
    path = pid_dir / "daemon.pid"
    text = path.read_text().strip() if path.exists() else ""
    return int(text) if text.isdigit() else None


def start_daemon_run(
    service: JobService, project: Path, route: str, pid_dir: Path
) -> tuple[Submission, int]:
    """Submit ``notebooks/<route>.ipynb`` holding until cancelled; the run and its daemon."""
    pid_dir.mkdir()
    sub = service.submit(
        RunSpec(
            notebook=str(project / f"notebooks/{route}.ipynb"),
            parameters={"pid_dir": str(pid_dir), "end": "hold"},
        )
    )
    wait_until(lambda: daemon_pid(pid_dir) is not None, timeout=120)
    pid = daemon_pid(pid_dir)
    assert pid is not None
    return sub, pid


@pytest.mark.parametrize(
    ("route", "end"),
    [
        ("daemon_setsid", "cancel"),
        ("daemon_setsid", "timeout"),
        ("daemon_double_fork", "succeed"),
        ("daemon_double_fork", "cancel"),
        ("daemon_nohup", "succeed"),
        ("daemon_nohup", "fail"),
    ],
)
def test_a_daemonized_process_dies_with_its_run(
    service: JobService, project: Path, tmp_path: Path, route: str, end: str
) -> None:
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    mode = {"cancel": "hold", "timeout": "hold"}.get(end, end)
    sub = service.submit(
        RunSpec(
            notebook=str(project / f"notebooks/{route}.ipynb"),
            parameters={"pid_dir": str(pid_dir), "end": mode},
            timeout=TIMEOUT_S if end == "timeout" else None,
        )
    )
    pid: int | None = None
    try:
        wait_until(lambda: daemon_pid(pid_dir) is not None, timeout=120)
        pid = daemon_pid(pid_dir)
        assert pid is not None
        process = psutil.Process(pid)
        kernel_pid = service.store.require_run(sub.run.id).kernel_pid
        # the daemon did escape: it is in neither the kernel's process group nor its tree
        assert kernel_pid is not None and os.getpgid(pid) != os.getpgid(kernel_pid)
        wait_until(lambda: process.ppid() != kernel_pid and alive(pid), timeout=30)
        (pid_dir / "go").touch()  # the notebook waits for it: seen escaped before the end
        if end == "cancel":
            service.cancel(sub.run.id)
        run = wait_for(service, sub, timeout=180)
        expected = {
            "cancel": RunStatus.CANCELLED,
            "timeout": RunStatus.TIMED_OUT,
            "succeed": RunStatus.SUCCEEDED,
            "fail": RunStatus.FAILED,
        }[end]
        assert run.status == expected.value, run.status_reason
        wait_until(lambda: not alive(pid), timeout=30)
    finally:
        if pid is not None and alive(pid) and psutil.Process(pid).name() == "sleep":
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
