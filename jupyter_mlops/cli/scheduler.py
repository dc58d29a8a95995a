"""``jupyter mlops scheduler``: fire due schedules until stopped, with no jupyter server."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

from traitlets import Float

from .base import EXIT_OK, MLOpsBaseApp, fail


def start_pipeline_upkeep(jobs: Any) -> threading.Event:
    """Advance unfinished pipeline runs (free leases) every second, in a thread, as the
    server does; the event stops it."""
    from ..pipelines.orchestrator import PipelineAdvancer, advance_until

    stopping = threading.Event()
    threading.Thread(
        target=advance_until,
        args=(PipelineAdvancer(jobs), stopping),
        name="mlops-pipelines",
        daemon=True,
    ).start()
    return stopping


class SchedulerApp(MLOpsBaseApp):
    name = "jupyter-mlops-scheduler"
    description = """Fire due schedules and triggers until stopped (SIGTERM or Ctrl-C: cleanly).

Any number of schedulers (and jupyter servers with the extension) may share one store:
each slot fires exactly once. Schedules added or changed elsewhere are seen within a
second."""
    aliases = {
        **MLOpsBaseApp.aliases,
        "poll-interval": "SchedulerApp.poll_interval",
        "misfire-grace": "SchedulerApp.misfire_grace",
        "claim-timeout": "SchedulerApp.claim_timeout",
    }

    poll_interval = Float(1.0, help="Longest sleep between looks at the store (s).").tag(
        config=True
    )
    misfire_grace = Float(
        60.0, help="A slot seen later than this (s) is missed: its catch-up policy applies."
    ).tag(config=True)
    claim_timeout = Float(
        120.0, help="A claimed slot with no run after this long (s) is recorded as failed."
    ).tag(config=True)

    def run(self) -> int:
        from ..scheduling.pipeline_target import pipeline_launcher
        from ..scheduling.scheduler import Scheduler, default_holder
        from ..scheduling.triggers import watcher_for
        from ..store.schedules import ScheduleStore

        if self.extra_args:
            fail(f"unexpected arguments: {self.extra_args}")
        logging.basicConfig(
            level=logging.INFO,
            stream=sys.stderr,
            format="[%(asctime)s %(name)s] %(message)s",
        )
        jobs = self.jobs()
        holder = default_holder()
        launch = pipeline_launcher(jobs)
        scheduler = Scheduler(
            ScheduleStore(self.store),
            jobs.submit,
            holder=holder,
            poll_interval=self.poll_interval,
            misfire_grace=self.misfire_grace,
            claim_timeout=self.claim_timeout,
            reconcile=jobs.reconcile,
            triggers=watcher_for(
                self.store,
                jobs.submit,
                holder=holder,
                data_dir=self.settings.data_dir,
                claim_timeout=self.claim_timeout,
                launch_pipeline=launch,
            ),
            launch_pipeline=launch,
        )

        stopping = start_pipeline_upkeep(jobs)

        def stop(signum: int, _frame: Any) -> None:
            logging.getLogger("jupyter_mlops.scheduler").info(
                "%s received: stopping", signal.Signals(signum).name
            )
            stopping.set()
            scheduler.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        url = self.store.engine.url.render_as_string(hide_password=True)
        print(f"scheduler {scheduler.holder} on {url}", file=sys.stderr, flush=True)
        scheduler.run()
        return EXIT_OK
