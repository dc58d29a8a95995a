"""Fault sweep: inject the faults an SRE would try, check that no run or data point is lost.

Each scenario uses real parts (detached runners, kernels, papermill, one SQLite store in a
temporary data directory) and has a deadline of its own, so the sweep stays bounded
(about two minutes on a loaded 2-core machine):

* the server (a process holding a JobService that submitted the run) SIGKILLed mid-run:
  the detached run still succeeds;
* the runner SIGKILLed: the run is lost with a reason and its kernel tree is killed;
* the runner stopped with SIGSTOP: lost once its heartbeat is stale, its processes gone;
* the runner stopped past the run's timeout: timed out from outside, processes gone;
* the kernel SIGKILLed: the run fails at once, saying the kernel died;
* a cell that daemonizes (``setsid -f``, a double fork) and the run cancelled / timed out:
  the daemon dies with the run;
* a daemon that also clears its environment (``env -i``: no run marker), then its runner
  SIGKILLed: the reconciler kills it through the run's cgroup (where the machine has a
  writable cgroup v2; elsewhere this scenario fails, and says so);
* 8 processes writing metric points to one SQLite store at once: none lost, no errors;
* 3 scheduler processes firing one schedule: every slot fired exactly once.

Prints one line per scenario and ``N tried / N survived / P points lost`` (points: metric
points not stored, plus schedule slots missed or fired twice).

    python bench/faults.py [--only NAME[,NAME...]]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import psutil
from sqlalchemy import func, select, update

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jupyter_mlops.config import Settings  # noqa: E402
from jupyter_mlops.jobs import JobService, RunSpec  # noqa: E402
from jupyter_mlops.processes import kill_tree  # noqa: E402
from jupyter_mlops.scheduling.cron import CronSchedule  # noqa: E402
from jupyter_mlops.store import Run, RunStatus, RunStore  # noqa: E402
from jupyter_mlops.store.models import Metric, Schedule  # noqa: E402

NOTEBOOKS = REPO / "tests" / "notebooks"
UTC = timezone.utc
SCENARIO_DEADLINE_S = 90.0
WRITERS = 8
POINTS_PER_WRITER = 1000
SCHEDULERS = 3


class Deadline(Exception):
    """A scenario's condition was not reached before its deadline."""


@dataclass
class Result:
    survived: bool
    detail: str
    points_lost: int = 0


@dataclass
class Sweep:
    """What every scenario shares: the settings, store, service and a git project."""

    settings: Settings
    store: RunStore
    service: JobService
    project: Path
    scratch: Path
    deadline: float = 0.0

    def wait(self, predicate: Callable[[], bool], what: str, interval: float = 0.1) -> None:
        while not predicate():
            if time.monotonic() > self.deadline:
                raise Deadline(f"no {what} before the deadline")
            time.sleep(interval)

    def run(self, run_id: str) -> Run:
        return self.store.require_run(run_id)

    def terminal(self, run_id: str) -> Run:
        self.wait(lambda: RunStatus(self.run(run_id).status).is_terminal, "final status")
        return self.run(run_id)

    def reconciled(self, run_id: str) -> Run:
        self.wait(lambda: run_id in self.service.reconcile(), "reconciled end", 0.5)
        return self.run(run_id)

    def pid_dir(self) -> Path:
        path = Path(tempfile.mkdtemp(dir=self.scratch, prefix="pids-"))
        return path

    def submit(self, notebook: str, timeout: float | None = None, **parameters: object) -> str:
        spec = RunSpec(
            notebook=str(self.project / notebook), parameters=parameters, timeout=timeout
        )
        return self.service.submit(spec).run.id


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def read_pid(path: Path) -> int | None:
    text = path.read_text().strip() if path.exists() else ""
    return int(text) if text.isdigit() else None


def gone(sweep: Sweep, pids: list[int]) -> bool:
    """True once none of ``pids`` lives (waits up to 20 s of the scenario's deadline)."""
    with contextlib.suppress(Deadline):
        sweep.deadline = min(sweep.deadline, time.monotonic() + 20)
        sweep.wait(lambda: not any(alive(p) for p in pids), "exit of the run's processes")
    return not any(alive(p) for p in pids)


# -- scenarios -------------------------------------------------------------------------------

