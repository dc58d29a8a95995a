"""Start a queued run's runner only when the run has its slot.

The queue's original design (see :mod:`jupyter_mlops.backends.queue`) starts every
runner at submit and lets it wait in ``queued``: nothing has to stay up for the queue to
move, at the price of one idle Python process per queued run, whose imports (about 0.5 s
of CPU each) compete with the running runs. A process that stays up anyway (the Jupyter
server, ``jupyter mlops run --wait``, a test's job service) does better with a
:class:`SlotDispatcher`: its runs wait in the store with no process at all, and one
thread of the submitting process claims their slots (the same locked
:meth:`RunStore.claim_slot`, in the same first-come-first-served order, shared with any
waiting runners of other processes) and only then starts the runner, with the
submitter's environment as before. The runner finds its run already claimed for it.

The thread also does what the runner at the head of the queue did: it looks whether the
runs holding slots are alive (a runner killed with SIGKILL frees its slot as ``lost``).
A run waiting like this has no runner pid; the dispatcher keeps its heartbeat, so the
lost-run reconciler leaves it alone while the dispatching process lives and ends it as
lost, with that reason, if it dies (see :func:`jupyter_mlops.store.lost.lost_reason`).
The heartbeat comes from a thread of its own (a
:class:`~jupyter_mlops.backends.queue.QueuedHeartbeat`), not from the dispatching loop: one
slow turn of the loop (a sweep that waits to see whether a silent runner beats again and
then kills it, starting a runner on a loaded machine) must not let another process's
reconciler take the waiting runs for orphans.
When the dispatcher's process stops first (the server shuts down, ``run --wait`` is
interrupted), :meth:`SlotDispatcher.hand_off` starts the waiting runners the original
way, so nothing queued is left behind.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import Settings
from ..processes import hostname
from ..runner_stop import EXIT_CODES
from ..store import Run, RunStatus, RunStore
from ..store.lost import reconcile_host
from .queue import (
    POLL_MIN_S,
    SWEEP_EVERY_S,
    QueuedHeartbeat,
    policy_for,
    queued_beat_interval,
)

log = logging.getLogger("jupyter_mlops.queue")

Spawn = Callable[[str], subprocess.Popen[bytes]]
"""Starts the runner of a run id (the backend's way: environment, session, log)."""


@dataclass
class PendingLaunch:
    """The launch handle of a run waiting for its slot: ``wait``/``poll`` behave as on the
    runner process (its exit code), which exists only once the slot is claimed; a run that
    ends before it starts (cancelled while queued) gives its status's exit code."""

    run_id: str
    process: subprocess.Popen[bytes] | None = None
    ended_with: int | None = None
    _settled: threading.Event = field(default_factory=threading.Event)

    def started(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self._settled.set()

    def ended(self, status: str) -> None:
        self.ended_with = EXIT_CODES.get(RunStatus(status), 1)
        self._settled.set()

    def poll(self) -> int | None:
        if self.process is not None:
            return self.process.poll()
        return self.ended_with

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._settled.wait(timeout):
            raise subprocess.TimeoutExpired(f"run {self.run_id}", timeout or 0)
        if self.process is None:
            return self.ended_with
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.process.wait(left)


class SlotDispatcher:
    """One thread per process that starts its queued runs' runners when they get a slot."""

    def __init__(self, store: RunStore, settings: Settings, spawn: Spawn) -> None:
        self.store = store
        self.settings = settings
        self.spawn = spawn
        self._pending: dict[str, PendingLaunch] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def submit(self, run_id: str, run: Run | None = None) -> PendingLaunch:
        """Start ``run_id``'s runner now if its slot is free, else when it is. ``run``: the
        row just written, so the first try need not read it back (the claim itself checks,
        in its transaction, that the run is still queued and not being cancelled)."""
        handle = PendingLaunch(run_id)
        if self._try_start(handle, run):
            return handle
        with self._lock:
            self._pending[run_id] = handle
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="mlops-dispatch", daemon=True
                )
                self._thread.start()
        self._wake.set()
        return handle

    def wake(self) -> None:
        """Look again now (a slot may have been freed, a run cancelled)."""
        self._wake.set()

    def waiting(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def hand_off(self, start_waiting_runner: Spawn) -> list[str]:
        """Stop dispatching; every run still waiting gets a runner that waits for its slot
        itself (the original design), so it does not depend on this process."""
        with self._lock:
            self._stopped = True
            pending, self._pending = self._pending, {}
        self._wake.set()
        handed = []
        for run_id, handle in pending.items():
            run = self.store.get_run(run_id)
            if run is None or run.status != RunStatus.QUEUED.value:
                continue
            handle.started(start_waiting_runner(run_id))
            handed.append(run_id)
        return handed

    # -- the thread ------------------------------------------------------------------------

    def _try_start(self, handle: PendingLaunch, run: Run | None = None) -> bool:
        """Claim the run's slot and start its runner; True when the handle is settled
        (started, or the run is no longer queued)."""
        if run is None:
            run = self.store.get_run(handle.run_id)
        if run is None:
            handle.ended(RunStatus.LOST.value)
            return True
        if RunStatus(run.status).is_terminal:  # cancelled (or failed) while queued
            handle.ended(run.status)
            return True
        if run.status != RunStatus.QUEUED.value or run.cancel_requested:
            return False  # the canceller is recording the status: look again
        policy = policy_for(run, self.settings)
        claim = self.store.claim_slot(
            run.id,
            host=policy.host,
            max_concurrent=policy.max_concurrent,
            gpu_indices=policy.gpu_indices,
            fifo=policy.fifo,
            runner_host=hostname(),
            run_dir=str(self.settings.runs_dir / run.id),
        )
        if claim.impossible:
            self.store.transition(
                run.id, RunStatus.FAILED, reason=claim.impossible, allowed_from=[RunStatus.QUEUED]
            )
            handle.ended(RunStatus.FAILED.value)
            return True
        if not claim.claimed:
            return False
        try:
            handle.started(self.spawn(run.id))
        except Exception as err:
            log.exception("could not start the runner of run %s", run.id)
            self.store.transition(
                run.id, RunStatus.FAILED, reason=f"could not start the runner: {err}"
            )
            handle.ended(RunStatus.FAILED.value)
        return True

    def _loop(self) -> None:
        beat = QueuedHeartbeat(self.store, self.waiting, queued_beat_interval(self.settings))
        beat.start()
        try:
            self._dispatch()
        finally:
            beat.stop()

    def _dispatch(self) -> None:
        last_sweep = 0.0
        while True:
            with self._lock:
                if self._stopped or not self._pending:
                    self._thread = None
                    return
                pending = list(self._pending.values())
            for handle in pending:  # submission order: first come, first served
                try:
                    settled = self._try_start(handle)
                except Exception:  # the store may be briefly unavailable: try again
                    log.exception("dispatching run %s failed; will retry", handle.run_id)
                    settled = False
                if not settled:
                    break  # the runs behind it wait too (one pool, strict order)
                with self._lock:
                    self._pending.pop(handle.run_id, None)
            now = time.monotonic()
            if now - last_sweep >= SWEEP_EVERY_S:
                last_sweep = now
                try:
                    if reconcile_host(self.store, self.settings):
                        continue
                except Exception:
                    log.exception("checking the runs holding slots failed")
            self._wake.wait(POLL_MIN_S)
            self._wake.clear()
