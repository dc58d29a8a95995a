"""A queued run whose live runner hangs is lost, and the queue moves on.

* A runner waiting in ``queued`` beats from a thread of its own, also while its main
  thread imports the execution stack near the head of the queue, so a silent queued
  runner is hung (stopped, deadlocked), not busy: it is killed and its run ends as lost,
  found by the runner waiting behind it, with no server.
* A runner that does not beat yet but works (a young process spending CPU: importing on a
  loaded machine) is given time; a stopped or deadlocked one is not.
* A dispatcher's waiting runs keep beating while its loop is busy starting a runner.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.backends.dispatch import SlotDispatcher
from jupyter_mlops.backends.queue import QueuePolicy, SlotWaiter
from jupyter_mlops.config import Settings
from jupyter_mlops.processes import hostname, started_since_boot
from jupyter_mlops.run_cgroup import CGROUP_FILE
from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.lost import HUNG, lost_reason, reconcile_runs
from jupyter_mlops.store.types import utcnow

from . import test_scheduler
from .conftest import make_run
from .test_escapes import alive
from .test_queue import (  # noqa: F401
    Gates,
    gates,
    position,
    queue_settings,
    service_settings,
    service_with,
    wait_status,
)
from .test_runs import wait_for, wait_until

runs = test_scheduler.runs  # a store on SQLite and on PostgreSQL

QUEUED_HUNG = f"{HUNG} while the run was queued: no heartbeat for"


def runner_log(settings: Settings, run_id: str) -> str:
    path = settings.runs_dir / run_id / "runner.log"
    return path.read_text(errors="replace") if path.exists() else ""


def test_a_stopped_queued_runner_is_lost_and_the_queue_moves_on(
    gates: Gates,  # noqa: F811
    store: RunStore,
    queue_settings: Settings,  # noqa: F811
) -> None:
    """The head of the queue is stopped (SIGSTOP) while it waits; the slot frees up; the
    runner behind it finds the head hung, kills it, ends it as lost and takes the slot."""
    single = service_with(queue_settings, store, max_concurrent_runs=1)
    holder, gate_1 = gates.submit(service=single)
    wait_status(store, holder, "running")
    head, _ = gates.submit(service=single)
    behind, gate_3 = gates.submit(service=single)
    wait_until(lambda: "queued: waiting for" in runner_log(queue_settings, head.run.id), 90)
    assert (position(store, head), position(store, behind)) == (1, 2)
    runner_pid = store.require_run(head.run.id).runner_pid
    assert runner_pid is not None
    record = queue_settings.runs_dir / head.run.id / CGROUP_FILE  # its cgroup, if any
    cgroup = Path(record.read_text()) if record.exists() else None
    os.kill(runner_pid, signal.SIGSTOP)
    try:
        runner = psutil.Process(runner_pid)
        wait_until(lambda: runner.status() == psutil.STATUS_STOPPED, timeout=30)
        gate_1.touch()
        assert wait_for(single, holder).status == "succeeded"
        lost = wait_status(store, head, "lost", timeout=120)
        assert (lost.status_reason or "").startswith(QUEUED_HUNG), lost.status_reason
        wait_until(lambda: not alive(runner_pid), timeout=30)
        # a queued run has no run_dir in the store: its cgroup is found all the same
        assert not record.exists() and (cgroup is None or not cgroup.exists())
        started = wait_status(store, behind, "running", timeout=120)
        assert lost.finished_at is not None and started.started_at is not None
        assert started.started_at >= lost.finished_at
        events = [e.status for e in store.events(head.run.id, kind="status")]
        assert events == ["queued", "lost"]
        gate_3.touch()
        assert wait_for(single, behind).status == "succeeded"
    finally:
        if alive(runner_pid):
            os.kill(runner_pid, signal.SIGKILL)


# -- the rules, on SQLite and PostgreSQL -------------------------------------------------------


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def fake_runner(
    procs: list[subprocess.Popen[bytes]], run_id: str, code: str, *, ready: bool = True
) -> int:
    """A process that passes for the run's runner (the run id on its command line); with
    ``ready``, it has started (imported what it needs, written a line) when this returns,
    then runs ``code``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", f"print('up', flush=True)\n{code}", run_id],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    procs.append(proc)
    if ready:
        assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
    return proc.pid


