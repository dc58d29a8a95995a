"""The interface every execution backend implements, and how one is chosen.

A backend is a plug-in point (``c.MLOps.backend_class``, a traitlets ``Type``): a subclass
of :class:`Backend` implements :meth:`~Backend.launch` and :meth:`~Backend.cancel`; the
other methods have defaults that suit a backend with nothing to check, prepare, find lost
or release. ``c.MLOps.backend = "local" | "dask"`` names the two that come with the package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from ..config import Settings
    from ..masking import Handover
    from ..store import Run, RunStore


class LaunchHandle(Protocol):
    """What a caller may wait on (``--wait``); the store stays the source of truth."""

    def wait(self, timeout: float | None = None) -> int | None: ...

    def poll(self) -> int | None: ...


class Backend(ABC):
    """Where runners execute, for one job service (its settings and store)."""

    name: ClassVar[str]
    """Recorded on every run it launches (``runs.backend``, at most 16 characters). The
    local queue orders only runs whose backend is ``local``; others are ordered by the
    backend (as Dask does)."""

    def __init__(self, settings: Settings, store: RunStore) -> None:
        self.settings = settings
        self.store = store

    @abstractmethod
    def launch(self, run: Run) -> LaunchHandle | None:
        """Start the runner for a queued run; must return quickly."""

    @abstractmethod
    def cancel(self, run: Run) -> None:
        """Ask the run's runner to stop (the runner records the terminal status)."""

    def check_gpus(self, count: int) -> None:  # noqa: B027 (optional: empty on purpose)
        """Refuse at submit a request for ``count`` GPUs that can never run (raise
        :class:`~jupyter_mlops.gpus.GPURequestError`). By default nothing is refused."""

    def offered_seed(self, kernel_name: str) -> int | None:
        """A seed for a run that would draw its own, offered by where it will run (a warm
        kernel launched with it, :mod:`jupyter_mlops.warm_pool`); None: draw one."""
        return None

    def prepare(self, run: Run) -> None:  # noqa: B027 (optional: empty on purpose)
        """Fill fields of a new run before its row is written (e.g. ``runner_host``)."""

    def hand_over(self, run: Run, handover: Handover) -> None:
        """Give the runner what must never be stored (secret parameter values, texts to
        redact), just before :meth:`launch`. By default a 0600 file in the run directory,
        which the runner reads and deletes at once (see :mod:`jupyter_mlops.masking`); a
        backend whose runners have another run directory carries it itself."""
        from ..masking import write_handover

        write_handover(self.settings.runs_dir / run.id, handover)

    def reconcile(self, runs: list[Run]) -> dict[str, str]:
        """{run id: reason} for active runs of this backend it knows to be lost, beyond
        what a dead runner or a stale heartbeat shows. By default: none."""
        return {}

    def close(self) -> None:  # noqa: B027 (optional: empty on purpose)
        """Release what the backend holds (a Dask client or cluster). By default: nothing."""