SERVER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from jupyter_mlops.config import Settings
    from jupyter_mlops.jobs import JobService, RunSpec
    from jupyter_mlops.store import RunStore
    settings = Settings.from_env()
    service = JobService(settings, RunStore.from_settings(settings))
    sub = service.submit(RunSpec(notebook=sys.argv[1], parameters={"seconds": 4}))
    print(sub.run.id, flush=True)
    time.sleep(1000)
    """
)


def server_sigkill(sweep: Sweep) -> Result:
    env = {**os.environ, **sweep.settings.runner_env(), "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, str(sweep.project / "sleeper.ipynb")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        run_id = server.stdout.readline().strip()
        sweep.wait(lambda: sweep.run(run_id).status == "running", "running run")
        server.kill()
        server.wait(timeout=30)
        run = sweep.terminal(run_id)
    finally:
        with contextlib.suppress(ProcessLookupError):
            server.kill()
        server.wait(timeout=30)
    ok = run.status == "succeeded"
    why = f": {run.status_reason}" if run.status_reason else ""
    return Result(ok, f"run {run.status} after the process that submitted it was SIGKILLed{why}")


def slow_run(sweep: Sweep) -> tuple[str, list[int]]:
    """A running slow.ipynb; its id and the pids of its runner, kernel and kernel's child."""
    pids = sweep.pid_dir()
    run_id = sweep.submit("notebooks/slow.ipynb", pid_dir=str(pids))
    sweep.wait(lambda: read_pid(pids / "child.pid") is not None, "kernel child")
    kernel, child = read_pid(pids / "kernel.pid"), read_pid(pids / "child.pid")
    runner = sweep.run(run_id).runner_pid
    assert runner and kernel and child
    return run_id, [runner, kernel, child]


def ended_as(sweep: Sweep, run: Run, pids: list[int], status: str, words: str) -> Result:
    """Survived when ``run`` ended ``status`` with ``words`` in its reason and none of
    ``pids`` is left."""
    ok = run.status == status and words in (run.status_reason or "") and gone(sweep, pids)
    return Result(ok, f"run {run.status}: {run.status_reason}")


def runner_sigkill(sweep: Sweep) -> Result:
    run_id, pids = slow_run(sweep)
    os.kill(pids[0], signal.SIGKILL)
    sweep.wait(lambda: not alive(pids[0]), "runner exit")
    run = sweep.reconciled(run_id)
    return ended_as(sweep, run, pids, "lost", "died")


def runner_sigstop(sweep: Sweep) -> Result:
    run_id, pids = slow_run(sweep)
    os.kill(pids[0], signal.SIGSTOP)
    run = sweep.reconciled(run_id)
    return ended_as(sweep, run, pids, "lost", "stopped responding")


def runner_sigstop_timeout(sweep: Sweep) -> Result:
    """The runner stops before its own timer fires; the row's timeout is then made short,
    so the outside rule (timeout + grace) applies before ``lost_after`` would."""
    run_id, pids = slow_run(sweep)
    os.kill(pids[0], signal.SIGSTOP)
    sweep.store.update_run(run_id, timeout_s=0.5, heartbeat_at=datetime.now(UTC))
    run = sweep.reconciled(run_id)
    return ended_as(sweep, run, pids, "timed_out", "outside")


def kernel_sigkill(sweep: Sweep) -> Result:
    run_id, pids = slow_run(sweep)
    os.kill(pids[1], signal.SIGKILL)
    run = sweep.terminal(run_id)
    return ended_as(sweep, run, pids, "failed", "kernel died")


def daemon_run(sweep: Sweep, notebook: str, timeout: float | None) -> tuple[str, int]:
    pids = sweep.pid_dir()
    run_id = sweep.submit(notebook, timeout=timeout, pid_dir=str(pids), end="hold")
    sweep.wait(lambda: read_pid(pids / "daemon.pid") is not None, "daemon pid")
    daemon = read_pid(pids / "daemon.pid")
    assert daemon is not None
    return run_id, daemon


