"""A submit that records runs without executing anything, for tests and benchmarks.

``recording_submit(store)`` stands in for ``JobService.submit`` in a :class:`Scheduler`:
each fire becomes a terminal run row linked to its schedule and slot (``created_at`` is
the moment of the submit, so ``created_at - scheduled_for`` is the firing delay). Many
scheduler processes on one store can then be checked for exactly-once firing in seconds.

``python -m tests.recording DB_URL HOLDER [POLL_INTERVAL]`` (from the repository root)
runs such a scheduler until SIGTERM. Used by ``tests/test_scheduler.py`` and
``bench/scheduler.py``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from jupyter_mlops.jobs import RunSpec
from jupyter_mlops.scheduling.scheduler import Scheduler
from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.models import Schedule
from jupyter_mlops.store.runs import new_run_id, run_values
from jupyter_mlops.store.schedules import ScheduleStore
from jupyter_mlops.store.types import utcnow

RECORDED_REASON = "recorded by a test scheduler: nothing was executed"


def recording_submit(store: RunStore, *, status: RunStatus = RunStatus.SUCCEEDED) -> Any:
    """``status``: what the recorded runs say (an active one, e.g. RUNNING, lets tests
    exercise the concurrency policies)."""

    def submit(spec: RunSpec) -> str:
        now = utcnow()
        run_id = spec.run_id or new_run_id()
        row = run_values(
            run_id,
            created_at=now,
            finished_at=now if status.is_terminal else None,
            status=status.value,
            status_reason=RECORDED_REASON,
            source=spec.source,
            backend="record",
            notebook_path=spec.notebook,
            kernel_name=spec.kernel or "",
            branch=spec.branch,
            schedule_id=spec.schedule_id,
            scheduled_for=spec.scheduled_for,
            cells_total=0,
        )
        store.record_runs([row])  # Core: cheap, so the scheduler's cost shows
        return run_id

    return submit


def add_recorded_schedules(
    store: RunStore, count: int, cron: str, first: datetime, *, prefix: str = "bench"
) -> list[str]:
    """``count`` active schedules on ``cron`` whose first slot is ``first`` (overlaps
    allowed, missed slots skipped), for recording schedulers to fire; their ids."""
    now = utcnow()
    ids = [uuid.uuid4().hex[:12] for _ in range(count)]
    with store.writing() as session:
        session.add_all(
            Schedule(
                id=sid,
                name=f"{prefix}-{i}",
                created_at=now,
                updated_at=now,
                notebook_path=f"{prefix}/nb{i}.ipynb",
                notebook_abspath=f"/{prefix}/nb{i}.ipynb",
                parameters={"i": i},
                tags=[prefix],
                gpus=0,
                cron=cron,
                timezone="UTC",
                active=True,
                catchup="skip",
                max_catchup=10,
                concurrency="allow",
                next_fire_at=first,
            )
            for i, sid in enumerate(ids)
        )
    return ids


def start_recording_schedulers(
    url: str, count: int, *, prefix: str = "sched"
) -> list[subprocess.Popen[str]]:
    """``count`` recording scheduler processes on the store at ``url`` (holders
    ``<prefix>0``, ...), each ready when this returns; ``RuntimeError`` with the stderr of
    one that did not come up."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.recording", url, f"{prefix}{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(count)
    ]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(
                f"a recording scheduler did not start ({line!r}): {proc.communicate()[1]}"
            )
    return procs


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    url, holder = args[0], args[1]
    poll = float(args[2]) if len(args) > 2 else 1.0
    logging.basicConfig(level=logging.WARNING, format=f"{holder} %(levelname)s %(message)s")
    store = RunStore(url)
    scheduler = Scheduler(ScheduleStore(store), recording_submit(store), holder=holder)
    scheduler.poll_interval = poll
    signal.signal(signal.SIGTERM, lambda *_: scheduler.stop())
    signal.signal(signal.SIGINT, lambda *_: scheduler.stop())
    print("ready", flush=True)
    scheduler.run()
    store.close()


if __name__ == "__main__":
    main()
