"""Each run in a cgroup v2 of its own: what escapes the subreaper and the marker dies too.

``daemon_scrubbed.ipynb`` starts a daemon that leaves the kernel's session (``setsid -f``)
and clears its environment (``env -i``), so it carries no run marker. While the runner
lives, the subreaper and the cgroup both hold it; once the runner is killed with SIGKILL,
only the cgroup does, and the reconciler must still kill it. These tests need a writable
cgroup v2 hierarchy (root, or a delegated cgroup), which CI's machines have; elsewhere the
subreaper and the marker are the containment (``tests/test_escapes.py``, ``test_lost.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.config import ENV_RUN_ID, Settings
from jupyter_mlops.jobs import JobService, RunSpec, Submission
from jupyter_mlops.processes import start_runner
from jupyter_mlops.run_cgroup import CGROUP_FILE, cgroup2_mount, own_cgroup
from jupyter_mlops.store import RunStatus, RunStore

from .test_escapes import alive, start_daemon_run
from .test_runs import wait_for, wait_until


def cgroup_usable() -> bool:
    """Whether this process may make a cgroup v2 under its own and move processes there."""
    mount = cgroup2_mount()
    mine = own_cgroup(mount) if mount else None
    if mine is None or not os.access(mine / "cgroup.procs", os.W_OK):
        return False
    probe = mine / f"jupyter-mlops-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return False
    return True


needs_cgroup = pytest.mark.skipif(
    not cgroup_usable(), reason="no writable cgroup v2 hierarchy on this machine"
)


@pytest.fixture
def service(settings: Settings, store: RunStore) -> JobService:
    return JobService(settings, store)


@pytest.fixture
def daemons() -> Iterator[list[int]]:
    """Pids the test saw; whatever of them survives a failed assertion is killed."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid) and psutil.Process(pid).name() == "sleep":
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start_scrubbed_daemon(
    service: JobService, project: Path, pid_dir: Path, daemons: list[int]
) -> tuple[Submission, int]:
    sub, pid = start_daemon_run(service, project, "daemon_scrubbed", pid_dir)
    daemons.append(pid)
    assert ENV_RUN_ID not in psutil.Process(pid).environ()  # the marker cannot find it
    return sub, pid


def run_cgroup(service: JobService, run_id: str) -> Path:
    run = service.store.require_run(run_id)
    assert run.run_dir is not None
    return Path((Path(run.run_dir) / CGROUP_FILE).read_text())


@needs_cgroup
def test_a_run_and_all_it_starts_live_in_its_cgroup_until_it_ends(
    service: JobService, project: Path, tmp_path: Path, daemons: list[int]
) -> None:
    sub, daemon = start_scrubbed_daemon(service, project, tmp_path / "pids", daemons)
    cgroup = run_cgroup(service, sub.run.id)
    mount = cgroup2_mount()
    assert mount is not None and cgroup.name == sub.run.id
    run = service.store.require_run(sub.run.id)
    assert run.runner_pid is not None and run.kernel_pid is not None
    for pid in (run.runner_pid, run.kernel_pid, daemon):
        assert own_cgroup(mount, pid) == cgroup
    assert own_cgroup(mount) != cgroup  # the submitting process stays where it was
    service.cancel(sub.run.id)
    ended = wait_for(service, sub, timeout=180)
    assert ended.status == RunStatus.CANCELLED.value, ended.status_reason
    wait_until(lambda: not alive(daemon), timeout=30)
    assert not cgroup.exists()
    assert not (Path(str(run.run_dir)) / CGROUP_FILE).exists()


@needs_cgroup
def test_a_daemon_without_the_marker_dies_when_its_killed_runner_is_reconciled(
    service: JobService, project: Path, tmp_path: Path, daemons: list[int]
) -> None:
    """Without the cgroup nothing finds this daemon: its runner (the subreaper) is gone,
    it is in no tree the reconciler walks and its environment has no marker."""
    sub, daemon = start_scrubbed_daemon(service, project, tmp_path / "pids", daemons)
    cgroup = run_cgroup(service, sub.run.id)
    runner_pid = service.store.require_run(sub.run.id).runner_pid
    assert runner_pid is not None
    os.kill(runner_pid, signal.SIGKILL)
    assert sub.handle is not None
    sub.handle.wait(timeout=30)
    assert alive(daemon) and psutil.Process(daemon).ppid() != runner_pid
    assert service.reconcile() == [sub.run.id]
    assert service.store.require_run(sub.run.id).status == RunStatus.LOST.value
    wait_until(lambda: not alive(daemon), timeout=30)
    assert not cgroup.exists()


def test_run_cgroup_off_keeps_the_runner_where_it_started(
    settings: Settings, store: RunStore, project: Path
) -> None:
    service = JobService(dataclasses.replace(settings, run_cgroup="off"), store)
    sub = service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb")))
    run = wait_for(service, sub, timeout=180)
    assert run.status == RunStatus.SUCCEEDED.value, run.status_reason
    run_dir = Path(str(run.run_dir))
    assert not (run_dir / CGROUP_FILE).exists()
    assert "no per-run cgroup (c.MLOps.run_cgroup = 'off')" in (run_dir / "runner.log").read_text()