def daemon_cancel(sweep: Sweep) -> Result:
    run_id, daemon = daemon_run(sweep, "notebooks/daemon_setsid.ipynb", None)
    sweep.service.cancel(run_id)
    run = sweep.terminal(run_id)
    ok = run.status == "cancelled" and gone(sweep, [daemon])
    return Result(ok, f"run {run.status}; setsid daemon {'dead' if ok else 'ALIVE'}")


def daemon_timeout(sweep: Sweep) -> Result:
    run_id, daemon = daemon_run(sweep, "notebooks/daemon_double_fork.ipynb", 15)
    run = sweep.terminal(run_id)
    dead = gone(sweep, [daemon])
    ok = run.status == "timed_out" and dead
    return Result(ok, f"run {run.status}; double-fork daemon {'dead' if dead else 'ALIVE'}")


def daemon_runner_sigkill(sweep: Sweep) -> Result:
    """A daemon with neither the kernel's session nor the run's marker (``env -i``), then
    its runner killed: only the run's cgroup still holds it."""
    run_id, daemon = daemon_run(sweep, "notebooks/daemon_scrubbed.ipynb", None)
    runner = sweep.run(run_id).runner_pid
    assert runner
    os.kill(runner, signal.SIGKILL)
    sweep.wait(lambda: not alive(runner), "runner exit")
    run = sweep.reconciled(run_id)
    dead = gone(sweep, [daemon])
    ok = run.status == "lost" and dead
    return Result(ok, f"run {run.status}; scrubbed daemon {'dead' if dead else 'ALIVE'}")


def _write_points(url: str, worker: int, count: int) -> None:
    from jupyter_mlops.store.types import utcnow

    store = RunStore(url)
    run_id = f"writer{worker}"
    store.create_run(
        Run(
            id=run_id,
            notebook_path="writer.ipynb",
            notebook_abspath="/writer.ipynb",
            kernel_name="python3",
            seed=worker,
            commit_sha="0" * 40,
            snapshot_ref=f"refs/mlops/runs/{run_id}",
            git_dir="/nonexistent/.git",
            worktree="/nonexistent",
            notebook_relpath="writer.ipynb",
        )
    )
    store.transition(run_id, RunStatus.RUNNING)
    batch = 40  # what a tracker's flush writes at a time (a heartbeat every few flushes)
    for n, start in enumerate(range(0, count, batch)):
        points = [("loss", step, float(step), utcnow()) for step in range(start, start + batch)]
        store.log_metrics_batch(run_id, points)
        if n % 4 == 0:
            store.heartbeat(run_id)
    store.transition(run_id, RunStatus.SUCCEEDED)
    store.close()


def concurrent_writers(sweep: Sweep) -> Result:
    url = f"sqlite:///{sweep.scratch / 'writers.db'}"
    RunStore(url).close()  # migrated before the writers start
    # forked: the writers start together at once, without importing everything again
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_write_points, args=(url, w, POINTS_PER_WRITER)) for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(max(1.0, sweep.deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            proc.kill()
    store = RunStore(url)
    with store.reading() as session:
        stored = session.scalar(select(func.count()).select_from(Metric)) or 0
    store.close()
    failed = sum(1 for p in procs if p.exitcode != 0)
    lost = WRITERS * POINTS_PER_WRITER - stored
    return Result(
        failed == 0 and lost == 0,
        f"{WRITERS} writers: {stored} of {WRITERS * POINTS_PER_WRITER} points stored, "
        f"{failed} writer(s) failed",
        points_lost=lost,
    )


def schedulers(sweep: Sweep) -> Result:
    from tests.recording import add_recorded_schedules, start_recording_schedulers

    url = f"sqlite:///{sweep.scratch / 'schedulers.db'}"
    store = RunStore(url)
    period = 2
    cron = f"* * * * * */{period}"
    every = CronSchedule.parse(cron, "UTC")
    first = every.next_after(datetime.now(UTC) + timedelta(seconds=4))
    add_recorded_schedules(store, 1, cron, first, prefix="faults")
    procs = start_recording_schedulers(url, SCHEDULERS, prefix="fault")
    try:
        end = first + timedelta(seconds=4 * period + period / 2)  # between two slots
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))
        with store.writing() as session:
            session.execute(update(Schedule).values(active=False))
        paused_at = datetime.now(UTC)
        time.sleep(1.5)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
    with store.reading() as session:
        slots_fired = Counter(session.scalars(select(Run.scheduled_for)).all())
    store.close()
    expected = set(every.slots(first, paused_at - timedelta(seconds=1)))
    duplicates = sum(n - 1 for n in slots_fired.values() if n > 1)
    missed = len(expected - set(slots_fired))
    return Result(
        duplicates == 0 and missed == 0 and bool(expected),
        f"{SCHEDULERS} schedulers, {len(expected)} slots: {sum(slots_fired.values())} fires, "
        f"{duplicates} duplicate(s), {missed} missed",
        points_lost=duplicates + missed,
    )


