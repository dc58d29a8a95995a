"""Is a silent live runner hung? The last look before the lost-run reconciler kills one.

A runner on this host that is alive but has not beaten for ``lost_after`` is given one
more look (:func:`end_hung`), since silence alone is not proof:

* after a machine wakes from suspend every heartbeat is old, and the reconciler may look
  before the runners' heartbeat threads have run: a new heartbeat within a few intervals
  is a sign of life;
* a runner process started less than ``lost_after`` + :data:`STARTUP_GRACE_S` ago that
  spends CPU time and is not stopped is still starting (importing its stack on a loaded
  machine, before its heartbeat thread exists; a dispatcher claims the slot, with a
  heartbeat, before it starts the runner);
* a runner stopped (SIGSTOP) in the middle of a write holds SQLite's lock, and every other
  runner's heartbeat waits on it: silent too, until the stopped one dies. So all silent
  runners share one wait, the stopped ones are judged first, and after each kill the next
  one is given another wait before it is judged.

A stopped, deadlocked or blocked (frozen file system) runner shows no sign and is killed
(only a process proven to be the run's, see :mod:`jupyter_mlops.processes`), and its run
ends as lost with the reason given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from ..config import Settings
from ..processes import run_process
from .models import Run
from .store import RunStore

STARTUP_GRACE_S = 120.0
"""How long past ``lost_after`` a young runner that works but does not beat yet is given."""

_STOPPED = (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP)


@dataclass
class Silent:
    """A run whose live runner on this host has not beaten for ``lost_after``."""

    run: Run
    reason: str
    process: psutil.Process | None = None
    worked: float | None = None
    """The runner's CPU seconds when the look began."""

    def look(self) -> None:
        self.process = run_process(
            self.run.runner_pid, self.run.id, "runner", self.run.runner_create_time
        )
        self.worked = _cpu_seconds(self.process)

    @property
    def stopped(self) -> bool:
        try:
            return self.process is not None and self.process.status() in _STOPPED
        except psutil.Error:
            return False


def wait_s(settings: Settings) -> float:
    """How long a silent runner is given to show life: a few heartbeat intervals."""
    return min(max(3 * settings.heartbeat_interval, 2.0), 10.0)


def end_hung(
    store: RunStore,
    silent: list[Silent],
    settings: Settings,
    mark_lost: Callable[[Run, str], bool],
) -> list[str]:
    """End as lost (``mark_lost`` kills first) the silent runners that show no sign of life
    within :func:`wait_s`; returns their run ids."""
    if not silent:
        return []
    for one in silent:
        one.look()
    silent = sorted(silent, key=lambda one: not one.stopped)  # stable: stopped ones first
    ended: list[str] = []
    time.sleep(wait_s(settings))
    for one in silent:
        if ended:
            time.sleep(wait_s(settings))  # the kill may have freed a lock it waited on
        if _shows_life(store, one, settings):
            continue
        if mark_lost(one.run, one.reason):
            ended.append(one.run.id)
    return ended


def _shows_life(store: RunStore, one: Silent, settings: Settings) -> bool:
    fresh = store.get_run(one.run.id)
    if fresh is None or fresh.heartbeat_at != one.run.heartbeat_at:
        return True
    return _still_starting(one, settings)


def _cpu_seconds(proc: psutil.Process | None) -> float | None:
    try:
        times = proc.cpu_times() if proc is not None else None
    except psutil.Error:
        return None
    return None if times is None else times.user + times.system


def _still_starting(one: Silent, settings: Settings) -> bool:
    """The runner is young, not stopped, and spent CPU time since the look began."""
    proc = one.process
    if proc is None or one.worked is None or one.stopped:
        return False
    try:
        young = time.time() - proc.create_time() < settings.lost_after + STARTUP_GRACE_S
    except psutil.Error:
        return False
    worked = _cpu_seconds(proc)
    return young and worked is not None and worked > one.worked
