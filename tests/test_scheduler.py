"""Cron schedules: DST-correct slots, exactly-once firing across scheduler processes on
SQLite and PostgreSQL, catch-up and concurrency policies, crashes between claim and
submit, branch (GitOps) schedules, real runs, and the REST API.

Most tests drive :meth:`Scheduler.tick` with an injected clock and a recording submit
(run rows, no kernels); the exactly-once tests run real scheduler *processes* in real
time; a few fire real notebook runs end to end.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from sqlalchemy import select, update

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec, Submission, new_run_id
from jupyter_mlops.scheduling import CronError, CronSchedule, Scheduler, plan_fires
from jupyter_mlops.scheduling.service import ScheduleError, ScheduleService, ScheduleSpec
from jupyter_mlops.store import Run, RunStatus, RunStore
from jupyter_mlops.store.models import Schedule, ScheduleFire
from jupyter_mlops.store.schedules import ScheduleStore

from . import test_rest as rest
from .conftest import (
    NOTEBOOKS,
    extension_server_config,
    fresh_pg_database,
    git,
    params_schedule_body,
    stop_active_runs,
    use_data_dir,
)
from .recording import recording_submit, start_recording_schedulers
from .scheduler_processes import stop_schedulers
from .test_runs import all_output_text, executed_notebook, wait_for

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def runs(db_url: str) -> Iterator[RunStore]:
    store = RunStore(db_url)
    yield store
    store.close()


@pytest.fixture
def schedules(runs: RunStore) -> ScheduleStore:
    return ScheduleStore(runs)


def add_schedule(
    store: ScheduleStore, now: datetime, cron: str = "*/5 * * * *", tz: str = "UTC", **fields: Any
) -> Schedule:
    """A schedule row without notebook validation (for the recording submit)."""
    values: dict[str, Any] = dict(
        id=new_run_id(),
        name="nightly",
        notebook_path="nb/train.ipynb",
        notebook_abspath="/nowhere/nb/train.ipynb",
        parameters={"lr": 0.1},
        tags=["sched"],
        gpus=0,
        cron=cron,
        timezone=tz,
        active=True,
        catchup="skip",
        max_catchup=10,
        concurrency="allow",
        created_at=now,
        updated_at=now,
        next_fire_at=CronSchedule.parse(cron, tz).next_after(now),
    )
    values.update(fields)
    return store.create(Schedule(**values))


def fired_slots(store: ScheduleStore, schedule_id: str) -> list[datetime]:
    return sorted(
        r.scheduled_for for r in store.runs_of(schedule_id, limit=10_000) if r.scheduled_for
    )


def make_scheduler(store: ScheduleStore, clock: FakeClock, submit: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
    return Scheduler(
        store,
        submit or recording_submit(store.runs),
        clock=clock,
        submit_workers=1,
        **kw,
    )


# -- cron in a time zone ------------------------------------------------------------------


def _reference_slots(expr: str, tz_name: str, start: datetime, end: datetime) -> list[datetime]:
    """Brute force over every UTC minute, with the documented DST rules."""
    cron = CronSchedule.parse(expr, tz_name)
    tz = ZoneInfo(tz_name)
    out: set[datetime] = set()
    u, prev_offset = start, None
    while u <= end:
        local = u.astimezone(tz)
        wall = local.replace(tzinfo=None)
        second_time = wall.replace(tzinfo=tz, fold=0).astimezone(UTC) != u
        if croniter.match(cron.expr, wall) and (cron.wildcard_hour or not second_time):
            out.add(u)
        offset = local.utcoffset()
        if prev_offset is not None and offset > prev_offset and not cron.wildcard_hour:
            gap = wall - (offset - prev_offset)  # wall times skipped by the jump
            while gap < wall:
                if croniter.match(cron.expr, gap):
                    out.add(u)
                gap += timedelta(minutes=1)
        prev_offset = offset
        u += timedelta(minutes=1)
    return sorted(out)


@pytest.mark.parametrize(
    ("expr", "tz"),
    [
        ("30 2 * * *", "Europe/Berlin"),
        ("0 * * * *", "Europe/Berlin"),
        ("*/20 * * * *", "Europe/Berlin"),
        ("*/15 2 * * *", "Europe/Berlin"),
        ("15 1-3 * * *", "Europe/Berlin"),
        ("45 1 * * *", "America/New_York"),
        ("*/7 * * * *", "Australia/Lord_Howe"),  # a 30-minute DST shift
        ("0,30 2 * * *", "Australia/Lord_Howe"),
    ],
)
def test_cron_slots_across_dst_match_brute_force(expr: str, tz: str) -> None:
    cron = CronSchedule.parse(expr, tz)
    windows = [utc(2026, 3, 28, 20), utc(2026, 10, 24, 20), utc(2026, 3, 7, 20)]
    windows += [utc(2026, 11, 1, 0), utc(2026, 4, 4, 10), utc(2026, 10, 3, 10)]
    for start in windows:
        end = start + timedelta(hours=12)
        expected = _reference_slots(expr, tz, start, end)
        assert cron.slots(start, end) == expected, (expr, tz, start)
        backwards, cursor = [], end + timedelta(microseconds=1)
        while (slot := cron.prev_before(cursor)) is not None and slot >= start:
            backwards.append(slot)
            cursor = slot
        assert backwards[::-1] == expected, (expr, tz, start)


def test_cron_berlin_daily_and_hourly_over_both_dst_changes() -> None:
    daily = CronSchedule.parse("30 2 * * *", "Europe/Berlin")
    spring = daily.slots(utc(2026, 3, 27, 12), utc(2026, 3, 31, 12))
    # 02:30 CET; 02:30 does not exist on the 29th: it runs when clocks jump (03:00 CEST)
    assert spring == [
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1),
        utc(2026, 3, 30, 0, 30),
        utc(2026, 3, 31, 0, 30),
    ]
    autumn = daily.slots(utc(2026, 10, 23, 12), utc(2026, 10, 26, 12))
    # 02:30 happens twice on the 25th: a daily job runs once, at the first one
    assert autumn == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]

    hourly = CronSchedule.parse("0 * * * *", "Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")

    def day(y: int, m: int, d: int) -> list[datetime]:
        start = datetime(y, m, d, tzinfo=berlin).astimezone(UTC)
        end = datetime(y, m, d + 1, tzinfo=berlin).astimezone(UTC) - timedelta(seconds=1)
        return hourly.slots(start, end)

    assert len(day(2026, 3, 29)) == 23  # every real hour of a 23-hour day
    assert len(day(2026, 10, 25)) == 25  # ... and of a 25-hour day
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(day(2026, 10, 25)))


def test_cron_seconds_field_and_errors() -> None:
    every2 = CronSchedule.parse("* * * * * */2", "UTC")
    assert every2.next_after(utc(2026, 1, 1, 0, 0, 1)) == utc(2026, 1, 1, 0, 0, 2)
    assert CronSchedule.parse("@daily", "UTC").expr == "0 0 * * *"
    for bad in ["", "61 * * * *", "* * *", "0 0 30 2 *", "@reboot", "a b c d e"]:
        with pytest.raises(CronError):
            CronSchedule.parse(bad, "UTC")
    with pytest.raises(CronError, match="unknown time zone"):
        CronSchedule.parse("0 3 * * *", "Mars/Olympus_Mons")


def test_plan_catchup_policies() -> None:
    now = utc(2026, 1, 5, 10, 42, 30)

    def plan(catchup: str, max_catchup: int = 10) -> list[datetime]:
        s = Schedule(
            cron="*/5 * * * *",
            timezone="UTC",
            catchup=catchup,
            max_catchup=max_catchup,
            next_fire_at=utc(2026, 1, 5, 10, 10),
            last_fired_slot=utc(2026, 1, 5, 10, 5),
        )
        result = plan_fires(s, now, misfire_grace=60)
        assert result.next_fire_at == utc(2026, 1, 5, 10, 45)
        return result.slots

    missed = [utc(2026, 1, 5, 10, m) for m in range(10, 45, 5)]
    assert plan("skip") == []
    assert plan("once") == [missed[-1]]
    assert plan("all", 3) == missed[-3:]
    assert plan("all", 100) == missed
    # late but within the grace: fired whatever the policy
    late = Schedule(
        cron="*/5 * * * *",
        timezone="UTC",
        catchup="skip",
        max_catchup=1,
        next_fire_at=utc(2026, 1, 5, 10, 40),
    )
    assert plan_fires(late, now, misfire_grace=180).slots == [utc(2026, 1, 5, 10, 40)]


# -- firing with an injected clock (SQLite and PostgreSQL) --------------------------------


@pytest.mark.parametrize("policy", ["skip", "once", "all"])
def test_catchup_after_the_scheduler_was_down(schedules: ScheduleStore, policy: str) -> None:
    clock = FakeClock(utc(2026, 1, 5, 10, 0, 30))
    s = add_schedule(schedules, clock.now, catchup=policy, max_catchup=3)
    first = make_scheduler(schedules, clock)
    first.tick()
    assert fired_slots(schedules, s.id) == []
    clock.now = utc(2026, 1, 5, 10, 5, 0, 200_000)
    first.tick()
    assert fired_slots(schedules, s.id) == [utc(2026, 1, 5, 10, 5)]
    first.close()  # stopped: 10:10 ... 10:40 are missed

    clock.now = utc(2026, 1, 5, 10, 42, 30)
    restarted = make_scheduler(schedules, clock)
    restarted.tick()
    restarted.tick()  # a second pass fires nothing more
    caught_up = fired_slots(schedules, s.id)[1:]
    expected = {
        "skip": [],
        "once": [utc(2026, 1, 5, 10, 40)],
        "all": [utc(2026, 1, 5, 10, m) for m in (30, 35, 40)],
    }[policy]
    assert caught_up == expected
    row = schedules.require(s.id)
    assert row.next_fire_at == utc(2026, 1, 5, 10, 45)
    clock.now = utc(2026, 1, 5, 10, 45, 0, 300_000)
    restarted.tick()
    assert fired_slots(schedules, s.id)[-1] == utc(2026, 1, 5, 10, 45)
    runs = schedules.runs_of(s.id)
    assert all(r.schedule_id == s.id and r.source == "schedule" for r in runs)
    assert schedules.require(s.id).last_run_id == runs[0].id
    restarted.close()


def test_pause_and_resume(schedules: ScheduleStore, settings: Settings) -> None:
    clock = FakeClock(utc(2026, 1, 5, 10, 0, 30))
    service = ScheduleService(JobService(settings, schedules.runs), clock=clock)
    once = add_schedule(schedules, clock.now, catchup="once")
    skip = add_schedule(schedules, clock.now, catchup="skip")
    scheduler = make_scheduler(schedules, clock)
    for s in (once, skip):
        assert service.pause(s.id).active is False
    for minute in (5, 10, 15, 20):
        clock.now = utc(2026, 1, 5, 10, minute, 1)
        scheduler.tick()
    assert fired_slots(schedules, once.id) == fired_slots(schedules, skip.id) == []
    assert service.get(once.id)["next_fire_at"] is None  # paused: nothing is due

    clock.now = utc(2026, 1, 5, 10, 22, 30)
    for s in (once, skip):
        assert service.resume(s.id).active is True
    scheduler.tick()
    assert fired_slots(schedules, once.id) == [utc(2026, 1, 5, 10, 20)]  # latest missed
    assert fired_slots(schedules, skip.id) == []
    clock.now = utc(2026, 1, 5, 10, 25, 0, 500_000)
    scheduler.tick()
    assert fired_slots(schedules, skip.id) == [utc(2026, 1, 5, 10, 25)]
    assert service.get(skip.id)["next_fire_at"] == "2026-01-05T10:30:00+00:00"


def test_concurrency_skip_and_queue(schedules: ScheduleStore) -> None:
    clock = FakeClock(utc(2026, 1, 5, 10, 0, 30))
    skip = add_schedule(schedules, clock.now, concurrency="skip")
    queue = add_schedule(schedules, clock.now, concurrency="queue")
    allow = add_schedule(schedules, clock.now, concurrency="allow")
    running = recording_submit(schedules.runs, status=RunStatus.RUNNING)
    scheduler = make_scheduler(schedules, clock, running)
    for minute in (5, 10):
        clock.now = utc(2026, 1, 5, 10, minute, 0, 100_000)
        scheduler.tick()
    assert fired_slots(schedules, allow.id) == [utc(2026, 1, 5, 10, 5), utc(2026, 1, 5, 10, 10)]
    assert fired_slots(schedules, skip.id) == [utc(2026, 1, 5, 10, 5)]
    assert fired_slots(schedules, queue.id) == [utc(2026, 1, 5, 10, 5)]
    first = schedules.runs_of(skip.id)[0].id
    skipped = [f for f in schedules.fires(skip.id) if f.state == "skipped"]
    assert len(skipped) == 1 and skipped[0].slot == utc(2026, 1, 5, 10, 10)
    assert f"run {first} is still active" in (skipped[0].reason or "")
    assert [f.state for f in schedules.fires(queue.id)] == ["waiting", "done"]

    for sid in (skip.id, queue.id):  # the first runs end
        for run in schedules.runs_of(sid):
            assert schedules.runs.transition(run.id, RunStatus.SUCCEEDED)
    clock.now = utc(2026, 1, 5, 10, 11)
    scheduler.tick()  # the queued 10:10 slot starts now; skip has nothing waiting
    assert fired_slots(schedules, queue.id)[-1] == utc(2026, 1, 5, 10, 10)
    assert len(fired_slots(schedules, skip.id)) == 1
    clock.now = utc(2026, 1, 5, 10, 15, 0, 100_000)
    scheduler.tick()
    assert fired_slots(schedules, skip.id)[-1] == utc(2026, 1, 5, 10, 15)
    assert len(fired_slots(schedules, queue.id)) == 2  # 10:15 waits for 10:10's run


def test_crash_between_claim_and_submit_is_recorded_not_lost(schedules: ScheduleStore) -> None:
    clock = FakeClock(utc(2026, 1, 5, 10, 0, 30))
    s = add_schedule(schedules, clock.now)
    clock.now = utc(2026, 1, 5, 10, 5, 0, 100_000)
    # A scheduler claims the slot and dies before submitting.
    claimed = schedules.claim_due(
        clock.now,
        holder="dead-host:123",
        planner=lambda row, now: plan_fires(row, now, misfire_grace=60),
    )
    assert [(f.slot, f.state) for f in claimed] == [(utc(2026, 1, 5, 10, 5), "pending")]
    survivor = make_scheduler(schedules, clock, claim_timeout=120)
    survivor.tick()  # nothing to fire: the slot is claimed; too early to call it lost
    assert schedules.runs_of(s.id) == []

    clock.advance(seconds=125)
    survivor.maintain(clock.now)
    (run,) = schedules.runs_of(s.id)
    assert run.id == claimed[0].run_id and run.status == "failed"
    assert run.scheduled_for == utc(2026, 1, 5, 10, 5)
    assert "dead-host:123" in (run.status_reason or "")
    assert "did not submit" in (run.status_reason or "")
    assert {p.name: json.loads(p.value_json) for p in run.params} == {"lr": 0.1}
    events = schedules.runs.events(run.id)
    assert [(e.status, e.message) for e in events] == [("failed", run.status_reason)]

    # The "dead" scheduler was only slow: its late submit collides, nothing runs twice.
    late = survivor.spec_for(claimed[0])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate|constraint"):
        recording_submit(schedules.runs)(late)
    assert survivor._fire(claimed[0]) is False
    assert [r.id for r in schedules.runs_of(s.id)] == [run.id]
    assert schedules.fires(s.id)[0].state == "done"


def test_claims_race_between_threads_fire_each_slot_once(schedules: ScheduleStore) -> None:
    start = utc(2026, 1, 5, 10, 0, 30)
    ids = [add_schedule(schedules, start, cron="* * * * *").id for _ in range(10)]
    clock = FakeClock(start)
    workers = [make_scheduler(schedules, clock, holder=f"t{i}") for i in range(6)]
    for minute in range(1, 6):
        clock.now = start + timedelta(minutes=minute)
        barrier = threading.Barrier(len(workers))
        errors: list[BaseException] = []

        def work(
            scheduler: Scheduler,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            barrier.wait()
            try:
                scheduler.tick()
            except BaseException as err:  # pragma: no cover - reported below
                errors.append(err)

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
    for sid in ids:
        assert fired_slots(schedules, sid) == [utc(2026, 1, 5, 10, m) for m in range(1, 6)]
    for w in workers:
        w.close()


def test_dst_berlin_schedule_fires_on_the_right_instants(schedules: ScheduleStore) -> None:
    clock = FakeClock(utc(2026, 10, 23, 12))
    daily = add_schedule(schedules, clock.now, cron="30 2 * * *", tz="Europe/Berlin")
    hourly = add_schedule(schedules, clock.now, cron="0 * * * *", tz="Europe/Berlin")
    scheduler = make_scheduler(schedules, clock)
    while True:  # a perfect scheduler: wake exactly at each due time
        due = schedules.earliest_next_fire()
        assert due is not None
        if due > utc(2026, 10, 26, 12):
            break
        clock.now = due + timedelta(milliseconds=300)
        scheduler.tick()
    assert fired_slots(schedules, daily.id) == [
        utc(2026, 10, 24, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST; the second 02:30 (CET) does not fire again
        utc(2026, 10, 26, 1, 30),  # 02:30 CET
    ]
    berlin = ZoneInfo("Europe/Berlin")
    local_day = [
        s
        for s in fired_slots(schedules, hourly.id)
        if s.astimezone(berlin).date() == datetime(2026, 10, 25).date()
    ]
    assert len(local_day) == 25  # both 02:00s fire: an hourly job runs every real hour
    runs = {r.scheduled_for: r for r in schedules.runs_of(daily.id, limit=100)}
    assert set(runs) == set(fired_slots(schedules, daily.id))


# -- exactly once across scheduler processes ------------------------------------------------


def _exactly_once(url: str) -> None:
    store = RunStore(url)
    schedules = ScheduleStore(store)
    try:
        now = datetime.now(UTC)
        first = CronSchedule.parse("* * * * * */2", "UTC").next_after(now + timedelta(seconds=2))
        ids = [
            add_schedule(schedules, now, cron="* * * * * */2", next_fire_at=first).id
            for _ in range(5)
        ]
        procs = start_recording_schedulers(url, 3, prefix="proc")
        try:
            deadline = first + timedelta(seconds=12)
            time.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()))
            with store.writing() as session:  # a clean end: no slot half-way at shutdown
                for row in session.scalars(select(Schedule)).all():
                    row.active = False
            time.sleep(1.5)
        finally:
            stop_schedulers(procs)

        with store.reading() as session:
            rows = session.execute(
                select(Run.schedule_id, Run.scheduled_for, Run.created_at, Run.id)
            ).all()
            fires = session.scalars(select(ScheduleFire)).all()
        per_slot = Counter((sid, slot) for sid, slot, _, _ in rows)
        duplicates = {k: n for k, n in per_slot.items() if n != 1}
        assert duplicates == {}, duplicates
        step = timedelta(seconds=2)
        for sid in ids:
            slots = sorted(slot for s, slot in per_slot if s == sid)
            assert len(slots) >= 5, slots
            assert slots[0] == first
            assert all(b - a == step for a, b in itertools.pairwise(slots)), slots  # no gap
        assert all(f.state == "done" for f in fires)
        assert {f.run_id for f in fires} == {r[3] for r in rows}
        delays = sorted((created - slot).total_seconds() for _, slot, created, _ in rows)
        assert delays[0] >= 0
        # how soon after its slot a run is created is a figure, not a correctness rule:
        # bench/scheduler.py measures it (a loaded machine may take seconds)
        assert len({f.holder for f in fires}) >= 1
    finally:
        store.close()


def test_exactly_once_three_processes_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    RunStore(url).close()  # migrated once, before the workers start
    _exactly_once(url)


@pytest.mark.postgres
def test_exactly_once_three_processes_postgresql(postgres_server: str) -> None:
    url = fresh_pg_database(postgres_server)
    RunStore(url).close()
    _exactly_once(url)


# -- real runs ----------------------------------------------------------------------------


@pytest.fixture
def local_store(settings: Settings) -> Iterator[RunStore]:
    store = RunStore.from_settings(settings)
    yield store
    stop_active_runs(store)
    store.close()


class Recorder:
    """JobService.submit, keeping the submissions so tests can wait for the runners."""

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs
        self.submissions: list[Submission] = []

    def __call__(self, spec: RunSpec) -> Submission:
        submission = self.jobs.submit(spec)
        self.submissions.append(submission)
        return submission

    def wait(self, store: RunStore, timeout: float = 120) -> list[Run]:
        out = []
        for sub in self.submissions:
            if sub.handle is not None:
                sub.handle.wait(timeout=timeout)
            out.append(store.require_run(sub.run.id))
        return out


def test_scheduled_run_fires_end_to_end_in_real_time(
    settings: Settings, local_store: RunStore, project: Path
) -> None:
    jobs = JobService(settings, local_store)
    service = ScheduleService(jobs)
    schedule = service.create(
        ScheduleSpec(
            notebook=str(project / "notebooks/params.ipynb"),
            cron="* * * * * */2",
            timezone="Europe/Berlin",
            raw_parameters={"epochs": "9"},
            tags=["nightly"],
            concurrency="skip",
        )
    )
    recorder = Recorder(jobs)
    scheduler = Scheduler(service.schedules, recorder, poll_interval=0.5)
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not recorder.submissions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert recorder.submissions, "no slot fired within 30 s"
        service.pause(schedule.id)
    finally:
        scheduler.stop()
        thread.join(30)
    assert not thread.is_alive()
    first = recorder.wait(local_store)[0]
    assert first.status == "succeeded", first.status_reason
    assert first.schedule_id == schedule.id and first.source == "schedule"
    assert first.scheduled_for is not None and first.scheduled_for.second % 2 == 0
    assert first.scheduled_for.microsecond == 0
    assert first.created_at >= first.scheduled_for  # the delay: bench/scheduler.py
    assert {p.name: json.loads(p.value_json) for p in first.params}["epochs"] == 9
    assert [t.tag for t in first.tags] == ["nightly"]
    assert "'epochs': 9" in all_output_text(executed_notebook(jobs, first.id))
    assert service.schedules.fires(schedule.id)[-1].run_id == first.id


def test_branch_schedule_runs_the_branch_head_not_the_working_copy(
    settings: Settings, local_store: RunStore, project: Path
) -> None:
    import nbformat

    notebook = project / "notebooks/params.ipynb"
    head = git(project, "rev-parse", "main")
    jobs = JobService(settings, local_store)
    clock = FakeClock(datetime.now(UTC))
    service = ScheduleService(jobs, clock=clock)
    schedule = service.create(
        ScheduleSpec(
            notebook=str(notebook),
            cron="*/5 * * * *",
            timezone="UTC",
            branch="main",
            raw_parameters={"name": "from-branch"},
        )
    )
    assert service.get(schedule.id)["source"] == "branch"
    # The working copy now differs: an edit that would fail, then the file is gone.
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[2].source = "raise RuntimeError('uncommitted edit')"
    nbformat.write(nb, notebook)
    recorder = Recorder(jobs)
    scheduler = Scheduler(service.schedules, recorder, clock=clock, submit_workers=1)
    clock.now = schedule.next_fire_at + timedelta(milliseconds=200)
    scheduler.tick()
    notebook.unlink()
    clock.now = service.schedules.require(schedule.id).next_fire_at + timedelta(milliseconds=200)
    scheduler.tick()
    runs = recorder.wait(local_store)
    assert len(runs) == 2
    for run in runs:
        assert run.status == "succeeded", run.status_reason
        assert run.commit_sha == head and run.branch == "main" and run.dirty is False
        assert git(project, "rev-parse", f"refs/mlops/runs/{run.id}") == head
        assert "'name': 'from-branch'" in all_output_text(executed_notebook(jobs, run.id))
    assert git(project, "status", "--porcelain") == "D notebooks/params.ipynb"

    # The branch is removed: the next slot records a failed run saying so.
    git(project, "checkout", "-q", "-b", "other")
    git(project, "branch", "-D", "main")
    clock.now = service.schedules.require(schedule.id).next_fire_at + timedelta(milliseconds=200)
    scheduler.tick()
    failed = service.schedules.runs_of(schedule.id)[0]
    assert failed.status == "failed" and "unknown branch 'main'" in (failed.status_reason or "")


def test_deleted_notebook_records_failed_runs_and_later_slots_still_fire(
    settings: Settings, local_store: RunStore, project: Path
) -> None:
    notebook = project / "notebooks/trivial.ipynb"
    jobs = JobService(settings, local_store)
    clock = FakeClock(datetime.now(UTC))
    service = ScheduleService(jobs, clock=clock)
    schedule = service.create(
        ScheduleSpec(notebook=str(notebook), cron="0 * * * *", timezone="UTC")
    )
    recorder = Recorder(jobs)
    scheduler = Scheduler(service.schedules, recorder, clock=clock, submit_workers=1)
    backup = notebook.read_bytes()
    notebook.unlink()

    def fire_next() -> Run:
        clock.now = service.schedules.require(schedule.id).next_fire_at + timedelta(seconds=1)
        scheduler.tick()
        return service.schedules.runs_of(schedule.id)[0]

    missing = [fire_next(), fire_next()]
    for run in missing:
        assert run.status == "failed" and run.scheduled_for is not None
        assert "could not start" in (run.status_reason or "")
        assert "not found" in (run.status_reason or "").lower()
    assert missing[0].scheduled_for + timedelta(hours=1) == missing[1].scheduled_for
    detail = service.detail(schedule.id)
    assert detail["last_run_status"] == "failed" and detail["active"] is True

    notebook.write_bytes(backup)
    restored = fire_next()
    assert restored.scheduled_for == missing[1].scheduled_for + timedelta(hours=1)
    (run,) = recorder.wait(local_store)
    assert run.id == restored.id and run.status == "succeeded", run.status_reason


def test_views_show_a_just_submitted_slot_run_as_the_last_run(
    settings: Settings, db_url: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between submitting a slot's run and recording it as the schedule's last run the
    scheduler writes twice; no view may list a run and say there is none."""
    monkeypatch.setenv("JUPYTER_MLOPS_DB_URL", db_url)  # the runner's store too
    local_store = RunStore(db_url)
    service = ScheduleService(
        JobService(dataclasses.replace(settings, db_url=db_url), local_store, root_dir=project)
    )
    created = service.create(
        ScheduleSpec(notebook="notebooks/trivial.ipynb", cron="0 3 * * *", timezone="UTC")
    )
    submitted = service.run_now(created.id)
    with local_store.writing() as session:  # the state right after the submit
        session.execute(update(Schedule).where(Schedule.id == created.id).values(last_run_id=None))
    detail = service.detail(created.id)
    assert [r["id"] for r in detail["runs"]] == [submitted.run.id]
    assert detail["last_run_id"] == submitted.run.id
    assert detail["last_run_status"] == detail["runs"][0]["status"]
    assert service.get(created.id)["last_run_id"] == submitted.run.id
    listed = {s["id"]: s for s in service.list()}[created.id]
    assert listed["last_run_id"] == submitted.run.id
    assert listed["last_run_status"] is not None
    wait_for(service.jobs, submitted)
    local_store.close()


