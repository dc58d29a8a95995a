"""The scheduler loop: fire each due (schedule, slot) exactly once, on time.

One :class:`Scheduler` runs in every jupyter server with the extension (an asyncio task;
every query and submit runs in a thread) and stand-alone as ``jupyter mlops scheduler``
(a blocking loop that stops cleanly on SIGTERM). Any number of them may share one store:
slots are claimed in the database (see :mod:`jupyter_mlops.store.schedule_fires`), so each slot
fires once whichever scheduler gets there first, and none of them holds state the others
need.

Timing: the loop sleeps until the earliest ``next_fire_at``, but never longer than
``poll_interval`` (1 s), so schedules created or changed by another process are seen
within a second without any notification.

Catch-up: a slot is *missed* when the scheduler sees it more than ``misfire_grace``
seconds after its time (scheduler down, schedule paused). Slots within the grace fire
normally, late. For missed slots the schedule's policy decides: ``skip`` fires none,
``once`` fires the latest missed slot (unless an on-time slot fires in the same pass),
``all`` fires the most recent ``max_catchup`` of them, oldest first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ..jobs import RunSpec
from ..store.claim_targets import PIPELINE
from ..store.models import Schedule
from ..store.schedule_fires import PENDING, SKIPPED, WAITING, Fire, Plan
from ..store.schedules import ScheduleStore
from ..store.types import utcnow
from .cron import CronSchedule
from .pipeline_target import LaunchFn, PipelineLaunch, launch_of, schedule_fired_by
from .triggers import TriggerWatcher

log = logging.getLogger("jupyter_mlops.scheduler")

SubmitFn = Callable[[RunSpec], Any]
Clock = Callable[[], datetime]
MAINTENANCE_LEASE = "scheduler-maintenance"


@lru_cache(maxsize=4096)
def cron_for(expr: str, tz_name: str) -> CronSchedule:
    return CronSchedule.parse(expr, tz_name)


def first_fire_after(schedule: Schedule, after: datetime) -> datetime:
    return cron_for(schedule.cron, schedule.timezone).next_after(after)


def plan_fires(schedule: Schedule, now: datetime, *, misfire_grace: float) -> Plan:
    """Which slots of a due schedule to fire now, and its next due time (after ``now``)."""
    cron = cron_for(schedule.cron, schedule.timezone)
    start = schedule.next_fire_at or now
    if schedule.last_fired_slot is not None and start <= schedule.last_fired_slot:
        start = cron.next_after(schedule.last_fired_slot)
    horizon = now - timedelta(seconds=misfire_grace)
    on_time, following = cron.slots_and_next(max(start, horizon), now)
    missed: list[datetime] = []
    if start < horizon and schedule.catchup != "skip":
        wanted = 1 if schedule.catchup == "once" else max(1, schedule.max_catchup)
        cursor = horizon
        while len(missed) < wanted:
            slot = cron.prev_before(cursor)
            if slot is None or slot < start:
                break
            missed.append(slot)
            cursor = slot
        missed.reverse()
        if schedule.catchup == "once" and on_time:
            missed = []  # an on-time slot fires now anyway: that is the catch-up
    return Plan(slots=missed + on_time, next_fire_at=following)


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_settings_of(schedule: Schedule) -> dict[str, Any]:
    """A stored schedule's branch and :class:`~jupyter_mlops.jobs.RunSettings`, by the names
    both :class:`RunSpec` (a run it fires) and ``ScheduleSpec`` (an edit of it) take."""
    return {
        "branch": schedule.branch,
        "parameters": dict(schedule.parameters or {}),
        "kernel": schedule.kernel_name,
        "gpus": schedule.gpus,
        "timeout": schedule.timeout_s,
        "tags": list(schedule.tags or []),
    }


def run_spec_for(
    schedule: Schedule,
    *,
    source: str,
    scheduled_for: datetime | None = None,
    run_id: str | None = None,
) -> RunSpec:
    """The run a schedule makes: its notebook, parameters, kernel, resources and branch;
    for a fired slot also the slot and the run id claimed with it."""
    return RunSpec(
        notebook=schedule.notebook_abspath,
        display_path=schedule.notebook_path,
        source=source,
        **run_settings_of(schedule),
        schedule_id=schedule.id,
        scheduled_for=scheduled_for,
        run_id=run_id,
    )


class Scheduler:
    """Fires due schedules through ``submit`` (normally ``JobService.submit``).

    ``clock`` and ``submit`` are injectable: tests drive :meth:`tick` with a fake clock,
    and the exactly-once tests and the benchmark record fires without starting kernels.
    ``reconcile`` (e.g. ``JobService.reconcile``) is called during housekeeping, so that
    the concurrency policy is not blocked forever by a run whose runner died while no
    server was around to notice.
    """

    def __init__(
        self,
        schedules: ScheduleStore,
        submit: SubmitFn,
        *,
        clock: Clock = utcnow,
        holder: str | None = None,
        poll_interval: float = 1.0,
        misfire_grace: float = 60.0,
        claim_timeout: float = 120.0,
        batch_size: int = 64,
        submit_workers: int = 4,
        maintenance_interval: float = 5.0,
        fire_retention: float = 7 * 24 * 3600.0,
        reconcile: Callable[[], Any] | None = None,
        triggers: TriggerWatcher | None = None,
        launch_pipeline: LaunchFn | None = None,
    ) -> None:
        self.schedules = schedules
        self.submit = submit
        self.clock = clock
        self.holder = holder or default_holder()
        self.poll_interval = poll_interval
        self.misfire_grace = misfire_grace
        self.claim_timeout = claim_timeout
        self.batch_size = batch_size
        self.submit_workers = max(1, submit_workers)
        self.maintenance_interval = maintenance_interval
        self.fire_retention = fire_retention
        self.reconcile = reconcile
        self.triggers = triggers
        """Event triggers looked at on every pass (same processes, same housekeeping)."""
        self.launch_pipeline = launch_pipeline
        """Starts the pipeline run of a pipeline schedule's slot
        (:func:`~.pipeline_target.pipeline_launcher`); None: such slots fail, saying so."""
        self._last_maintenance: datetime | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._async_wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- one pass ---------------------------------------------------------------------------

    def tick(self) -> float:
        """Fire everything due now; return how long to sleep before the next pass."""
        now = self.clock()
        if (
            self._last_maintenance is None
            or (now - self._last_maintenance).total_seconds() >= self.maintenance_interval
        ):
            self._last_maintenance = now
            self.maintain(now)
        # A read first: the claim is a write transaction, which on SQLite would take the
        # store's write lock every second even when nothing is due.
        earliest = self.schedules.earliest_next_fire()
        while earliest is not None and earliest <= now and not self._stopping.is_set():
            fires = self.schedules.claim_due(
                now,
                holder=self.holder,
                planner=self._plan,
                limit=self.batch_size,
                on_error=self._plan_failed,
            )
            if not fires:
                break
            for fire in fires:
                if fire.state == SKIPPED:
                    log.info("schedule %s slot %s %s", fire.schedule.id, fire.slot, fire.reason)
                elif fire.state == WAITING:
                    log.info("schedule %s slot %s waits (queue)", fire.schedule.id, fire.slot)
            self._submit_all([f for f in fires if f.state == PENDING])
            now = self.clock()
            earliest = self.schedules.earliest_next_fire()
        if self.schedules.has_waiting():
            self._submit_all(self.schedules.claim_waiting(self.clock(), holder=self.holder))
        delay = self._sleep_seconds()
        if self.triggers is not None and not self._stopping.is_set():
            delay = min(delay, self.triggers.tick())
        return delay

    def _sleep_seconds(self) -> float:
        earliest = self.schedules.earliest_next_fire()
        if earliest is None:
            return self.poll_interval
        wait = (earliest - self.clock()).total_seconds()
        # Overdue after a full pass: another scheduler holds it (or it just became due);
        # look again very soon, without spinning.
        return min(max(wait, 0.01), self.poll_interval)

    def _plan(self, schedule: Schedule, now: datetime) -> Plan:
        return plan_fires(schedule, now, misfire_grace=self.misfire_grace)

    def _plan_failed(self, schedule: Schedule, err: Exception) -> None:
        log.error("schedule %s paused: its next fire time cannot be computed: %s", schedule.id, err)

    def maintain(self, now: datetime) -> None:
        """Housekeeping by one leader at a time (a lease): record slots whose scheduler died
        between claim and submit as failed runs, forget old fire records, reconcile lost
        runs. All of it is also safe when two schedulers happen to do it at once."""
        try:
            ttl = max(3 * self.maintenance_interval, 15.0)
            if self.schedules.lease_holder(MAINTENANCE_LEASE, now) not in (None, self.holder):
                return  # another scheduler does it (a read: no write lock taken)
            if not self.schedules.acquire_lease(MAINTENANCE_LEASE, self.holder, ttl=ttl, now=now):
                return
            lost = self.schedules.recover_stale_fires(now, timeout=self.claim_timeout)
            if lost:
                log.warning("recorded %d claimed but never submitted slot(s): %s", len(lost), lost)
            self.schedules.prune_fires(now - timedelta(seconds=self.fire_retention))
            if self.triggers is not None:
                self.triggers.maintain(now)
            if self.reconcile is not None:
                self.reconcile()
        except Exception:
            log.exception("scheduler housekeeping failed")

    # -- submitting -------------------------------------------------------------------------

    def spec_for(self, fire: Fire) -> RunSpec:
        return run_spec_for(
            fire.schedule, source="schedule", scheduled_for=fire.slot, run_id=fire.run_id
        )

    def launch_for(self, fire: Fire) -> PipelineLaunch:
        schedule = fire.schedule
        return launch_of(
            schedule,
            fire.run_id,
            source="schedule",
            fired_by=schedule_fired_by(schedule.name, fire.slot),
            branch=schedule.branch,
        )

    def _fire(self, fire: Fire) -> bool:
        try:
            if fire.schedule.target == PIPELINE:
                if self.launch_pipeline is None:
                    raise RuntimeError("this scheduler was started without pipelines")
                self.launch_pipeline(self.launch_for(fire))
            else:
                self.submit(self.spec_for(fire))
        except Exception as err:
            reason = f"the scheduled run could not start: {err}"
            log.warning("schedule %s slot %s: %s", fire.schedule.id, fire.slot.isoformat(), err)
            self.schedules.record_failed_fire(fire, reason)
            return False
        log.info(
            "schedule %s fired slot %s as run %s",
            fire.schedule.id,
            fire.slot.isoformat(),
            fire.run_id,
        )
        return True

    def _fire_in_order(self, fires: Sequence[Fire]) -> list[Fire]:
        return [f for f in fires if self._fire(f)]

    def _submit_all(self, fires: Sequence[Fire]) -> None:
        """Submit in parallel across schedules, in slot order within each schedule."""
        if not fires:
            return
        groups: dict[str, list[Fire]] = {}
        for fire in sorted(fires, key=lambda f: f.slot):
            groups.setdefault(fire.schedule.id, []).append(fire)
        if len(groups) == 1 or self.submit_workers == 1:
            done = [f for group in groups.values() for f in self._fire_in_order(group)]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.submit_workers, "mlops-scheduler-submit")
            done = [f for ok in self._pool.map(self._fire_in_order, groups.values()) for f in ok]
        self.schedules.finish_fires(done)

    # -- loops ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the schedules now (e.g. one was just created); thread-safe."""
        self._wake.set()
        if self._loop is not None and self._async_wake is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._async_wake.set)

    def stop(self) -> None:
        self._stopping.set()
        self.wake()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Blocking loop until :meth:`stop` (signal handlers may call it)."""
        log.info("scheduler %s started", self.holder)
        try:
            while not self._stopping.is_set():
                try:
                    delay = self.tick()
                except Exception:
                    log.exception("scheduler pass failed; retrying")
                    delay = self.poll_interval
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            self.close()
            log.info("scheduler %s stopped", self.holder)

    async def run_async(self) -> None:
        """The same loop as an asyncio task: every pass runs in a thread."""
        self._loop = asyncio.get_running_loop()
        self._async_wake = asyncio.Event()
        log.info("scheduler %s started", self.holder)
        try:
            while not self._stopping.is_set():
                try:
                    delay = await asyncio.to_thread(self.tick)
                except Exception:
                    log.exception("scheduler pass failed; retrying")
                    delay = self.poll_interval
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._async_wake.wait(), timeout=delay)
                self._async_wake.clear()
        finally:
            await asyncio.to_thread(self.close)
            log.info("scheduler %s stopped", self.holder)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with contextlib.suppress(Exception):
            self.schedules.release_lease(MAINTENANCE_LEASE, self.holder)
