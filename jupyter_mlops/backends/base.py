"""The small interface every execution backend implements."""

from __future__ import annotations

from typing import Protocol

from ..store import Run


class LaunchHandle(Protocol):
    """What a caller may wait on (``--wait``); the store stays the source of truth."""

    def wait(self, timeout: float | None = None) -> int | None: ...

    def poll(self) -> int | None: ...


class Backend(Protocol):
    name: str

    def launch(self, run: Run) -> LaunchHandle | None:
        """Start the runner for a queued run; must return quickly."""
        ...

    def cancel(self, run: Run) -> None:
        """Ask the run's runner to stop (the runner records the terminal status)."""
        ...