def test_service_validation_writes_nothing(
    settings: Settings, local_store: RunStore, project: Path
) -> None:
    service = ScheduleService(JobService(settings, local_store, root_dir=project))
    good = {"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "timezone": "UTC"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cron": "0 25 * * *"}, "invalid cron"),
        ({"timezone": "Europe/Atlantis"}, "unknown time zone"),
        ({"notebook": "notebooks/missing.ipynb"}, "does not exist"),
        ({"notebook": "helpers.py"}, "not a notebook"),
        ({"notebook": "/etc/passwd.ipynb"}, "outside the server's root"),
        ({"branch": "no-such-branch"}, "unknown branch"),
        ({"parameters": {"epochs": "many"}}, "epochs"),
        ({"parameters": {"nope": 1}}, "unknown parameter"),
        ({"kernel": "no-such-kernel"}, "no-such-kernel"),
        ({"catchup": "sometimes"}, "catch-up"),
        ({"max_catchup": 0}, "max_catchup"),
        ({"concurrency": "parallel"}, "concurrency"),
        ({"timeout": -1}, "timeout"),
    ]
    for override, message in cases:
        with pytest.raises(ValueError, match=message):
            service.create(ScheduleSpec(**{**good, **override}))
    assert service.list() == []
    with pytest.raises(ScheduleError):
        service.create(ScheduleSpec(**{**good, "notebook": " "}))
    created = service.create(ScheduleSpec(**good, parameters={"epochs": 4}))
    assert created.notebook_path == "notebooks/params.ipynb"
    edited = service.update(created.id, {"cron": "*/10 * * * *", "timezone": "Asia/Tokyo"})
    assert edited.cron == "*/10 * * * *" and edited.next_fire_at is not None
    with pytest.raises(ValueError, match="unknown parameter"):
        service.update(created.id, {"parameters": {"nope": 1}})
    assert service.get(created.id)["parameters"] == {"epochs": 4}
    service.delete(created.id)
    assert service.list() == []


