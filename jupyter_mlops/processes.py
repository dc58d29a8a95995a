"""Process-tree helpers: is a runner alive, kill a kernel and everything it spawned."""

from __future__ import annotations

import os
import signal
import socket
from functools import lru_cache

import psutil


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
