"""``MLOpsExtensionApp``: opens the run store, reconciles lost runs, serves the API."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Instance

from ..config import MLOps, Settings


class MLOpsState:
    """What handlers share: settings, store and job service (one per server)."""

    def __init__(self, settings: Settings, root_dir: Path, *, server_token: str = "") -> None:
        from ..jobs import JobService
        from ..store import RunStore
        from .events import EventHub

        self.settings = settings
        self.store = RunStore.from_settings(settings)
        self.redact_values = [server_token] if server_token else []
        """The server's own token: no environment record of a run may contain it."""
        self.jobs = JobService(
            settings, self.store, root_dir=root_dir, redact_values=self.redact_values
        )
        self.events = EventHub(self.store)
        self.jobs.dispatch_in_process()  # queued runs get a runner when their slot is free
        from ..rendering import NotebookHtmlRenderer

        self.renderer = NotebookHtmlRenderer()
        """Renders the HTML of a run on its first view (kept: its templates are compiled once)."""


def _warm_up(settings: Settings) -> None:
    """Pay the one-time costs of the submit path (nbformat's schema validator, kernel
    specs, the snapshot module) and of the Run-as-job dialog (which kernels see CUDA:
    a torch import per kernel, cached on disk) in the background, not in the first
    user's request."""
    try:
        from nbformat.validator import get_validator

        from .. import snapshot  # noqa: F401
        from ..kernels import kernels_cuda_info, list_kernelspecs

        get_validator(version=4, version_minor=5)
        kernels_cuda_info(list_kernelspecs(), cache_dir=settings.cache_dir)
    except Exception:  # only an optimisation
        pass


def _start_runner_host(settings: Settings, log: logging.Logger) -> None:
    """``c.MLOps.runner_host = "auto"``: a warm runner host for this data directory unless
    one answers there (in a thread: it connects and forks). It is not stopped with the
    server: it and the runs it forked outlive it, as a ``jupyter mlops worker`` would."""
    from ..runner_host import start_runner_host

    try:
        pid = start_runner_host(settings.data_dir, {**os.environ, **settings.runner_env()})
    except OSError as err:
        log.warning("jupyter-mlops: could not start a runner host: %s", err)
        return
    if pid is not None:
        log.info("jupyter-mlops: started runner host %d for %s", pid, settings.data_dir)


def _server_token(serverapp: Any) -> str:
    """The token this server accepts (empty when it has none)."""
    provider = getattr(serverapp, "identity_provider", None)
    token = getattr(provider, "token", None) or getattr(serverapp, "token", "")
    return str(token or "")


