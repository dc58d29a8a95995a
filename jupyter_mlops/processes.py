"""Process helpers: start a detached runner, is it alive, kill a kernel and its tree."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import psutil

RUNNER_LOG = "runner.log"
"""The runner's (and its kernel's) output, in the run directory; stored as an artifact."""


def start_runner(run_id: str, run_dir: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """``python -m jupyter_mlops.runner RUN_ID`` in ``run_dir``, output to its log.

    In a new session, so it outlives whatever started it (a JupyterLab server, a CLI, a
    Dask worker) and a signal to that process group does not reach it. ``env`` is its
    whole environment, without JupyterLab's ``JPY_PARENT_PID``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    child_env = {k: v for k, v in env.items() if k != "JPY_PARENT_PID"}
    with (run_dir / RUNNER_LOG).open("ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlops.runner", run_id],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=run_dir,
            env=child_env,
            start_new_session=True,
            close_fds=True,
        )


@lru_cache(maxsize=1)
def hostname() -> str:
    return socket.gethostname()


def kill_tree(pid: int | None, *, include_group: bool = True) -> list[int]:
    """SIGKILL ``pid``, all its descendants and (optionally) its process group.

    Kernels run in their own session (jupyter_client starts them with
    ``start_new_session``), and what a notebook starts may have left the group, so
    both the group and the walked tree are killed. Returns the pids signalled.
    """
    if not pid:
        return []
    killed: list[int] = []
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        procs = []
    if include_group:
        try:
            pgid = os.getpgid(pid)
            if pgid != os.getpgid(0):
                os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc in procs:
        try:
            proc.kill()
            killed.append(proc.pid)
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=5)
    return killed


def runner_alive(pid: int | None, run_id: str) -> bool:
    """True if ``pid`` is a live (non-zombie) runner process for ``run_id``.

    Checking the command line guards against pid reuse after a reboot or long uptime.
    """
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return run_id in " ".join(proc.cmdline())
    except psutil.Error:
        return False
