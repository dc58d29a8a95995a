"""Lost runs: active runs whose runner is gone or hung, found and ended with a reason.

Every path that can notice a dead runner calls this one module: the jobs service when it
reconciles (server start-up, ``jupyter mlops`` commands) and the runner at the head of the
slot queue (so a runner killed with SIGKILL frees its slot without waiting for a server).
A run is marked lost through :meth:`RunStore.transition`, so a lost verdict never
overwrites a terminal status the runner recorded at the same moment.

A runner that is alive but no longer beats (stopped with SIGSTOP, deadlocked, stuck on a
frozen file system) is lost too, and a run past its timeout (plus ``timeout_grace``) is
timed out from here, since the runner that should enforce it may be the one that hangs.
Both kill the run's processes first. Only processes proven to be the run's are killed
(see :mod:`jupyter_mlops.processes`): a recorded pid that now names another process is
left alone, also when a read-only command (``show``, ``runs``) reconciles; a run's own
cgroup holds only its processes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import psutil

from ..config import Settings
from ..processes import hostname, kill_marked, kill_run_process, runner_alive
from ..run_cgroup import kill_run_cgroup
from .hung import Silent, end_hung
from .models import Run, RunStatus
from .store import RunStore
from .types import utcnow

DASK_QUEUE_PREFIX = "dask:"
"""``runner_host`` of a run waiting in a Dask scheduler's queue: ``dask:<address>``."""
DASK_LOCAL_PREFIX = "dask-local:"
"""``runner_host`` of a run waiting in the queue of a LocalCluster that a process started
for itself: ``dask-local:<host>:<pid>``; when that process is gone, so is the cluster."""


HUNG = "runner stopped responding"
"""How the reason of a run whose live runner no longer beats begins."""


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def lost_reason(run: Run, *, here: str, now: datetime, lost_after: float) -> str | None:
    """Why an active run is lost (its runner is gone or hung), or None while it may be alive.

    On this host a dead runner pid is proof enough, and a live runner (of a queued or a
    started run) whose heartbeat is older than ``lost_after`` has stopped responding
    (:func:`reconcile_runs` still gives it a moment to show life, see :mod:`.hung`);
    for runs elsewhere (another machine sharing the store, a Dask worker) only a heartbeat
    older than ``lost_after`` is. A run still in a Dask scheduler's queue has no runner
    yet: it is lost only when the process that owned its LocalCluster is gone (the Dask
    backend checks external schedulers).
    """
    host = run.runner_host or ""
    last_sign = run.heartbeat_at or run.created_at
    age = (now - last_sign).total_seconds()
    if host.startswith(DASK_LOCAL_PREFIX):
        owner_host, _, pid_text = host[len(DASK_LOCAL_PREFIX) :].rpartition(":")
        if owner_host != here or not pid_text.isdigit() or _pid_alive(int(pid_text)):
            return None
        return (
            f"the process {pid_text} that started its Dask LocalCluster exited before the "
            "run started"
        )
    if host.startswith(DASK_QUEUE_PREFIX):
        return None
    if host == here:
        queued = run.status == RunStatus.QUEUED.value
        when = " while the run was queued" if queued else ""
        if runner_alive(run.runner_pid, run.id, run.runner_create_time):
            # queued or started, a runner beats from a thread that does nothing else
            return None if age < lost_after else f"{HUNG}{when}: no heartbeat for {age:.0f} s"
        if run.runner_pid is None and age < lost_after:
            return None  # being launched, or waiting for its slot in a dispatcher that beats
        if run.runner_pid is None and queued:
            return (
                "the process that was to start its runner when a slot was free (a server or "
                f"`run --wait`) stopped beating {age:.0f} s ago"
            )
        if run.runner_pid is None:
            # claimed by a dispatcher that died before its runner recorded a pid; a runner
            # it did start is in the run's cgroup, and what that runner started carries the
            # run's marker: :func:`mark_lost` kills both
            return (
                "its slot was claimed but no runner recorded itself: the process that was "
                f"to start it (a server or `run --wait`) stopped {age:.0f} s ago"
            )
        return f"runner process {run.runner_pid} died{when} without recording a final status"
    if age < lost_after:
        return None
    return f"no heartbeat from the runner on {run.runner_host or 'an unknown host'} for {age:.0f} s"


