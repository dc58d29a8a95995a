"""Following a run to its end: ``run --wait``, ``reproduce --wait``, ``schedule run-now
--wait`` and ``cancel --wait``. A script's exit code is then the run's own status."""

from __future__ import annotations

import sys
import time
from typing import Any, ClassVar

from traitlets import Bool

from .base import EXIT_FAILED, EXIT_OK, JSON_FLAG, STATUS_EXIT, MLOpsBaseApp

FINISHING_POLL_S = 0.05
EAGER_FOLLOW_S = 5.0
"""How long ``--wait`` reads the run every :data:`FINISHING_POLL_S` before backing off."""


def wait_for_run(app: MLOpsBaseApp, run_id: str, handle: Any, progress: bool) -> int:
    """Follow a run to its terminal status: a progress bar on a terminal, one line per
    status change otherwise (so logs of cron and CI stay readable)."""
    from ..store import RunStatus

    store = app.store
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=None, unit="cell", desc=run_id, file=sys.stderr, leave=True)
    service = app.jobs()
    delay = FINISHING_POLL_S
    following_since = time.monotonic()
    last_status, last_cells = "", -1
    try:
        while True:
            exited = None
            if handle is not None:
                try:
                    exited = handle.wait(timeout=delay)
                except Exception:  # subprocess.TimeoutExpired: still running
                    exited = None
            else:
                time.sleep(delay)
            run = store.require_run(run_id)
            # Look every 50 ms while the run is young (most runs that end within seconds
            # are waited for by someone) and once its last cell is done (only artifacts
            # remain); in between, back off to 2 reads a second.
            last_cell_done = bool(run.cells_total) and run.cells_done >= (run.cells_total or 0)
            young = time.monotonic() - following_since < EAGER_FOLLOW_S
            delay = FINISHING_POLL_S if last_cell_done or young else min(delay * 1.5, 0.5)
            if bar is not None and (run.status, run.cells_done) != (last_status, last_cells):
                bar.total = run.cells_total
                bar.n = run.cells_done
                bar.set_postfix_str(run.status)
            elif bar is None and progress and run.status != last_status:
                print(f"run {run_id}: {run.status}", file=sys.stderr)
            last_status, last_cells = run.status, run.cells_done
            if RunStatus(run.status).is_terminal:
                break
            if exited is not None or handle is None:
                service.reconcile()  # runner gone without a final status: lost
    finally:
        if bar is not None:
            bar.close()
    run = store.require_run(run_id)
    line = f"run {run.id} {run.status}"
    if run.status_reason:
        line += f": {run.status_reason}"
    print(line, file=sys.stderr)
    if run.error_traceback and run.status == "failed":
        print(run.error_traceback, file=sys.stderr)
    return STATUS_EXIT.get(run.status, EXIT_FAILED)


class SubmittingApp(MLOpsBaseApp):
    """Commands that start a run (run, reproduce, schedule run-now): they print the new
    run's id and, with ``--wait``, follow it and exit with its status."""

    flags = {
        **JSON_FLAG,
        "wait": (
            {"SubmittingApp": {"wait": True}},
            "Wait for the run to end; exit with its status.",
        ),
        "no-progress": ({"SubmittingApp": {"progress": False}}, "No progress bar with --wait."),
    }
    wait = Bool(False).tag(config=True)
    progress = Bool(True).tag(config=True)
    command_path: ClassVar[tuple[str, ...]] = ()
    """The command's words after ``jupyter mlops`` (``("schedule", "run-now")``): what a
    runner host is handed to run it (:mod:`.handoff`); empty: never handed off."""

    def run(self) -> int:
        """Hand the command to the machine's runner host, which runs it warm; else (no
        host, or one that refuses) :meth:`submit` here."""
        if self.command_path:
            from .handoff import hand_off

            handed_off = hand_off(self.settings.data_dir, [*self.command_path, *self.command_line])
            if handed_off is not None:
                return handed_off
        return self.submit()

    def submit(self) -> int:
        """Start the run (and follow it with ``--wait``): the command's exit code."""
        raise NotImplementedError

    def jobs(self) -> Any:
        """The job service, whose runners are this process forked when no runner host is
        up: it has the store's imports loaded already (:mod:`jupyter_mlops.self_fork`)."""
        service = super().jobs()
        if service.settings.cli_runner == "fork":
            service.fork_cold_runners()
        return service

    def start(self) -> None:
        """With ``--wait``, leave with ``os._exit`` once the result is printed: the run is
        recorded and its runner detached, so finalizing SQLAlchemy, zmq and the rest only
        keeps the user's shell (or script) waiting."""
        from .handoff import IN_HOST

        try:
            super().start()
        except SystemExit as done:
            if not self.wait or IN_HOST:  # a runner host's child reports its exit first
                raise
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            from ..processes import exit_without_finalizing

            exit_without_finalizing(code)

    def follow(self, submission: Any) -> int:
        """The exit code: OK once submitted, or the run's own status with ``--wait``."""
        if not self.wait:
            return EXIT_OK
        return wait_for_run(self, submission.run.id, submission.handle, self.progress)
