"""The run queue: slots for concurrent runs and GPUs, kept in the run store.

Design
------
There is no queue process. The run store is the queue and its only source of truth, so
a run submitted from the CLI and one submitted from JupyterLab (two processes, maybe two
servers on one PostgreSQL store) wait in the same line:

* ``submit`` writes the run as ``queued`` and starts its runner at once;
* the runner waits in ``queued``, polling the store; when :meth:`RunStore.claim_slot`
  finds a free slot for it, it claims the slot in one locked transaction (count the
  host's active runs and the GPUs they hold, compare-and-set ``queued -> starting`` with
  the granted devices) and runs;
* a slot is free again as soon as its run has any terminal status (succeeded, failed,
  cancelled, timed out, lost): slots are counted from statuses, never released by hand,
  so no path can leak one.

Why runners that wait rather than a dispatcher: nothing has to stay up for the queue to
move (a CLI submit with no server, a server restart while runs wait), each run keeps the
environment of the process that submitted it, and cancelling a queued run is just its
status change (its waiting runner sees it and exits). The price is one idle process per
queued run (about 45 MB, mostly SQLAlchemy) polling the store; polls are read-only and
spaced by queue position (the head polls every 0.2 s, deep positions every few seconds),
and only a poll that finds a free slot takes the write lock.

Order is first come, first served (``created_at``, then id) within a pool, the local
backend's runs of one host. A run at the head that asks for more GPUs than are free holds
back the runs behind it, even CPU-only ones that would fit: simple, predictable, and
never starves a large request. The head runner also checks that the runs holding slots
are alive, so a runner killed with SIGKILL frees its slot (as ``lost``) without waiting
for a server to reconcile.

Dask runs are scheduled by Dask (worker threads, ``resources={"GPU": n}``); on the
worker their runner only takes GPU devices from the host's free ones (same store
accounting, no FIFO, no concurrency limit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..gpus import usable_gpus
from ..processes import hostname
from ..store import Run, RunStatus, RunStore
from ..store.lost import reconcile_host
from ..store.queue import SlotClaim

log = logging.getLogger("jupyter_mlops.queue")

POLL_MIN_S = 0.2
POLL_MAX_S = 5.0
SWEEP_EVERY_S = 3.0


@dataclass(frozen=True)
class QueuePolicy:
    """How a runner on this host may claim a slot."""

    host: str
    max_concurrent: int | None
    gpu_indices: list[int] = field(default_factory=list)
    fifo: bool = True


def policy_for(run: Run, settings: Settings) -> QueuePolicy:
    gpus = [g.index for g in usable_gpus(settings.gpu_inventory)] if run.gpus else []
    if run.backend == "local":
        return QueuePolicy(hostname(), settings.max_concurrent_runs, gpus, fifo=True)
    return QueuePolicy(hostname(), None, gpus, fifo=False)


def poll_interval(position: int | None) -> float:
    return min(POLL_MAX_S, POLL_MIN_S * max(1, position or 1))


def queued_beat_interval(settings: Settings) -> float:
    """Seconds between heartbeats of a queued run: at least three per ``lost_after``, and
    no more often than a started run beats (queued runs may be many; each beat is a write)."""
    return max(settings.heartbeat_interval, settings.lost_after / 3)


class QueuedHeartbeat(threading.Thread):
    """Beats for runs waiting in ``queued`` (``run_ids()``, read at every beat) from a
    daemon thread of its own, so nothing the waiting thread does (importing, sweeping,
    starting a runner) delays their sign of life. A beat only touches a run still queued,
    so one that lands after the claim changes nothing."""

    def __init__(
        self, store: RunStore, run_ids: Callable[[], Iterable[str]], interval: float
    ) -> None:
        super().__init__(name="mlops-queued-beat", daemon=True)
        self.store = store
        self.run_ids = run_ids
        self.interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        while True:
            self.beat()
            if self._stopping.wait(self.interval):
                return

    def beat(self) -> None:
        for run_id in self.run_ids():
            try:
                self.store.queued_heartbeat(run_id)
            except Exception:  # the store may be briefly unavailable; keep beating
                log.exception("heartbeat of queued run %s failed; will retry", run_id)

    def stop(self) -> None:
        """Stop beating; not joined (a beat blocked on a busy store must not hold up the
        waiter, and a late one is harmless)."""
        self._stopping.set()


class SlotWaiter:
    """Wait in ``queued`` until :meth:`RunStore.claim_slot` grants a slot.

    ``stop_reason()`` returning a text ends the wait early (a signal, a dead Dask worker);
    ``near_head()`` is called once, when the run is among the next ``max_concurrent`` to
    start, so the runner can import its execution stack while it still waits.
    """

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        policy: QueuePolicy,
        *,
        settings: Settings,
        stop_reason: Callable[[], str | None] = lambda: None,
        near_head: Callable[[], None] = lambda: None,
        wake: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.policy = policy
        self.settings = settings
        self.stop_reason = stop_reason
        self.near_head = near_head
        self.wake = wake or threading.Event()
        self.stopped: str | None = None

    def wait(self, **fields: object) -> SlotClaim:
        """Wait for the slot, beating from a thread of its own meanwhile; ``fields`` are
        recorded with the claim."""
        beat = QueuedHeartbeat(
            self.store, lambda: [self.run_id], queued_beat_interval(self.settings)
        )
        beat.start()
        try:
            return self._wait(**fields)
        finally:
            beat.stop()

    def _wait(self, **fields: object) -> SlotClaim:
        last_sweep = 0.0
        warmed = False
        said = None
        while True:
            self.stopped = self.stop_reason()
            if self.stopped is not None:
                return SlotClaim(False, RunStatus.QUEUED.value)
            probe = self._claim(dry_run=True)
            if probe.status != RunStatus.QUEUED.value or probe.cancel_requested:
                return probe
            if probe.impossible:
                return probe
            if probe.ready:
                claim = self._claim(**fields)
                if claim.claimed or claim.status != RunStatus.QUEUED.value:
                    return claim
                probe = claim  # another runner took the slot first; keep waiting
            if probe.waiting_for != said and probe.waiting_for:
                log.info("run %s queued: waiting for %s", self.run_id, probe.waiting_for)
                said = probe.waiting_for
            position = probe.position or 1
            if not warmed and position <= max(1, self.policy.max_concurrent or 1):
                warmed = True
                self.near_head()
            now = time.monotonic()
            if position <= 2 and now - last_sweep >= SWEEP_EVERY_S:
                last_sweep = now
                try:
                    lost = reconcile_host(self.store, self.settings)
                    if lost:
                        log.warning("marked run(s) lost (runner died): %s", lost)
                        continue
                except Exception:
                    log.exception("checking the runs holding slots failed")
            self.wake.wait(poll_interval(position))
            self.wake.clear()

    def _claim(self, **fields: Any) -> SlotClaim:
        """:meth:`RunStore.claim_slot` under this waiter's policy (``dry_run=True``: only
        look whether a slot is free)."""
        p = self.policy
        return self.store.claim_slot(
            self.run_id,
            host=p.host,
            max_concurrent=p.max_concurrent,
            gpu_indices=p.gpu_indices,
            fifo=p.fifo,
            **fields,
        )
