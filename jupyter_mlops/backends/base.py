"""The small interface every execution backend implements."""

from __future__ import annotations

from typing import Protocol

from ..store import Run


class LaunchHandle(Protocol):
    """What a caller may wait on (``--wait``); the store stays the source of truth."""

    def wait(self, timeout: float | None = None) -> int | None: ...

    def poll(self) -> int | None: ...


class Backend(Protocol):
    """Where runners execute. ``name`` is recorded on every run (``runs.backend``).

    Required: ``launch`` and ``cancel``. Optional (looked up with ``getattr``, so older
    backends keep working): ``check_gpus(count)`` refuses at submit a request that can
    never run (raise :class:`~jupyter_mlops.gpus.GPURequestError`), ``prepare(run)``
    fills fields of a new run before its row is written, ``reconcile(runs)`` returns
    {run id: reason} for active runs of this backend it knows to be lost, and ``close()``
    releases what the backend holds (a Dask client or cluster).
    """

    name: str

    def launch(self, run: Run) -> LaunchHandle | None:
        """Start the runner for a queued run; must return quickly."""
        ...

    def cancel(self, run: Run) -> None:
        """Ask the run's runner to stop (the runner records the terminal status)."""
        ...