SLEEP = "import time; time.sleep(600)"


def row(
    store: RunStore, run_id: str, status: RunStatus = RunStatus.QUEUED, **fields: object
) -> None:
    """A local run of this host in ``status`` (a store creates runs ``queued``)."""
    store.create_run(make_run(run_id, runner_host=hostname(), **fields))
    if status is not RunStatus.QUEUED:
        store.update_run(run_id, status=status.value)


def silent_row(store: RunStore, run_id: str, status: RunStatus, pid: int) -> None:
    """A local run on this host whose runner ``pid`` last beat an hour ago."""
    an_hour_ago = utcnow() - timedelta(hours=1)
    row(
        store,
        run_id,
        status,
        created_at=an_hour_ago,
        heartbeat_at=an_hour_ago,
        started_at=None if status is RunStatus.QUEUED else an_hour_ago,
        runner_pid=pid,
        runner_create_time=started_since_boot(pid),
    )


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.STARTING])
def test_a_silent_runner_that_works_is_starting_and_a_stopped_one_is_hung(
    runs: RunStore,
    settings: Settings,
    procs: list[subprocess.Popen[bytes]],
    status: RunStatus,
) -> None:
    """Busy, young and silent: still importing, left alone. Then stopped: killed, lost."""
    pid = fake_runner(procs, "busyrunner01", "while True: pass")
    silent_row(runs, "busyrunner01", status, pid)
    assert reconcile_runs(runs, settings) == []
    assert runs.require_run("busyrunner01").status == status.value and alive(pid)
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: psutil.Process(pid).status() == psutil.STATUS_STOPPED, timeout=30)
    assert reconcile_runs(runs, settings) == ["busyrunner01"]
    run = runs.require_run("busyrunner01")
    assert run.status == "lost"
    assert (run.status_reason or "").startswith(
        QUEUED_HUNG if status is RunStatus.QUEUED else f"{HUNG}: no heartbeat for"
    )
    wait_until(lambda: not alive(pid), timeout=30)


def test_a_deadlocked_queued_runner_is_hung(
    runs: RunStore, settings: Settings, procs: list[subprocess.Popen[bytes]]
) -> None:
    """Alive, not stopped, but doing nothing and not beating (a deadlock)."""
    pid = fake_runner(procs, "deadrunner01", SLEEP)
    silent_row(runs, "deadrunner01", RunStatus.QUEUED, pid)
    assert reconcile_runs(runs, settings) == ["deadrunner01"]
    run = runs.require_run("deadrunner01")
    assert run.status == "lost" and (run.status_reason or "").startswith(QUEUED_HUNG)
    wait_until(lambda: not alive(pid), timeout=30)