def overdue_reason(run: Run, *, now: datetime, grace: float) -> str | None:
    """Why a started run must be timed out from outside its runner, or None: it has run
    longer than its ``timeout`` plus ``grace`` (time for the runner to stop the kernel
    and store its outputs itself), so its runner did not enforce the timeout."""
    if not run.timeout_s or run.started_at is None:
        return None
    if run.status not in (RunStatus.STARTING.value, RunStatus.RUNNING.value):
        return None
    elapsed = (now - run.started_at).total_seconds()
    if elapsed < run.timeout_s + grace:
        return None
    return (
        f"the run exceeded its timeout of {run.timeout_s:g} s; enforced from outside the "
        f"runner after {elapsed:.0f} s (the runner did not stop it)"
    )


def stop_run_processes(run: Run, runs_dir: Path) -> list[int]:
    """Kill what is left of a run on this host: its runner's tree, its kernel's tree, and
    whatever else carries its marker (what escaped both trees and outlived the runner).
    Only processes proven to be the run's are signalled: those in the cgroup its runner
    made for it (:mod:`jupyter_mlops.run_cgroup`; its record is in the run directory, also
    for a run still queued, which has none in the store yet), and the recorded or marked
    ones."""
    killed = kill_run_cgroup(run.id, run.run_dir or str(runs_dir / run.id))
    killed += kill_run_process(run.runner_pid, run.id, "runner", run.runner_create_time)
    killed += kill_run_process(run.kernel_pid, run.id, "kernel", run.kernel_create_time)
    return killed + kill_marked(run.id)


def mark_lost(store: RunStore, run: Run, reason: str, *, here: str, runs_dir: Path) -> bool:
    if run.runner_host == here:
        stop_run_processes(run, runs_dir)  # nothing the notebook started outlives its runner
    return store.transition(run.id, RunStatus.LOST, reason=reason, current_cell=None)


def mark_timed_out(store: RunStore, run: Run, reason: str, *, here: str, runs_dir: Path) -> bool:
    """End a run whose runner did not enforce its timeout (only runs on this host, whose
    processes can be killed first; elsewhere the heartbeat rule finds a hung runner)."""
    if run.runner_host != here:
        return False
    stop_run_processes(run, runs_dir)
    return store.transition(run.id, RunStatus.TIMED_OUT, reason=reason, current_cell=None)


def reconcile_runs(store: RunStore, settings: Settings, *, host_only: bool = False) -> list[str]:
    """End active runs whose runner died or hangs as lost, and runs far past their timeout
    as timed out (with a reason); returns their ids. A live runner that does not beat is
    given one more look first (:mod:`jupyter_mlops.store.hung`).
    ``host_only``: only runs whose runner is (or was) on this host."""
    ended: list[str] = []
    silent: list[Silent] = []
    now = utcnow()
    here = hostname()
    for run in store.active_runs():
        if host_only and run.runner_host != here:
            continue
        if run.runner_host == here:
            overdue = overdue_reason(run, now=now, grace=settings.timeout_grace)
            if overdue is not None and mark_timed_out(
                store, run, overdue, here=here, runs_dir=settings.runs_dir
            ):
                ended.append(run.id)
                continue
        reason = lost_reason(run, here=here, now=now, lost_after=settings.lost_after)
        if reason is None:
            continue
        if reason.startswith(HUNG):
            silent.append(Silent(run, reason))
        elif mark_lost(store, run, reason, here=here, runs_dir=settings.runs_dir):
            ended.append(run.id)
    return ended + end_hung(
        store,
        silent,
        settings,
        lambda run, reason: mark_lost(store, run, reason, here=here, runs_dir=settings.runs_dir),
    )


def reconcile_host(store: RunStore, settings: Settings) -> list[str]:
    return reconcile_runs(store, settings, host_only=True)
