"""Execute one run in its own process: ``python -m jupyter_mlops.runner <run-id>``.

The runner is started detached (own session) by a backend, so it outlives the
JupyterLab server or CLI that submitted it. It owns the run from ``queued`` to
exactly one terminal status:

1. wait in ``queued`` for a slot (concurrency and GPUs, see
   :mod:`jupyter_mlops.backends.queue`), claim it (``queued -> starting``, with the granted
   GPUs), materialize its git snapshot into the run directory, so edits to the live
   notebook change nothing;
2. start the chosen kernel at once, so it boots while papermill is imported, and
   execute the notebook on it with papermill through an engine of ours that records
   cell progress and timings (batched off the execution thread) instead of re-writing
   the notebook after every cell;
3. keep a heartbeat, sample system metrics (CPU, memory, GPU), honour cancellation
   (signal or store flag) and the timeout by killing the kernel's whole process tree; on
   a Dask worker, end the run as lost when the worker process dies;
4. store the executed notebook and the runner log as artifacts, for a verified
   reproduction its verdict against the original (:mod:`jupyter_mlops.verify`), and only
   then record the terminal status, so a finished run is never half written; its HTML
   rendering (optional output, see :mod:`jupyter_mlops.html_artifact`) comes after the
   status.

This module is the sequence; its parts have modules of their own: stopping (signals,
cancel, timeout, a lost Dask worker) in :mod:`jupyter_mlops.runner_stop`, the progress
and heartbeat thread in :mod:`jupyter_mlops.runner_progress`, artifacts and the
environment record in :mod:`jupyter_mlops.runner_outputs`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._imports import skip_slow_jsonschema_formats
from .artifacts import open_artifact_store
from .config import Settings
from .kernel_start import KernelStartError
from .masking import Handover, take_handover
from .processes import (
    become_subreaper,
    exit_without_finalizing,
    hostname,
    kill_descendants,
    kill_run_process,
    started_since_boot,
)
from .run_cgroup import RunCgroup
from .runner_kernel import RunKernel
from .runner_live_output import OutputRecorder
from .runner_outputs import OUTPUT_NOTEBOOK, RunOutputs
from .runner_parameters import notebook_parameters
from .runner_progress import ProgressReporter
from .runner_stop import EXIT_CODES, Outcome, StopControl
from .store import Run, RunStatus, RunStore

if TYPE_CHECKING:
    from .warm_kernel import WarmKernel

log = logging.getLogger("jupyter_mlops.runner")

SOURCE_DIR = "src"
AUTOSAVE_SECONDS = 30.0
WARM_RENDERER: Any = None
"""An HTML renderer with its templates compiled, set by a runner host before it forks."""


class Runner:
    """Runs one stored run to its terminal status."""

    def __init__(
        self,
        settings: Settings,
        run_id: str,
        store: RunStore | None = None,
        warm: WarmKernel | None = None,
    ) -> None:
        self.settings = settings
        self.run_id = run_id
        self.store = store or RunStore.from_settings(settings)
        self.artifacts = open_artifact_store(settings)
        self.run_dir = settings.runs_dir / run_id
        self.kernel_pid: int | None = None
        self.kernel_create_time: float | None = None
        self.stopping = StopControl(run_id, self.kill_kernel)
        self.outputs = RunOutputs(
            self.store, self.artifacts, run_id, self.run_dir, settings.cache_dir
        )
        self.outputs.renderer = WARM_RENDERER
        self._executed_nb: Any = None
        self._current_cell: int | None = None
        self._kernel_cuda: dict[str, Any] | None = None
        self._sampler: Any = None
        self._recorder: OutputRecorder | None = None
        self.kernel = RunKernel(self, warm)
        """The run's kernel: a warm runner's, adopted (``warm``), or started for it."""
        self.handover = Handover()
        """Secret parameter values and texts to redact, given aside from the store."""
        self.cgroup: RunCgroup | None = None
        """The run's own cgroup, when the runner could make one (:mod:`.run_cgroup`)."""

    def on_kernel_started(self, pid: int | None) -> None:
        self.kernel_pid = pid
        self.kernel_create_time = started_since_boot(pid)
        self.store.update_run(
            self.run_id, kernel_pid=pid, kernel_create_time=self.kernel_create_time
        )
        if self.stopping.requested:  # cancelled while the kernel was starting
            self.kill_kernel()

    def kill_kernel(self) -> list[int]:
        """Kill the kernel's process tree, if the recorded pid still is this run's kernel."""
        return kill_run_process(self.kernel_pid, self.run_id, "kernel", self.kernel_create_time)

    def kill_leftovers(self) -> list[int]:
        """Kill everything the run started that is still alive: the kernel's tree, then
        every other descendant of this runner (a subreaper, so also what daemonized)."""
        killed = self.kill_kernel() + kill_descendants()
        if self.cgroup is not None:  # what left this runner's tree another way
            killed += self.cgroup.kill_others()
        if killed:
            log.info("run %s: killed what it left running: %s", self.run_id, killed)
        return killed

    # -- the run ------------------------------------------------------------------------

    def execute(self) -> RunStatus:
        # first of all: the hand-over file leaves the disk before anything can fail or wait
        self.handover = take_handover(self.run_dir)
        run = self.store.get_run(self.run_id)
        if run is None:
            log.error("run %s is not in the store", self.run_id)
            return RunStatus.LOST
        if run.cancel_requested:
            self.store.transition(self.run_id, RunStatus.CANCELLED, reason="cancelled before start")
            return RunStatus.CANCELLED
        self.stopping.on_signals()
        not_started = self._wait_for_slot(run)
        if not_started is not None:
            return not_started
        run = self.store.require_run(self.run_id)

        reporter = ProgressReporter(
            self.store,
            self.run_id,
            self.settings.heartbeat_interval,
            on_cancel=self.stopping.cancel,
            on_beat=self.stopping.check_parent if self.stopping.watches_parent else None,
            stop_reason=lambda: self.stopping.reason,
        )
        reporter.start()
        recorder = self._recorder = OutputRecorder(
            self.store,
            self.run_id,
            self.run_dir,
            cell_max=self.settings.output_cell_max_bytes,
            run_max=self.settings.output_run_max_bytes,
            redact=self.handover.values_to_redact(),
        )
        recorder.start()
        sampler = self._sampler = self._system_metrics(run)
        timer = self.stopping.time_out_after(run.timeout_s)
        background = threading.Thread(target=self._in_background, args=(run,), daemon=True)
        try:
            notebook = self._materialize(run)
            self._record_datasets(run, notebook)
            self.kernel.start(run, notebook.parent)
            # Import the execution stack here, in the main thread and while the kernel
            # boots, before the background thread imports parts of it: concurrent first
            # imports of one package can see a partially initialized module
            # (jupyter_client.manager was seen doing that).
            _import_execution_stack()
            background.start()
            kernel_manager = self.kernel.ready(notebook.parent, run.id)
            outcome = self._execute_notebook(run, notebook, reporter, kernel_manager)
        except KernelStartError as err:
            log.error("run %s: the kernel did not start: %s", self.run_id, err)
            outcome = self.stopping.outcome_or(
                Outcome.failed(
                    f"kernel start failed: {err}",
                    ename="KernelStartError",
                    evalue=err.stderr_tail or str(err),
                )
            )
        except Exception as err:  # anything before or around papermill: record, don't die
            log.exception("run %s failed outside the notebook", self.run_id)
            outcome = Outcome.failed(
                f"runner error: {type(err).__name__}: {err}",
                ename=type(err).__name__,
                evalue=str(err),
                traceback=traceback.format_exc(),
            )
        finally:
            if timer is not None:
                timer.cancel()
            if sampler is not None:
                sampler.stop()
            self.kill_kernel()  # nothing the notebook started outlives the run
            self.kernel.discard_unused()
            _release_kernel(self.kernel.manager)
        if background.is_alive() or background.ident is not None:
            background.join(timeout=60)
        self.kill_leftovers()  # what daemonized out of the kernel's tree, too
        recorder.stop()  # the last output in the store and the file, before it is stored
        try:
            self.outputs.record_kernel_cuda(self._kernel_cuda)
            self.outputs.store_outputs()
            self._verify(outcome.status)
        finally:
            reporter.stop()  # beating until here: a reconciler sees a runner at work
        self.store.transition(
            self.run_id, outcome.status, reason=outcome.reason, current_cell=None, **outcome.error
        )
        log.info("run %s: %s", self.run_id, outcome.status.value)
        if self._queue_is_empty(run):
            self.outputs.store_html()
        else:
            log.info("run %s: runs wait for a slot; its HTML is made on first view", self.run_id)
        return outcome.status

    def _queue_is_empty(self, run: Run) -> bool:
        """No run waits for a slot of this machine (optional work may take the CPU). A Dask
        worker's CPU is not the queue's: it always renders."""
        if run.backend != "local":
            return True
        try:
            return not self.store.runs_waiting(run.backend, run.runner_host)
        except Exception:  # the status is recorded; an unreadable queue changes nothing
            log.warning("run %s: could not look at the queue", self.run_id, exc_info=True)
            return True

    def _verify(self, status: RunStatus) -> None:
        """A verified reproduction's verdict, recorded here, where the run ends, whoever
        started it (JupyterLab, the CLI, a schedule) and whether or not anyone waits."""
        from .verify.service import verify_finished_run

        try:
            verdict = verify_finished_run(self.store, self.artifacts, self.run_id, status.value)
        except Exception:
            log.exception("run %s: could not record the verdict", self.run_id)
            return
        if verdict is not None:
            log.info("run %s: verdict %s: %s", self.run_id, verdict.verdict, verdict.summary)

    def _wait_for_slot(self, run: Run) -> RunStatus | None:
        """Wait in ``queued`` until a slot is claimed (None), or return the status the run
        ended with while waiting (cancelled, or already claimed or ended elsewhere)."""
        from .backends.queue import SlotWaiter, policy_for

        original_host = run.runner_host
        me = os.getpid()
        my_start = started_since_boot(me)  # with ``me``, this runner's identity
        if run.status == RunStatus.STARTING.value and run.runner_pid in (None, me):
            # a dispatcher claimed the slot and then started this runner (backends.dispatch)
            if not self.store.take_started_run(self.run_id, pid=me, create_time=my_start):
                log.info("run %s: another runner took it; nothing to do", self.run_id)
                return RunStatus.STARTING
            log.info(
                "run %s: started in its slot (GPUs: %s)",
                self.run_id,
                run.cuda_visible_devices or "none",
            )
            return None
        self.store.set_queued_runner(self.run_id, pid=me, host=hostname(), create_time=my_start)
        waiter = SlotWaiter(
            self.store,
            self.run_id,
            policy_for(run, self.settings),
            settings=self.settings,
            stop_reason=self.stopping.wait_reason,
            near_head=_import_execution_stack,
            wake=self.stopping.wake,
        )
        claim = waiter.wait(
            runner_pid=me,
            runner_create_time=my_start,
            runner_host=hostname(),
            run_dir=str(self.run_dir),
        )
        if claim.claimed:
            log.info("run %s claimed a slot (GPUs: %s)", self.run_id, claim.devices or "none")
            return None
        if claim.status is None:
            log.error("run %s disappeared from the store while queued", self.run_id)
            return RunStatus.LOST
        if claim.status != RunStatus.QUEUED.value:
            log.info("run %s is %s; nothing to do", self.run_id, claim.status)
            return RunStatus(claim.status)
        if claim.impossible:
            self.store.transition(
                self.run_id,
                RunStatus.FAILED,
                reason=claim.impossible,
                allowed_from=[RunStatus.QUEUED],
            )
        elif waiter.stopped is not None and self.stopping.reason is RunStatus.LOST:
            # The Dask worker died before the run started: leave it queued for Dask to
            # schedule again, as it was before this runner took it.
            self.store.set_queued_runner(self.run_id, pid=None, host=original_host)
            log.warning("run %s: %s before it started; left queued", self.run_id, waiter.stopped)
            return RunStatus.QUEUED
        else:  # cancelled (flag or signal) while waiting; same words as JobService.cancel
            self.store.transition(
                self.run_id,
                RunStatus.CANCELLED,
                reason="cancelled before start",
                allowed_from=[RunStatus.QUEUED],
            )
        return RunStatus(self.store.require_run(self.run_id).status)

    def _system_metrics(self, run: Run) -> Any:
        interval = self.settings.system_metrics_interval
        if not interval or interval <= 0:
            return None
        from .gpus import fake_inventory, parse_devices
        from .system_metrics import SystemMetricsSampler

        fake = fake_inventory(self.settings.gpu_inventory) is not None
        devices = [] if fake else parse_devices(run.cuda_visible_devices)
        sampler = SystemMetricsSampler(
            self.store, self.run_id, interval, lambda: self.kernel_pid, devices
        )
        sampler.start()
        return sampler

    def _materialize(self, run: Run) -> Path:
        """The snapshot's files in the run directory: checked out of the snapshot's git
        directory, or, where this machine cannot read it (a Dask worker elsewhere), from
        the run's code archive."""
        from .code_archive import fetch_archive
        from .snapshot.plumbing import SnapshotError
        from .snapshot.reading import materialize

        source = self.run_dir / SOURCE_DIR
        try:
            materialize(run.git_dir, run.commit_sha, source)
        except SnapshotError as err:  # no such directory here, or not that repository
            if not fetch_archive(run, self.store, self.artifacts, source):
                raise FileNotFoundError(
                    f"the snapshot {run.commit_sha[:12]} cannot be read from {run.git_dir} on "
                    f"{hostname()} ({err}) and the run has no code archive"
                ) from err
            log.info("run %s: code from its archive (%s: %s)", run.id, run.git_dir, err)
        notebook = source / run.notebook_relpath
        if not notebook.is_file():
            raise FileNotFoundError(
                f"{run.notebook_relpath} is not in snapshot {run.commit_sha[:12]}"
            )
        return notebook

    def _record_datasets(self, run: Run, notebook: Path) -> None:
        """The parameters declared ``# mlops: dataset``, with their effective values, as
        inputs of the run, before the kernel starts (a missing one fails the run here)."""
        from .datasets.recording import record_parameter_datasets

        record_parameter_datasets(
            self.store, self.settings, run, notebook, notebook_parameters(run, self.handover)
        )

    def _in_background(self, run: Run) -> None:
        """What the run needs besides the notebook, done while the kernel boots (mostly
        waiting on the kernel's interpreter; no HTML warm-up competes with the cells)."""
        self.outputs.capture_environment(run, redact=self.handover.values_to_redact())

    def _execute_notebook(
        self, run: Run, notebook: Path, reporter: ProgressReporter, kernel_manager: Any
    ) -> Outcome:
        skip_slow_jsonschema_formats()
        import nbformat
        import papermill
        from nbclient.exceptions import DeadKernelError
        from papermill.engines import papermill_engines
        from papermill.exceptions import PapermillExecutionError

        from .masking import SecretFromEnv
        from .notebook.inspection import in_cell_order
        from .papermill_engine import make_engine, read_secrets_from_environment
        from .runner_cells import cell_label, early_exit_reason, execution_count, execution_label

        parameters = in_cell_order(notebook, notebook_parameters(run, self.handover))
        if any(isinstance(v, SecretFromEnv) for v in parameters.values()):
            read_secrets_from_environment(run.kernel_name, _kernel_language(kernel_manager))
        output = self.run_dir / OUTPUT_NOTEBOOK
        engine_name = f"mlops-{self.run_id}"
        papermill_engines.register(
            engine_name,
            make_engine(
                output_path=output,
                reporter=reporter,
                on_kernel_started=self.on_kernel_started,
                on_nb=self._remember_nb,
                on_cell=self._remember_cell,
                autosave_seconds=AUTOSAVE_SECONDS,
                on_kernel_probe=self._remember_kernel_cuda,
                kernel_manager=kernel_manager,
                on_cells_done=self._after_last_cell,
                on_output=self._recorder.output if self._recorder is not None else None,
            ),
        )
        self.store.transition(self.run_id, RunStatus.RUNNING, allowed_from=[RunStatus.STARTING])
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                kernel_name=run.kernel_name,
                engine_name=engine_name,
                cwd=str(notebook.parent),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=120,
                shutdown_kernel="immediate",
            )
            return self.stopping.outcome_or(
                Outcome(RunStatus.SUCCEEDED, early_exit_reason(self._executed_nb))
            )
        except PapermillExecutionError as err:
            return self.stopping.outcome_or(
                Outcome.failed(  # papermill counts as JupyterLab: err.exec_count is In [n]
                    f"{execution_label(err.exec_count, err.cell_index)} raised "
                    f"{err.ename}: {err.evalue}",
                    cell_index=err.cell_index,
                    execution_count=err.exec_count if isinstance(err.exec_count, int) else None,
                    ename=err.ename,
                    evalue=err.evalue,
                    traceback=_strip_ansi("\n".join(err.traceback)),
                )
            )
        except DeadKernelError as err:
            self.outputs.write_partial(nbformat, self._executed_nb)
            return self.stopping.outcome_or(
                Outcome.failed(
                    "the kernel died while executing "
                    + cell_label(self._executed_nb, self._current_cell),
                    cell_index=self._current_cell,
                    execution_count=execution_count(self._executed_nb, self._current_cell),
                    ename="DeadKernelError",
                    evalue=str(err) or "kernel died",
                )
            )
        except Exception:
            self.outputs.write_partial(nbformat, self._executed_nb)
            if self.stopping.requested:
                return self.stopping.outcome()
            raise

    def _after_last_cell(self) -> None:
        if self._sampler is not None:
            self._sampler.final_sample()

    def _remember_kernel_cuda(self, info: dict[str, Any]) -> None:
        self._kernel_cuda = info

    def _remember_nb(self, nb: Any) -> None:
        self._executed_nb = nb

    def _remember_cell(self, index: int | None) -> None:
        self._current_cell = index


