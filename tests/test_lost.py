"""Lost-run reconciliation kills only what provably is the run's, and ends hung runners.

* A recorded pid that now names another process (pid reuse after a reboot or a long
  uptime) is never signalled: the identity (``create_time`` plus the run's marker) must
  match, also when a read-only command (``jupyter mlops runs``) reconciles.
* A runner killed with SIGKILL leaves its daemonized processes to init; the reconciler
  finds them by the run's marker in their environment.
* A runner that is alive but stopped (SIGSTOP) is lost once its heartbeat is older than
  ``lost_after``, and a run past its timeout (plus ``timeout_grace``) is timed out from
  outside; both kill the run's processes first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.config import ENV_RUN_ID, Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.processes import hostname, started_since_boot
from jupyter_mlops.store import Run, RunStatus, RunStore
from jupyter_mlops.store.lost import reconcile_runs
from jupyter_mlops.store.types import utcnow

from .conftest import mlops
from .test_escapes import alive, start_daemon_run
from .test_runs import start_slow_run, wait_until


@pytest.fixture
def unrelated() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes that are not any run's; the test asserts they survive."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def start_unrelated(procs: list[subprocess.Popen[bytes]]) -> psutil.Process:
    proc = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    procs.append(proc)
    return psutil.Process(proc.pid)


def start_runner_look_alike(
    procs: list[subprocess.Popen[bytes]], run_id: str
) -> subprocess.Popen[bytes]:
    """A live process with the run's runner marker (the run id on its command line)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()", run_id],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    procs.append(proc)
    return proc


def running_row(store: RunStore, project: Path, run_id: str, **fields: object) -> Run:
    now = utcnow()
    values: dict[str, object] = {"started_at": now, "heartbeat_at": now, **fields}
    run = Run(
        id=run_id,
        created_at=now,
        status=RunStatus.RUNNING.value,
        notebook_path="x.ipynb",
        notebook_abspath="/x.ipynb",
        kernel_name="python3",
        seed=1,
        commit_sha="0" * 40,
        snapshot_ref=f"refs/mlops/runs/{run_id}",
        git_dir=str(project / ".git"),
        worktree=str(project),
        notebook_relpath="x.ipynb",
        runner_host=hostname(),
        **values,
    )
    store.create_run(run)
    return run


def test_a_reused_kernel_pid_is_never_killed(
    settings: Settings, store: RunStore, project: Path, unrelated: list[subprocess.Popen[bytes]]
) -> None:
    """The row's runner is gone and its pids now belong to unrelated processes: one with
    another start time, one with the recorded start time but without the run's marker."""
    reused_kernel = start_unrelated(unrelated)
    reused_runner = start_unrelated(unrelated)
    same_start_no_marker = start_unrelated(unrelated)
    running_row(
        store,
        project,
        "reusedpid001",
        runner_pid=reused_runner.pid,
        runner_create_time=started_since_boot(reused_runner.pid) - 3600,
        kernel_pid=reused_kernel.pid,
        kernel_create_time=started_since_boot(reused_kernel.pid) - 3600,
    )
    running_row(
        store,
        project,
        "reusedpid002",
        runner_pid=None,
        kernel_pid=same_start_no_marker.pid,
        kernel_create_time=started_since_boot(same_start_no_marker.pid),
        heartbeat_at=utcnow().replace(year=2020),
    )
    assert sorted(reconcile_runs(store, settings)) == ["reusedpid001", "reusedpid002"]
    first = store.require_run("reusedpid001")
    assert first.status == "lost"
    assert f"runner process {reused_runner.pid} died" in (first.status_reason or "")
    assert store.require_run("reusedpid002").status == "lost"
    for proc in (reused_kernel, reused_runner, same_start_no_marker):
        assert proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE


def test_read_only_commands_kill_nothing_unproven(
    settings: Settings, store: RunStore, project: Path, unrelated: list[subprocess.Popen[bytes]]
) -> None:
    reused = start_unrelated(unrelated)
    running_row(
        store,
        project,
        "reusedpid003",
        runner_pid=reused.pid,
        kernel_pid=reused.pid,
        kernel_create_time=started_since_boot(reused.pid) + 7200,
    )
    env = {**os.environ, **settings.runner_env()}
    listing = mlops("runs", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    assert store.require_run("reusedpid003").status == "lost"
    assert reused.is_running() and reused.status() != psutil.STATUS_ZOMBIE


def test_a_wall_clock_step_leaves_a_live_runner_alone(
    settings: Settings,
    store: RunStore,
    project: Path,
    unrelated: list[subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A clock step (NTP, a resumed VM) after a runner recorded its identity must not make
    it look like a reused pid: the reconciler would end its run as lost and kill it (a
    runner handed a queued run was killed so, once, in CI). psutil's epoch start times add
    the boot time as the wall clock sees it at each call; the step is made there, in this
    process only, since stepping the machine's clock is not for a test."""
    run_id = "clockstep001"
    runner = start_runner_look_alike(unrelated, run_id)
    running_row(
        store,
        project,
        run_id,
        runner_pid=runner.pid,
        runner_create_time=started_since_boot(runner.pid),
    )
    before = store.require_run(run_id).status
    stepped = psutil._pslinux.boot_time() + 5.0  # type: ignore[attr-defined]
    monkeypatch.setattr(psutil._pslinux, "boot_time", lambda: stepped)
    assert reconcile_runs(store, settings) == []
    assert store.require_run(run_id).status == before != "lost"
    assert runner.poll() is None


def test_an_epoch_start_time_of_an_earlier_version_still_proves_a_runner(
    settings: Settings, store: RunStore, project: Path, unrelated: list[subprocess.Popen[bytes]]
) -> None:
    """Rows written before the start was recorded in seconds since boot hold psutil's epoch
    ``create_time``; a run still going across the upgrade keeps its runner."""
    run_id = "epochstart01"
    runner = start_runner_look_alike(unrelated, run_id)
    epoch = psutil.Process(runner.pid).create_time()
    running_row(store, project, run_id, runner_pid=runner.pid, runner_create_time=epoch)
    assert reconcile_runs(store, settings) == []
    assert runner.poll() is None
    running_row(
        store, project, "epochstart02", runner_pid=runner.pid, runner_create_time=epoch - 60
    )
    assert reconcile_runs(store, settings) == ["epochstart02"]  # a minute off: not it
    assert runner.poll() is None


def test_a_daemon_of_a_runner_killed_with_sigkill_is_found_by_its_marker(
    settings: Settings, store: RunStore, project: Path, tmp_path: Path
) -> None:
    service = JobService(settings, store)
    sub, daemon = start_daemon_run(service, project, "daemon_setsid", tmp_path / "pids")
    run = store.require_run(sub.run.id)
    assert run.runner_pid is not None and run.runner_create_time is not None
    assert run.kernel_create_time is not None
    try:
        os.kill(run.runner_pid, signal.SIGKILL)
        assert sub.handle is not None
        sub.handle.wait(timeout=30)
        assert alive(daemon)  # re-parented to init: in no tree the reconciler walks
        assert service.reconcile() == [sub.run.id]
        assert store.require_run(sub.run.id).status == "lost"
        wait_until(lambda: not alive(daemon), timeout=30)
    finally:
        if alive(daemon):
            with contextlib.suppress(ProcessLookupError):
                os.kill(daemon, signal.SIGKILL)


def stopped_runner(service: JobService, project: Path, tmp_path: Path) -> tuple[str, list[int]]:
    """A real run of slow.ipynb whose runner is then stopped with SIGSTOP; its id and the
    pids of its runner, kernel and the kernel's child."""
    sub, kernel_pid, child_pid = start_slow_run(service, project, tmp_path)
    runner_pid = service.store.require_run(sub.run.id).runner_pid
    assert runner_pid is not None
    os.kill(runner_pid, signal.SIGSTOP)
    runner = psutil.Process(runner_pid)
    wait_until(lambda: runner.status() == psutil.STATUS_STOPPED, timeout=30)
    return sub.run.id, [runner_pid, kernel_pid, child_pid]


def ended_by_reconciling(service: JobService, run_id: str) -> Run:
    wait_until(lambda: run_id in service.reconcile(), timeout=120, interval=0.5)
    return service.store.require_run(run_id)


def test_a_stopped_runner_is_lost_and_its_processes_killed(
    settings: Settings, store: RunStore, project: Path, tmp_path: Path
) -> None:
    service = JobService(settings, store)
    run_id, pids = stopped_runner(service, project, tmp_path)
    try:
        run = ended_by_reconciling(service, run_id)
        assert run.status == "lost"
        assert "runner stopped responding: no heartbeat for" in (run.status_reason or "")
        wait_until(lambda: not any(alive(pid) for pid in pids), timeout=30)
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_runner_that_beats_again_is_not_killed(
    settings: Settings, store: RunStore, project: Path, tmp_path: Path
) -> None:
    """A stale heartbeat alone (as after the machine wakes from suspend) is not enough:
    the reconciler waits a few intervals for the live runner to beat before killing it."""
    service = JobService(settings, store)
    sub, kernel_pid, child_pid = start_slow_run(service, project, tmp_path)
    store.update_run(sub.run.id, heartbeat_at=utcnow().replace(year=2020))
    assert sub.run.id not in service.reconcile()
    run = store.require_run(sub.run.id)
    assert run.status == "running" and alive(kernel_pid) and alive(child_pid)
    service.cancel(sub.run.id)
    assert sub.handle is not None
    sub.handle.wait(timeout=120)
    assert store.require_run(sub.run.id).status == "cancelled"


def test_a_stopped_runners_timeout_is_enforced_from_outside(
    data_dir: Path, project: Path, tmp_path: Path
) -> None:
    """The runner is stopped before its own timer could fire; the row's timeout is then
    made short (the stopped runner cannot see that), so the reconciler's rule applies
    without waiting for a long timeout. ``lost_after`` is long: no heartbeat verdict."""
    settings = Settings(
        data_dir=data_dir, heartbeat_interval=0.5, lost_after=3600.0, timeout_grace=1.0
    )
    store = RunStore.from_settings(settings)
    service = JobService(settings, store)
    run_id, pids = stopped_runner(service, project, tmp_path)
    try:
        store.update_run(run_id, timeout_s=0.5)
        run = ended_by_reconciling(service, run_id)
        assert run.status == "timed_out"
        assert "enforced from outside the runner" in (run.status_reason or "")
        wait_until(lambda: not any(alive(pid) for pid in pids), timeout=30)
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        store.close()


def test_a_slot_claimed_by_a_dispatcher_that_died_before_starting_the_runner(
    settings: Settings, store: RunStore, project: Path, unrelated: list[subprocess.Popen[bytes]]
) -> None:
    """The window between a dispatcher's claim (``queued -> starting``, no runner pid yet)
    and the runner recording itself: while the claim is fresh the run is left alone; once
    its heartbeat is older than ``lost_after`` it is lost with a reason that says what
    happened, and a process carrying its marker (what such a runner would have started) is
    killed, while an unrelated one is not."""
    run = running_row(store, project, "claimednopid")
    store.update_run(run.id, status=RunStatus.QUEUED.value, started_at=None)
    claim = store.claim_slot(run.id, host=hostname(), max_concurrent=None, gpu_indices=[])
    assert claim.claimed and store.require_run(run.id).runner_pid is None
    bystander = start_unrelated(unrelated)
    marked = subprocess.Popen(
        ["sleep", "1000"], start_new_session=True, env={**os.environ, ENV_RUN_ID: run.id}
    )
    unrelated.append(marked)
    assert reconcile_runs(store, settings) == []
    assert store.require_run(run.id).status == "starting"
    store.update_run(run.id, heartbeat_at=utcnow().replace(year=2020))
    assert reconcile_runs(store, settings) == [run.id]
    lost = store.require_run(run.id)
    assert lost.status == "lost"
    assert "its slot was claimed but no runner recorded itself" in (lost.status_reason or "")
    assert "None" not in (lost.status_reason or "")
    wait_until(lambda: marked.poll() is not None, timeout=30)
    assert bystander.is_running() and bystander.status() != psutil.STATUS_ZOMBIE
