"""``MLOpsExtensionApp``: opens the run store, reconciles lost runs, serves the API."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Instance

from ..config import MLOps, Settings


class MLOpsState:
    """What handlers share: settings, store and job service (one per server)."""

    def __init__(self, settings: Settings, root_dir: Path) -> None:
        from ..jobs import JobService
        from ..store import RunStore
        from .events import EventHub

        self.settings = settings
        self.store = RunStore.from_settings(settings)
        self.jobs = JobService(settings, self.store, root_dir=root_dir)
        self.events = EventHub(self.store)


def _warm_up() -> None:
    """Pay the one-time costs of the submit path (nbformat's schema validator, kernel
    specs, the snapshot module) in the background, not in the first user's request."""
    try:
        from nbformat.validator import get_validator

        from .. import snapshot  # noqa: F401
        from ..kernels import list_kernelspecs

        get_validator(version=4, version_minor=5)
        list_kernelspecs()
    except Exception:  # only an optimisation
        pass


class MLOpsExtensionApp(ExtensionApp):
    name = "jupyter_mlops"
    classes = [MLOps]
    state = Instance(MLOpsState, allow_none=True)

    _upkeep: Any = None

    def initialize_settings(self) -> None:
        settings = MLOps(parent=self.serverapp).settings()
        root = Path(self.serverapp.root_dir).expanduser().resolve()
        self.state = MLOpsState(settings, root)
        lost = self.state.jobs.reconcile()
        if lost:
            self.log.warning("jupyter-mlops: marked %d run(s) lost: %s", len(lost), lost)
        self.settings.update({"mlops": self.state})
        self._start_upkeep()
        threading.Thread(target=_warm_up, name="mlops-warm-up", daemon=True).start()
        self.log.info(
            "jupyter-mlops: run store %s",
            self.state.store.engine.url.render_as_string(hide_password=True),
        )

    def initialize_handlers(self) -> None:
        from .handlers import handlers

        # ExtensionApp prefixes every pattern with the server's base_url itself.
        self.handlers.extend(handlers("/"))

    async def _reconcile(self) -> None:
        """Periodically mark runs whose runner died as lost (in a thread: it queries)."""
        if self.state is None:
            return
        try:
            lost = await asyncio.to_thread(self.state.jobs.reconcile)
            if lost:
                self.log.warning("jupyter-mlops: marked run(s) lost: %s", lost)
        except Exception:
            self.log.exception("jupyter-mlops: reconciling lost runs failed")

    def _start_upkeep(self) -> None:
        from tornado.ioloop import PeriodicCallback

        assert self.state is not None
        interval_ms = max(self.state.settings.lost_after / 2, 1.0) * 1000
        self._upkeep = PeriodicCallback(self._reconcile, interval_ms)
        self._upkeep.start()

    async def stop_extension(self) -> None:
        if getattr(self, "_upkeep", None) is not None:
            self._upkeep.stop()
        if self.state is not None:
            await self.state.events.stop()
            self.state.store.close()