def _release_kernel(kernel_manager: Any) -> None:
    """Remove the connection file of a kernel that nbclient did not shut down (the run
    failed or was stopped before or during execution); its processes are already killed."""
    if kernel_manager is None or not kernel_manager.has_kernel:
        return
    from jupyter_core.utils import run_sync

    try:
        run_sync(kernel_manager.cleanup_resources)(restart=False)
    except Exception:
        log.debug("kernel resources were already gone", exc_info=True)


def _import_execution_stack() -> None:
    skip_slow_jsonschema_formats()
    import jupyter_client.manager  # noqa: F401
    import papermill  # noqa: F401


def _kernel_language(kernel_manager: Any) -> str | None:
    spec = getattr(kernel_manager, "kernel_spec", None)
    return getattr(spec, "language", None)


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def main(
    argv: list[str] | None = None,
    warm: WarmKernel | None = None,
    warm_cgroup: RunCgroup | None = None,
) -> int:
    """``python -m jupyter_mlops.runner RUN_ID``; from a warm runner
    (:mod:`jupyter_mlops.warm_pool`) also its kernel and the cgroup it is in."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m jupyter_mlops.runner RUN_ID", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    reaper = become_subreaper()
    settings = Settings.from_env()
    run_dir = settings.runs_dir / args[0]
    if warm_cgroup is not None:
        cgroup, cgroup_line = warm_cgroup.hand_to_run(args[0], run_dir, settings.run_cgroup)
        if cgroup is None:  # the warm kernel is outside the run's cgroup, or killed
            warm = _without_warm_kernel(warm)
    else:
        cgroup, cgroup_line = RunCgroup.enter(args[0], run_dir, settings.run_cgroup)
        if cgroup is not None:  # a warm kernel would be outside the run's cgroup
            warm = _without_warm_kernel(warm)
    log.info(
        "run %s: process containment: %s; %s",
        args[0],
        "child subreaper" if reaper else "process tree and group only (no subreaper here)",
        cgroup_line,
    )
    runner = Runner(settings, args[0], warm=warm)
    runner.cgroup = cgroup
    try:
        status = runner.execute()
    except BaseException as err:  # a bug of ours must still end the run, never leave it running
        log.exception("runner crashed")
        runner.kill_leftovers()
        runner.store.transition(
            runner.run_id, RunStatus.FAILED, reason=f"runner crashed: {type(err).__name__}: {err}"
        )
        return 1
    finally:
        runner.kernel.discard_unused()  # a warm kernel of a run that ended before its start
        kill_descendants()  # whatever path ended the run, none of its processes stays
        if cgroup is not None:
            cgroup.close()
        runner.store.close()
    return EXIT_CODES.get(status, 1)


def _without_warm_kernel(warm: WarmKernel | None) -> None:
    """Kill a warm kernel that is not in the run's cgroup: the run starts its own."""
    if warm is not None:
        warm.discard()


if __name__ == "__main__":
    exit_without_finalizing(main())
