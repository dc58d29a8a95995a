"""Why a run ends early, and how it is stopped: cancel, timeout, or the loss of its host.

A stop can come from a signal (``SIGTERM``/``SIGINT``: ``jupyter mlops cancel``, a
backend), the store's cancel flag (seen by the progress thread), the run's timeout, or,
on a Dask worker, the worker process dying under the runner. Whichever comes first is
the one recorded: :class:`StopControl` remembers it, wakes a runner that waits for a
slot, and kills the kernel's whole process tree, so nothing the notebook started runs on
(what escaped that tree is killed when the run ends: the runner is a child subreaper, see
:func:`jupyter_mlops.processes.kill_descendants`). The run sequence then turns it into the
run's :class:`Outcome`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import ENV_PARENT_PID
from .processes import hostname
from .store import RunStatus

log = logging.getLogger("jupyter_mlops.runner")

EXIT_CODES = {
    RunStatus.SUCCEEDED: 0,
    RunStatus.FAILED: 1,
    RunStatus.CANCELLED: 3,
    RunStatus.TIMED_OUT: 4,
    RunStatus.LOST: 5,
}
"""The runner's exit code per terminal status (what ``--wait`` and schedulers see)."""


@dataclass
class Outcome:
    """How a run ended: its terminal status, the reason shown, and the ``error_*`` columns."""

    status: RunStatus
    reason: str | None = None
    error: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, reason: str, **error: Any) -> Outcome:
        """A failed run; ``error`` names the columns without their prefix (``ename=`` is
        ``error_ename``): cell_index, ename, evalue, traceback."""
        return cls(RunStatus.FAILED, reason, {f"error_{k}": v for k, v in error.items()})


class StopControl:
    """The first stop requested for a run, and the means to carry it out."""

    def __init__(self, run_id: str, kill_kernel: Callable[[], object]) -> None:
        parent = os.environ.get(ENV_PARENT_PID, "")
        self.parent_pid: int | None = int(parent) if parent.isdigit() else None
        """On a Dask worker, the worker process that started this runner."""
        self.run_id = run_id
        self.kill_kernel = kill_kernel
        """Kills the kernel's tree (only if it is still the run's kernel)."""
        self.wake = threading.Event()
        """Set by every stop request: a runner waiting for a slot stops waiting at once."""
        self._first_request: tuple[RunStatus, str | None] | None = None
        self._lock = threading.Lock()

    @property
    def reason(self) -> RunStatus | None:
        """Why the run is being stopped (None: it is not)."""
        return None if self._first_request is None else self._first_request[0]

    @property
    def message(self) -> str | None:
        return None if self._first_request is None else self._first_request[1]

    @property
    def requested(self) -> bool:
        return self._first_request is not None

    def request(self, why: RunStatus, message: str | None = None) -> None:
        """Cancel, time out or lose the run: remember why, then kill the kernel's tree."""
        with self._lock:
            if self._first_request is None:
                self._first_request = (why, message)
        log.info("stopping run %s: %s", self.run_id, message or why.value)
        self.wake.set()
        self.kill_kernel()

    def cancel(self) -> None:
        self.request(RunStatus.CANCELLED)

    def on_signals(self) -> None:
        """``SIGTERM`` and ``SIGINT`` cancel the run (instead of killing the runner);
        ``SIGURG`` only wakes a runner waiting in the queue to read its run again.

        A queued run is cancelled in the store and its runner woken with ``SIGURG``, whose
        default action is to do nothing: a runner still importing (before this handler
        exists) is not killed by it, and reads the cancelled status when it gets there.
        """
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _signum, _frame: self.cancel())
        signal.signal(signal.SIGURG, lambda _signum, _frame: self.wake.set())

    def time_out_after(self, seconds: float | None) -> threading.Timer | None:
        """Stop the run as timed out after ``seconds`` (none: no limit); cancel the timer
        when the run ends first."""
        if not seconds:
            return None
        timer = threading.Timer(seconds, self.request, args=(RunStatus.TIMED_OUT,))
        timer.daemon = True
        timer.start()
        return timer

    # -- a Dask worker that dies under its runner -----------------------------------------

    @property
    def watches_parent(self) -> bool:
        return self.parent_pid is not None

    def parent_gone(self) -> str | None:
        """On a Dask worker: why the run cannot go on when the worker process is gone."""
        if self.parent_pid is None or os.getppid() == self.parent_pid:
            return None
        return f"the Dask worker process {self.parent_pid} on {hostname()} running this run died"

    def check_parent(self) -> None:
        message = self.parent_gone()
        if message is not None:
            self.request(RunStatus.LOST, message)

    def wait_reason(self) -> str | None:
        """For a runner waiting in the queue: why it must stop waiting, or None."""
        if self.reason is None:
            self.check_parent()
        if self.reason is None:
            return None
        return self.message or self.reason.value

    # -- outcomes ------------------------------------------------------------------------

    def outcome(self) -> Outcome:
        """The outcome of a run this control stopped."""
        assert self.reason is not None
        if self.reason is RunStatus.TIMED_OUT:
            return Outcome(RunStatus.TIMED_OUT, reason="the run exceeded its timeout")
        if self.reason is RunStatus.LOST:
            return Outcome(RunStatus.LOST, reason=self.message or "the runner lost its host")
        return Outcome(RunStatus.CANCELLED, reason="cancelled by request")

    def outcome_or(self, failure: Outcome) -> Outcome:
        """A notebook that failed because the run was being stopped ends as the stop;
        otherwise as ``failure``."""
        return self.outcome() if self.requested else failure