def test_the_run_cgroup_setting_takes_auto_off_or_a_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jupyter_mlops.config import MLOps

    assert MLOps().settings().run_cgroup == "auto"
    assert MLOps(run_cgroup="OFF").settings().run_cgroup == "off"
    chosen = MLOps(run_cgroup="/sys/fs/cgroup/ml.slice/").settings().run_cgroup
    assert chosen == "/sys/fs/cgroup/ml.slice"
    with pytest.raises(ValueError, match="absolute cgroup v2 directory"):
        MLOps(run_cgroup="ml.slice")
    monkeypatch.setenv("JUPYTER_MLOPS_RUN_CGROUP", "off")  # how a runner receives it
    assert Settings.from_env().run_cgroup == "off"


@needs_cgroup
@pytest.mark.parametrize("group_dir", ["jupyter-mlops", "ml.slice"])
def test_a_new_run_removes_empty_cgroups_that_killed_runners_left(
    tmp_path: Path, group_dir: str
) -> None:
    """A runner killed with SIGKILL whose run nobody reconciles leaves its cgroup behind,
    empty. The next runner to start removes such leftovers once they are a minute old, and
    never one that a process is in or one just made (its runner is moving in). In a
    directory the setting names (``ml.slice``: a systemd slice that other software shares)
    it removes nothing but its own."""
    mount = cgroup2_mount()
    mine = own_cgroup(mount) if mount else None
    assert mine is not None
    top = mine / f"jupyter-mlops-sweep-{os.getpid()}"  # apart from the real runs' cgroups
    parent = top / group_dir
    parent.mkdir(parents=True)
    leftover, just_made, busy = (parent / name for name in ("leftover", "just_made", "busy"))
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        for cgroup in (leftover, just_made, busy):
            cgroup.mkdir()
        (busy / "cgroup.procs").write_text(str(sleeper.pid))
        an_hour_ago = time.time() - 3600
        for cgroup in (leftover, busy):
            os.utime(cgroup, (an_hour_ago, an_hour_ago))
        runner = (
            "import sys; from pathlib import Path; from jupyter_mlops.run_cgroup import RunCgroup\n"
            "cgroup, line = RunCgroup.enter('new_run', Path(sys.argv[1]), sys.argv[2])\n"
            "print(line); assert cgroup is not None; cgroup.close()\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", runner, str(tmp_path / "run"), str(parent)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        left = sorted(p.name for p in parent.iterdir() if p.is_dir())
        if group_dir == "jupyter-mlops":
            assert "removed 1 empty cgroups left by killed runners" in done.stdout
            assert left == ["busy", "just_made"]
        else:
            assert "removed" not in done.stdout and left == ["busy", "just_made", "leftover"]
        assert own_cgroup(mount, sleeper.pid) == busy and sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
        for cgroup in (leftover, just_made, busy, parent / "new_run", parent, top):
            wait_until(lambda c=cgroup: not c.exists() or not _has_procs(c), timeout=30)
            with contextlib.suppress(FileNotFoundError):
                cgroup.rmdir()


def _kernel_up_and_running(service: JobService, run_id: str) -> bool:
    run = service.store.require_run(run_id)
    return run.kernel_pid is not None and run.status == RunStatus.RUNNING.value


def _has_procs(cgroup: Path) -> bool:
    return bool((cgroup / "cgroup.procs").read_text().strip())


@needs_cgroup
def test_a_second_runner_of_a_running_run_leaves_its_cgroup_and_processes_alone(
    service: JobService, settings: Settings, project: Path, tmp_path: Path
) -> None:
    """What Dask does when a worker dies: it runs the task again, and a second runner of
    the run starts beside the first (still recording the loss, or still running). It finds
    the run taken and ends; the run's cgroup, the first runner and its kernel are not its."""
    gate = tmp_path / "gate"
    sub = service.submit(
        RunSpec(notebook=str(project / "notebooks/gated.ipynb"), parameters={"gate": str(gate)})
    )
    # The kernel's pid is recorded a moment before the run turns `running`: wait for both,
    # so that the status asserted below is the first runner's, untouched by the second.
    wait_until(lambda: _kernel_up_and_running(service, sub.run.id), 120)
    run = service.store.require_run(sub.run.id)
    cgroup = run_cgroup(service, run.id)
    env = {**os.environ, **settings.runner_env()}
    second = start_runner(run.id, Path(str(run.run_dir)), env)
    second.wait(timeout=120)
    log = (Path(str(run.run_dir)) / "runner.log").read_text()
    assert "holds another runner of this run" in log
    assert alive(run.runner_pid) and alive(run.kernel_pid)  # type: ignore[arg-type]
    assert run_cgroup(service, run.id) == cgroup and cgroup.exists()
    assert service.store.require_run(run.id).status == RunStatus.RUNNING.value
    gate.touch()
    done = wait_for(service, sub)
    assert done.status == RunStatus.SUCCEEDED.value, done.status_reason
    assert not cgroup.exists()
