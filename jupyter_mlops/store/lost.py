"""Lost runs: active runs whose runner is gone, found and marked ``lost`` with a reason.

Every path that can notice a dead runner calls this one module: the jobs service when it
reconciles (server start-up, ``jupyter mlops`` commands) and the runner at the head of the
slot queue (so a runner killed with SIGKILL frees its slot without waiting for a server).
A run is marked lost through :meth:`RunStore.transition`, so a lost verdict never
overwrites a terminal status the runner recorded at the same moment.
"""

from __future__ import annotations

from datetime import datetime

import psutil

from ..config import Settings
from ..processes import hostname, kill_tree, runner_alive
from .models import Run, RunStatus
from .store import RunStore
from .types import utcnow

DASK_QUEUE_PREFIX = "dask:"
"""``runner_host`` of a run waiting in a Dask scheduler's queue: ``dask:<address>``."""
DASK_LOCAL_PREFIX = "dask-local:"
"""``runner_host`` of a run waiting in the queue of a LocalCluster that a process started
for itself: ``dask-local:<host>:<pid>``; when that process is gone, so is the cluster."""


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def lost_reason(run: Run, *, here: str, now: datetime, lost_after: float) -> str | None:
    """Why an active run is lost (its runner is gone), or None while it may be alive.

    On this host a dead runner pid is proof enough; for runs elsewhere (another machine
    sharing the store, a Dask worker) only a heartbeat older than ``lost_after`` is. A run
    still in a Dask scheduler's queue has no runner yet: it is lost only when the process
    that owned its LocalCluster is gone (the Dask backend checks external schedulers).
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
        if runner_alive(run.runner_pid, run.id):
            return None
        if run.runner_pid is None and age < lost_after:
            return None  # being launched right now
        when = " while the run was queued" if run.status == RunStatus.QUEUED.value else ""
        return f"runner process {run.runner_pid} died{when} without recording a final status"
    if age < lost_after:
        return None
    return f"no heartbeat from the runner on {run.runner_host or 'an unknown host'} for {age:.0f} s"


def mark_lost(store: RunStore, run: Run, reason: str, *, here: str) -> bool:
    if run.runner_host == here:
        kill_tree(run.kernel_pid)  # nothing the notebook started outlives its runner
    return store.transition(run.id, RunStatus.LOST, reason=reason, current_cell=None)


def reconcile_runs(store: RunStore, settings: Settings, *, host_only: bool = False) -> list[str]:
    """Mark active runs whose runner died as lost (with a reason); returns their ids.
    ``host_only``: only runs whose runner is (or was) on this host."""
    lost: list[str] = []
    now = utcnow()
    here = hostname()
    for run in store.active_runs():
        if host_only and run.runner_host != here:
            continue
        reason = lost_reason(run, here=here, now=now, lost_after=settings.lost_after)
        if reason is not None and mark_lost(store, run, reason, here=here):
            lost.append(run.id)
    return lost


def reconcile_host(store: RunStore, settings: Settings) -> list[str]:
    return reconcile_runs(store, settings, host_only=True)