def test_a_runner_blocked_behind_a_stopped_one_gets_another_look(
    runs: RunStore,
    settings: Settings,
    procs: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    """A runner stopped in the middle of a write holds SQLite's lock, and the others'
    heartbeats wait on it: silent as well, until it dies. Here the wait is on a FIFO the
    stopped one holds open; once it is killed, the other one works again. The stopped
    one is judged first, the other gets another look after the kill and is spared (its
    row is listed first, so judging in list order would kill it)."""
    fifo = tmp_path / "held"
    os.mkfifo(fifo)
    blocked = fake_runner(
        procs, "blocked00001", f"open({str(fifo)!r}).read()\nwhile True: pass", ready=False
    )
    holder = fake_runner(
        procs, "holder000003", f"f = open({str(fifo)!r}, 'w')\nprint('held', flush=True)\n" + SLEEP
    )
    # stopped only once it holds the FIFO: stopped before its open (a loaded machine), it
    # would never hold it, and the blocked one would wait in its own open for good
    stdout = procs[-1].stdout
    assert stdout is not None and stdout.readline() == b"held\n"
    silent_row(runs, "blocked00001", RunStatus.QUEUED, blocked)
    silent_row(runs, "holder000003", RunStatus.QUEUED, holder)
    os.kill(holder, signal.SIGSTOP)
    wait_until(lambda: psutil.Process(holder).status() == psutil.STATUS_STOPPED, timeout=30)
    assert reconcile_runs(runs, settings) == ["holder000003"]
    assert runs.require_run("blocked00001").status == "queued" and alive(blocked)
    assert runs.require_run("holder000003").status == "lost"


def test_a_waiting_runner_beats_while_it_imports(runs: RunStore, data_dir: Path) -> None:
    """``near_head`` (the import of the execution stack) takes longer than ``lost_after``:
    the heartbeat goes on meanwhile, so the run is never taken for hung."""
    settings = Settings(data_dir=data_dir, heartbeat_interval=0.2, lost_after=0.6)
    here = hostname()
    row(runs, "holder000001", RunStatus.RUNNING)
    row(runs, "waiting00001")
    importing, imported, stop = threading.Event(), threading.Event(), threading.Event()

    def slow_import() -> None:
        importing.set()
        imported.wait(60)

    waiter = SlotWaiter(
        runs,
        "waiting00001",
        QueuePolicy(here, max_concurrent=1),
        settings=settings,
        stop_reason=lambda: "stopped by the test" if stop.is_set() else None,
        near_head=slow_import,
    )
    thread = threading.Thread(target=waiter.wait, daemon=True)
    thread.start()
    try:
        assert importing.wait(60)
        beats = set()
        deadline = time.monotonic() + 60
        while len(beats) < 4 and time.monotonic() < deadline:
            beats.add(runs.require_run("waiting00001").heartbeat_at)
            time.sleep(0.05)
        assert len(beats) >= 4  # three new beats while near_head still runs
        assert not imported.is_set() and thread.is_alive()
    finally:
        stop.set()  # first: once near_head returns, the waiter stops before it claims
        imported.set()
        thread.join(60)
    assert runs.require_run("waiting00001").status == "queued"


def test_a_dispatchers_waiting_runs_beat_while_it_starts_a_runner(
    runs: RunStore, settings: Settings
) -> None:
    """Starting one run's runner takes longer than ``lost_after`` (a loaded machine): the
    run waiting behind it keeps its heartbeat, so no other process's reconciler takes it
    for an orphan of a dead dispatcher."""
    fast = dataclasses.replace(settings, heartbeat_interval=0.2, lost_after=1.0)
    here = hostname()
    row(runs, "holder000002", RunStatus.RUNNING)
    row(runs, "first0000001")
    row(runs, "second000001")
    spawning, release = threading.Event(), threading.Event()

    def slow_spawn(run_id: str) -> subprocess.Popen[bytes]:
        spawning.set()
        release.wait(60)
        return subprocess.Popen(["true"])

    dispatcher = SlotDispatcher(runs, dataclasses.replace(fast, max_concurrent_runs=1), slow_spawn)
    first, second = dispatcher.submit("first0000001"), dispatcher.submit("second000001")
    assert dispatcher.waiting() == ["first0000001", "second000001"]
    try:
        runs.transition("holder000002", RunStatus.SUCCEEDED)
        dispatcher.wake()
        assert spawning.wait(60)
        blocked_since = time.monotonic()
        wait_until(lambda: time.monotonic() - blocked_since > 3 * fast.lost_after, timeout=60)
        waiting = runs.require_run("second000001")
        assert waiting.status == "queued"
        verdict = lost_reason(waiting, here=here, now=utcnow(), lost_after=fast.lost_after)
        assert verdict is None, verdict
    finally:
        release.set()
    assert first.wait(60) == 0
    dispatcher.hand_off(lambda run_id: subprocess.Popen(["true"]))
    del second