SCENARIOS: dict[str, tuple[str, Callable[[Sweep], Result]]] = {
    "server": ("server SIGKILL mid-run", server_sigkill),
    "runner-kill": ("runner SIGKILL", runner_sigkill),
    "runner-stop": ("runner SIGSTOP (hung)", runner_sigstop),
    "runner-stop-timeout": ("runner SIGSTOP past its timeout", runner_sigstop_timeout),
    "kernel-kill": ("kernel SIGKILL", kernel_sigkill),
    "daemon-cancel": ("daemonizing cell + cancel", daemon_cancel),
    "daemon-timeout": ("daemonizing cell + timeout", daemon_timeout),
    "daemon-runner-kill": ("env -i daemon + runner SIGKILL", daemon_runner_sigkill),
    "writers": (f"{WRITERS} concurrent writers (SQLite)", concurrent_writers),
    "schedulers": (f"{SCHEDULERS} schedulers, one schedule", schedulers),
}


# -- the sweep ---------------------------------------------------------------------------------


def sleeper_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell("seconds = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import time\ntime.sleep(seconds)")]
    nbformat.write(nb, path)


@contextlib.contextmanager
def sweep_setup() -> Iterator[Sweep]:
    with tempfile.TemporaryDirectory(prefix="mlops-faults-") as tmp:
        root = Path(tmp)
        project = root / "project"
        (project / "notebooks").mkdir(parents=True)
        for name in ("slow", "daemon_setsid", "daemon_double_fork", "daemon_scrubbed"):
            shutil.copy(NOTEBOOKS / f"{name}.ipynb", project / "notebooks")
        sleeper_notebook(project / "sleeper.ipynb")
        for args in (
            ["init", "-q", "-b", "main"],
            ["-c", "user.name=faults", "-c", "user.email=f@x", "add", "-A"],
            ["-c", "user.name=faults", "-c", "user.email=f@x", "commit", "-q", "-m", "init"],
        ):
            subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
        data_dir = root / "data"
        settings = Settings(
            data_dir=data_dir, heartbeat_interval=0.5, lost_after=4.0, timeout_grace=2.0
        )
        os.environ["JUPYTER_MLOPS_DATA_DIR"] = str(data_dir)
        store = RunStore.from_settings(settings)
        scratch = root / "scratch"
        scratch.mkdir()
        try:
            yield Sweep(settings, store, JobService(settings, store), project, scratch)
        finally:
            for run in store.active_runs():
                with contextlib.suppress(ProcessLookupError):
                    if run.runner_pid:
                        os.kill(run.runner_pid, signal.SIGCONT)
                kill_tree(run.kernel_pid)
                kill_tree(run.runner_pid)
            store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args()
    chosen = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = [n for n in chosen if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    print(f"machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    survived = points_lost = 0
    started = time.monotonic()
    with sweep_setup() as sweep:
        for name in chosen:
            title, scenario = SCENARIOS[name]
            sweep.deadline = time.monotonic() + SCENARIO_DEADLINE_S
            began = time.monotonic()
            try:
                result = scenario(sweep)
            except Exception as err:  # a scenario that broke is a scenario that failed
                result = Result(False, f"{type(err).__name__}: {err}")
            survived += result.survived
            points_lost += result.points_lost
            verdict = "survived" if result.survived else "FAILED"
            took = time.monotonic() - began
            print(f"  {title:<34} {verdict:<8} {took:5.1f} s  {result.detail}", flush=True)
    print(
        f"{len(chosen)} tried / {survived} survived / {points_lost} points lost "
        f"({time.monotonic() - started:.0f} s)"
    )
    return 0 if survived == len(chosen) and points_lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
