"""The runner's progress thread: heartbeats, batched cell progress, the cancel flag.

The papermill engine's cell hooks only append to a list under a lock (microseconds), so
recording progress adds nothing measurable to a cell; this thread turns that into at
most a few transactions per second, keeps the run's heartbeat (what tells the lost-run
reconciler that the runner lives), and polls the store's cancel flag.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .store import RunStore
from .store.types import utcnow

log = logging.getLogger("jupyter_mlops.runner")

PROGRESS_BATCH_SECONDS = 0.25


class RunThread(threading.Thread):
    """A daemon thread that works for one run every ``interval`` seconds until :meth:`stop`
    (the progress reporter, the system metrics sampler)."""

    def __init__(self, name: str, store: RunStore, run_id: str, interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.store = store
        self.run_id = run_id
        self.interval = interval
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=10)


class ProgressReporter(RunThread):
    """Writes heartbeats and batched cell progress; watches the store's cancel flag."""

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        interval: float,
        on_cancel: Callable[[], None],
        on_beat: Callable[[], None] | None = None,
        stop_reason: Callable[[], Any] = lambda: None,
    ) -> None:
        super().__init__("mlops-progress", store, run_id, interval)
        self.on_cancel = on_cancel
        self.on_beat = on_beat
        self.stop_reason = stop_reason
        """The stop requested for the run (a ``RunStatus``), or None: a cell that ends
        while the run is stopped was cut short, whatever papermill says of it."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: list[dict[str, Any]] = []
        self._cells_done = 0
        self._current: int | None = None
        self._dirty = False

    def cell_started(self, index: int) -> None:
        with self._lock:
            self._current = index
            self._dirty = True
        self._wake.set()

    def cell_finished(self, index: int, started: float, status: str) -> None:
        """Record a finished cell; one cut short by a stop takes the stop's status (e.g.
        ``timed_out``) and does not count as done."""
        duration = time.monotonic() - started
        stopped = self.stop_reason()
        if stopped is not None:
            status = getattr(stopped, "value", str(stopped))
        with self._lock:
            if stopped is None:
                self._cells_done += 1
            self._current = None
            self._dirty = True
            self._pending.append(
                {
                    "at": utcnow(),
                    "cell_index": index,
                    "duration_s": duration,
                    "status": status,
                }
            )
        self._wake.set()

    def flush(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            events, self._pending = self._pending, []
            done, current, self._dirty = self._cells_done, self._current, False
        self.store.record_progress(
            self.run_id, cells_done=done, current_cell=current, cell_events=events
        )

    def run(self) -> None:
        last_beat = 0.0
        last_check = time.monotonic()
        while not self._stopping.is_set():
            woke = self._wake.wait(self.interval)
            if self._stopping.is_set():
                break
            try:
                if woke:
                    self._wake.clear()
                    # gather a burst of fast cells; stop() does not wait for the batch
                    self._stopping.wait(PROGRESS_BATCH_SECONDS)
                    self.flush()
                    last_beat = time.monotonic()
                if time.monotonic() - last_beat >= self.interval:
                    self.store.heartbeat(self.run_id)
                    last_beat = time.monotonic()
                if time.monotonic() - last_check >= self.interval:
                    # also during a burst of fast cells, whose flushes replace the beats
                    last_check = time.monotonic()
                    if self.on_beat is not None:
                        self.on_beat()
                    if self.store.cancel_requested(self.run_id):
                        self.on_cancel()
            except Exception:  # the store may be briefly unavailable; keep beating
                log.exception("progress/heartbeat write failed; will retry")

    def stop(self) -> None:
        """Stop beating and write what is still pending."""
        self._stopping.set()
        self._wake.set()
        super().stop()
        self.flush()
