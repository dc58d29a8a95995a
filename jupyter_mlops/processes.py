"""Process helpers: start a detached runner, is it alive, kill a run's processes.

A pid in the store is only a number: after a reboot, a container restart or a long
uptime it may name any process. Every pid that is later signalled is therefore stored
with an identity: its start in seconds since boot (:func:`started_since_boot`; a reused
pid starts later, and after a reboot it would need the same start to the clock tick)
plus a marker that only the run's own processes carry: the run id in the runner's command
line, and ``JUPYTER_MLOPS_RUN_ID`` in the kernel's environment (which everything the
kernel starts inherits). :func:`kill_run_process` signals a process only when both match.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

import psutil

from .config import ENV_RUN_ID

RUNNER_LOG = "runner.log"
"""The runner's (and its kernel's) output, in the run directory; stored as an artifact."""


def runner_environment(env: Mapping[str, str]) -> dict[str, str]:
    """A runner's whole environment from its launcher's: without JupyterLab's
    ``JPY_PARENT_PID``, and without a run marker (the launcher may itself run inside a
    run's kernel; the runner is marked by its command line, its kernel by its own run)."""
    return {k: v for k, v in env.items() if k not in ("JPY_PARENT_PID", ENV_RUN_ID)}


def start_runner(run_id: str, run_dir: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """``python -m jupyter_mlops.runner RUN_ID`` in ``run_dir``, output to its log.

    In a new session, so it outlives whatever started it (a JupyterLab server, a CLI, a
    Dask worker) and a signal to that process group does not reach it. ``env`` is its
    whole environment, without JupyterLab's ``JPY_PARENT_PID``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    child_env = runner_environment(env)
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


ProcessKind = Literal["runner", "kernel"]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
"""The unit of ``starttime`` in ``/proc/PID/stat``."""

LEGACY_EPOCH_ABOVE = 1e9
"""Start times above this (2001 as seconds since the epoch; 31 years of uptime as seconds
since boot) were written by versions that recorded psutil's epoch ``create_time``."""

LEGACY_TOLERANCE_S = 1.0
"""How far apart two epoch ``create_time`` reads of one process may be (the kernel reports
the boot time to the second); a reused pid starts later than that (and lacks the marker)."""


def started_since_boot(pid: int | None) -> float | None:
    """When the process started, in seconds since boot: with its pid, its identity.

    The ``starttime`` of ``/proc/PID/stat``, which nothing changes. psutil's epoch
    ``create_time`` adds the boot time as the wall clock sees it now, so a clock step
    (NTP, a resumed VM) of more than a second made every live runner look like a reused
    pid to the reconciler, which then ended its run as lost and killed its cgroup.
    Elsewhere than Linux, psutil's epoch value (compared as the legacy kind)."""
    if not pid:
        return None
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            return int(stat.rsplit(")", 1)[1].split()[19]) / CLOCK_TICKS  # field 22
        except (OSError, IndexError, ValueError):
            return None
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _same_start(proc: psutil.Process, recorded: float) -> bool:
    """Did ``proc`` start when ``recorded`` says (see :func:`started_since_boot`)?"""
    if recorded > LEGACY_EPOCH_ABOVE:
        return abs(proc.create_time() - recorded) <= LEGACY_TOLERANCE_S
    now = started_since_boot(proc.pid)
    return now is not None and abs(now - recorded) < 0.5 / CLOCK_TICKS


def _has_marker(proc: psutil.Process, run_id: str, kind: ProcessKind) -> bool:
    if kind == "runner":
        return run_id in proc.cmdline()
    return proc.environ().get(ENV_RUN_ID) == run_id


def run_process(
    pid: int | None, run_id: str, kind: ProcessKind, started: float | None = None
) -> psutil.Process | None:
    """The live process ``pid`` if it provably is the run's ``kind`` of process, else None.

    Proof is the marker (always) and, when one was recorded, the same ``create_time``
    (rows written before it was recorded have none). A process whose marker cannot be
    read (another user's) is not proven, so it is left alone.
    """
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if started is not None and not _same_start(proc, started):
            return None
        return proc if _has_marker(proc, run_id, kind) else None
    except psutil.Error:
        return None


def runner_alive(pid: int | None, run_id: str, started: float | None = None) -> bool:
    """True if ``pid`` is a live (non-zombie, possibly stopped) runner process for ``run_id``
    (its command line names the run, and it started at ``started`` when that is known)."""
    return run_process(pid, run_id, "runner", started) is not None


def kill_run_process(
    pid: int | None, run_id: str, kind: ProcessKind, started: float | None = None
) -> list[int]:
    """:func:`kill_tree` of ``pid``, only if it is the run's process (see :func:`run_process`);
    a pid that now names anything else is not touched. Returns the pids signalled."""
    if run_process(pid, run_id, kind, started) is None:
        return []
    return kill_tree(pid)


def marked_processes(run_id: str) -> list[psutil.Process]:
    """Live processes that carry the run's marker in their environment: what its kernel
    started, also what left the kernel's tree and group (``setsid``, a double fork) and was
    re-parented to init because the runner is gone. Never this process or its ancestors."""
    spared = {os.getpid(), *(p.pid for p in _ancestors())}
    found: list[psutil.Process] = []
    for proc in psutil.process_iter():
        if proc.pid in spared:
            continue
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE and _has_marker(proc, run_id, "kernel"):
                found.append(proc)
    return found


def _ancestors() -> list[psutil.Process]:
    try:
        return psutil.Process().parents()
    except psutil.Error:
        return []


def kill_marked(run_id: str) -> list[int]:
    """SIGKILL every process carrying the run's marker (see :func:`marked_processes`)."""
    return _kill_and_reap(marked_processes(run_id))


# -- the runner as the reaper of everything its run starts ---------------------------------

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process a child subreaper (Linux ``prctl``): a descendant orphaned by a
    daemonizing parent (``setsid``, a double fork, ``nohup ... &``) is re-parented to it,
    not to init, so :func:`kill_descendants` still finds it. False where not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def kill_descendants() -> list[int]:
    """SIGKILL every descendant of this process and reap them (as a subreaper, the
    orphans re-parented to it are its children). Returns the pids signalled."""
    try:
        procs = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    return _kill_and_reap(procs)


def _kill_and_reap(procs: list[psutil.Process]) -> list[int]:
    """SIGKILL ``procs`` and wait (5 s at most) until they are gone; the pids signalled."""
    killed: list[int] = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
            killed.append(proc.pid)
    psutil.wait_procs(procs, timeout=5)
    return killed


def exit_without_finalizing(code: int) -> None:
    """Leave the process at once, its output flushed, without finalizing the interpreter.

    For a process whose work is recorded (a runner after its terminal status, the CLI
    once it printed the result): a normal exit still tears down papermill, nbconvert,
    IPython, SQLAlchemy and zmq modules, 0.25-0.35 s during which ``run --wait`` and
    schedulers counting slots saw a finished run whose runner was still alive, and the
    user's shell waited for a command whose answer was already printed.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken stream: nothing to keep
            stream.flush()
    os._exit(code)