# -- REST and the scheduler inside the server -----------------------------------------------


@pytest.fixture
def jp_server_config(
    jp_root_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    use_data_dir(tmp_path / "mlops-data", monkeypatch)
    shutil.copytree(NOTEBOOKS, jp_root_dir / "notebooks")
    return extension_server_config(jp_root_dir)


api = rest.api  # the fixture sapi wraps


@pytest.fixture
def sapi(api: Any) -> Any:
    """test_rest.py's client (status and error bodies checked), without the spec check;
    an error must also say what went wrong."""

    async def call(
        method: str, path: str, *, body: Any = None, expect: int = 200, headers: Any = None
    ) -> Any:
        resp = await api(method, path, body=body, expect=expect, headers=headers)
        if resp.code >= 400:
            assert resp.data["message"]
        return resp

    return call


async def test_rest_schedules_crud_validation_and_run_now(sapi: Any, mlops: Any) -> None:
    import asyncio

    created = await sapi("POST", "/schedules", body=params_schedule_body("rest"), expect=201)
    s = created.data
    assert created.headers["Location"].endswith(f"/mlops/api/schedules/{s['id']}")
    assert s["notebook"] == "notebooks/params.ipynb" and s["source"] == "working_copy"
    assert s["parameters"] == {"epochs": 2, "name": "rest"}
    assert s["next_fire_at"] and s["active"] is True and s["last_run_id"] is None

    listed = (await sapi("GET", "/schedules")).data["schedules"]
    assert [x["id"] for x in listed] == [s["id"]]
    assert {"next_fire_at", "last_run_id", "last_run_status"} <= set(listed[0])

    for body, status, message in [
        ({"notebook": "notebooks/params.ipynb", "cron": "0 3 * *"}, 400, "cron"),
        (
            {"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "timezone": "X/Y"},
            400,
            "zone",
        ),
        ({"notebook": "notebooks/missing.ipynb", "cron": "0 3 * * *"}, 404, "missing.ipynb"),
        ({"notebook": "../outside.ipynb", "cron": "0 3 * * *"}, 403, ".."),
        (
            {"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "branch": "gone"},
            400,
            "unknown branch",
        ),
        (
            {"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "parameters": {"x": 1}},
            400,
            "unknown parameter",
        ),
        ({"notebook": "notebooks/params.ipynb"}, 400, "cron required"),
        ({"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "gpus": "2"}, 400, "gpus"),
        ({"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "colour": 1}, 400, "colour"),
    ]:
        resp = await sapi("POST", "/schedules", body=body, expect=status)
        assert message in resp.data["message"], resp.data
    assert len((await sapi("GET", "/schedules")).data["schedules"]) == 1

    paused = (await sapi("PATCH", f"/schedules/{s['id']}", body={"active": False})).data
    assert paused["active"] is False and paused["next_fire_at"] is None
    edited = (
        await sapi("PATCH", f"/schedules/{s['id']}", body={"active": True, "cron": "15 4 * * 1-5"})
    ).data
    assert edited["active"] is True and edited["cron"] == "15 4 * * 1-5"
    assert (
        datetime.fromisoformat(edited["next_fire_at"])
        .astimezone(ZoneInfo("Europe/Berlin"))
        .strftime("%H:%M")
        == "04:15"
    )
    await sapi("PATCH", f"/schedules/{s['id']}", body={"cron": "nope"}, expect=400)
    await sapi("PATCH", f"/schedules/{s['id']}", body={}, expect=400)
    await sapi("GET", "/schedules/0123456789ab", expect=404)
    await sapi("POST", "/schedules/0123456789ab/run", expect=404)

    run = (await sapi("POST", f"/schedules/{s['id']}/run", expect=201)).data
    assert run["parameters"]["epochs"] == 2 and run["tags"] == ["rest"]
    assert run["notebook"] == "notebooks/params.ipynb" and run["source"] == "ui"
    stored = await asyncio.to_thread(mlops.store.require_run, run["id"])
    assert stored.schedule_id == s["id"] and stored.scheduled_for is None
    detail = (await sapi("GET", f"/schedules/{s['id']}")).data
    assert detail["last_run_id"] == run["id"] and len(detail["upcoming"]) == 5
    assert [r["id"] for r in detail["runs"]] == [run["id"]]

    anonymous = {"Authorization": ""}
    for method, path in [
        ("GET", "/schedules"),
        ("POST", "/schedules"),
        ("GET", f"/schedules/{s['id']}"),
        ("PATCH", f"/schedules/{s['id']}"),
        ("DELETE", f"/schedules/{s['id']}"),
        ("POST", f"/schedules/{s['id']}/run"),
    ]:
        await sapi(method, path, headers=anonymous, expect=403)

    await sapi("DELETE", f"/schedules/{s['id']}", expect=204)
    await sapi("GET", f"/schedules/{s['id']}", expect=404)
    gone = await asyncio.to_thread(mlops.store.require_run, run["id"])
    assert gone.schedule_id is None  # runs outlive their schedule


async def test_server_scheduler_fires_a_schedule(sapi: Any, mlops: Any) -> None:
    import asyncio

    s = (
        await sapi(
            "POST",
            "/schedules",
            body={
                "notebook": "notebooks/trivial.ipynb",
                "cron": "* * * * * */2",
                "timezone": "UTC",
                "concurrency": "skip",
            },
            expect=201,
        )
    ).data
    deadline = time.monotonic() + 30
    while True:
        detail = (await sapi("GET", f"/schedules/{s['id']}")).data
        if detail["runs"]:
            break
        assert time.monotonic() < deadline, "the server's scheduler did not fire"
        await asyncio.sleep(0.2)
    await sapi("PATCH", f"/schedules/{s['id']}", body={"active": False})
    run = detail["runs"][-1]
    slot = datetime.fromisoformat(run["scheduled_for"])
    assert slot.second % 2 == 0
    assert datetime.fromisoformat(run["created_at"]) >= slot  # the delay: bench/scheduler.py
    stored = await asyncio.to_thread(mlops.store.require_run, run["id"])
    assert stored.notebook_path == "notebooks/trivial.ipynb"  # the schedule's path
    assert stored.schedule_id == s["id"] and stored.source == "schedule"