class MLOpsExtensionApp(ExtensionApp):
    name = "jupyter_mlops"
    classes = [MLOps]
    state = Instance(MLOpsState, allow_none=True)

    run_scheduler = Bool(
        True,
        help="Fire due cron schedules from this server (an asyncio task). Any number of "
        "servers and `jupyter mlops scheduler` processes may share a store: each slot "
        "fires once.",
    ).tag(config=True)
    scheduler_misfire_grace = Float(
        60.0, help="A slot seen later than this many seconds is missed (catch-up policy)."
    ).tag(config=True)

    _upkeep: Any = None
    _scheduler: Any = None
    _scheduler_task: Any = None

    def initialize_settings(self) -> None:
        settings = MLOps(parent=self.serverapp).settings()
        root = Path(self.serverapp.root_dir).expanduser().resolve()
        self.state = MLOpsState(settings, root, server_token=_server_token(self.serverapp))
        lost = self.state.jobs.reconcile()
        if lost:
            self.log.warning("jupyter-mlops: marked %d run(s) lost: %s", len(lost), lost)
        self.settings.update({"mlops": self.state})
        self._start_upkeep()
        self._init_schedules()
        self._init_pipelines()
        threading.Thread(
            target=_warm_up, args=(settings,), name="mlops-warm-up", daemon=True
        ).start()
        if settings.runner_host.strip().lower() == "auto":
            threading.Thread(
                target=_start_runner_host,
                args=(settings, self.log),
                name="mlops-runner-host",
                daemon=True,
            ).start()
        self.log.info(
            "jupyter-mlops: run store %s",
            self.state.store.engine.url.render_as_string(hide_password=True),
        )

    def initialize_handlers(self) -> None:
        from .routes import handlers

        # ExtensionApp prefixes every pattern with the server's base_url itself.
        self.handlers.extend(handlers("/"))

    def _init_schedules(self) -> None:
        """The schedule service for the REST API and, unless disabled, the scheduler loop.

        The loop submits through a job service without the root restriction: a schedule
        was checked against the root when it was created, and a slot must not run or fail
        depending on which scheduler sharing the store happened to claim it."""
        from tornado.ioloop import IOLoop

        from ..jobs import JobService
        from ..scheduling import Scheduler, ScheduleService
        from ..scheduling.pipeline_target import pipeline_launcher
        from ..scheduling.scheduler import default_holder
        from ..scheduling.triggers import watcher_for
        from ..store.schedules import ScheduleStore

        assert self.state is not None
        scheduler = None
        if self.run_scheduler:
            jobs = JobService(
                self.state.settings,
                self.state.store,
                self.state.jobs.backend,
                redact_values=self.state.redact_values,
            )
            holder = default_holder()
            launch = pipeline_launcher(jobs)
            scheduler = Scheduler(
                ScheduleStore(self.state.store),
                jobs.submit,
                holder=holder,
                misfire_grace=self.scheduler_misfire_grace,
                triggers=watcher_for(
                    self.state.store,
                    jobs.submit,
                    holder=holder,
                    data_dir=self.state.settings.data_dir,
                    launch_pipeline=launch,
                ),
                launch_pipeline=launch,
            )
            self._scheduler = scheduler
            IOLoop.current().add_callback(self._start_scheduler)
        service = ScheduleService(
            self.state.jobs, on_change=scheduler.wake if scheduler is not None else None
        )
        from ..scheduling.trigger_service import TriggerService

        triggers = TriggerService(
            self.state.jobs, on_change=scheduler.wake if scheduler is not None else None
        )
        self.settings.update(
            {"mlops_schedules": service, "mlops_scheduler": scheduler, "mlops_triggers": triggers}
        )

    def _init_pipelines(self) -> None:
        """The pipeline advancer of the REST API, and its upkeep: every second, one pass
        over the unfinished pipeline runs whose lease is free (so a pipeline goes on when
        the CLI or server that advanced it died)."""
        from tornado.ioloop import PeriodicCallback

        from ..pipelines.orchestrator import PipelineAdvancer

        assert self.state is not None
        self._pipelines = PipelineAdvancer(self.state.jobs)
        self.settings.update({"mlops_pipelines": self._pipelines})
        self._pipeline_upkeep = PeriodicCallback(self._advance_pipelines, 1000)
        self._pipeline_upkeep.start()

    async def _advance_pipelines(self) -> None:
        from ..pipelines.orchestrator import advance_unfinished

        try:
            await asyncio.to_thread(advance_unfinished, self._pipelines)
        except Exception:
            self.log.exception("jupyter-mlops: advancing pipeline runs failed")

    def _start_scheduler(self) -> None:
        if self._scheduler is not None and not self._scheduler.stopping:
            self._scheduler_task = asyncio.ensure_future(self._scheduler.run_async())

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
        try:  # promotions whose validation runs ended while no one was waiting on them
            from ..registry.gate import finish_pending_promotions

            await asyncio.to_thread(finish_pending_promotions, self.state.store)
        except Exception:
            self.log.exception("jupyter-mlops: finishing pending promotions failed")

    def _start_upkeep(self) -> None:
        from tornado.ioloop import PeriodicCallback

        assert self.state is not None
        interval_ms = max(self.state.settings.lost_after / 2, 1.0) * 1000
        self._upkeep = PeriodicCallback(self._reconcile, interval_ms)
        self._upkeep.start()

    async def stop_extension(self) -> None:
        for upkeep in ("_upkeep", "_pipeline_upkeep"):
            if getattr(self, upkeep, None) is not None:
                getattr(self, upkeep).stop()
        if self._scheduler is not None:
            self._scheduler.stop()
            if self._scheduler_task is not None:
                try:
                    await asyncio.wait_for(self._scheduler_task, timeout=30)
                except Exception:
                    self.log.exception("jupyter-mlops: stopping the scheduler failed")
        if self.state is not None:
            await self.state.events.stop()
            handed = await asyncio.to_thread(self.state.jobs.hand_off_queued)
            if handed:
                self.log.info("jupyter-mlops: queued run(s) now wait on their own: %s", handed)
            await asyncio.to_thread(self.state.jobs.close)
            self.state.store.close()
