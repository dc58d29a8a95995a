"""Runs execute as detached processes on this machine.

Each runner is started in a new session with its output in the run directory, so it
survives the JupyterLab server or CLI that launched it (closing a terminal or
restarting the server sends it nothing). While the launcher lives, a daemon thread
reaps the child so no zombies pile up in a long-running server.

By default the runner is started at once, also when every slot is taken: it waits in
``queued`` for its turn (see :mod:`jupyter_mlops.backends.queue`), so the queue needs no
process of its own and works the same for runs submitted from the CLI and from
JupyterLab. A process that stays up anyway (the server, ``run --wait``) calls
:meth:`LocalBackend.dispatch_in_process`: then a queued run has no process until its slot
is free (see :mod:`jupyter_mlops.backends.dispatch`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from ..gpus import check_gpu_request, usable_gpus
from ..processes import (
    hostname,
    runner_alive,
    runner_environment,
    start_runner,
    started_since_boot,
)
from ..runner_host import offer_seed, start_hosted_runner
from ..runner_stop import EXIT_CODES
from ..store import Run, RunStatus
from .base import Backend, LaunchHandle
from .dispatch import SlotDispatcher


class LocalBackend(Backend):
    name = "local"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dispatcher: SlotDispatcher | None = None
        self.fork_cold_runners = False
        """Without a runner host, fork this process into each runner instead of spawning
        one (:mod:`jupyter_mlops.self_fork`): for the CLI's submitting commands only."""

    def dispatch_in_process(self) -> SlotDispatcher:
        """From now on, start each run's runner when its slot is free, from this process
        (which must outlive its queued runs or :meth:`hand_off` them)."""
        if self.dispatcher is None:
            self.dispatcher = SlotDispatcher(self.store, self.settings, self._start_claimed)
        return self.dispatcher

    def hand_off(self) -> list[str]:
        """Give each run still waiting in this process's dispatcher a runner of its own
        that waits for the slot (before this process exits)."""
        if self.dispatcher is None:
            return []
        return self.dispatcher.hand_off(self._start_waiting)

    def check_gpus(self, count: int) -> None:
        """Refuse more GPUs than this machine has (waiting would never end)."""
        check_gpu_request(count, usable_gpus(self.settings.gpu_inventory) if count else [])

    def prepare(self, run: Run) -> None:
        """A local run queues for this host's slots from the moment it exists."""
        run.runner_host = hostname()

    def launch(self, run: Run) -> LaunchHandle:
        if self.dispatcher is not None:
            return self.dispatcher.submit(run.id, run)
        return self._start_waiting(run.id, run)

    def offered_seed(self, kernel_name: str) -> int | None:
        """The seed of a warm runner the runner host keeps for runs like this one."""
        return offer_seed(self.settings.data_dir, kernel_name, self._runner_env())

    def _start_waiting(self, run_id: str, run: Run | None = None) -> RunnerProcess:
        """A runner that waits in ``queued`` for its slot itself."""
        proc = self._spawn(run_id, run)
        self.store.set_queued_runner(
            run_id, pid=proc.pid, host=hostname(), create_time=started_since_boot(proc.pid)
        )
        return proc

    def _start_claimed(self, run_id: str) -> RunnerProcess:
        """The runner of a run whose slot the dispatcher has just claimed."""
        proc = self._spawn(run_id)
        # As the runner names itself: only while no other runner is (two never run it).
        self.store.take_started_run(run_id, pid=proc.pid, create_time=started_since_boot(proc.pid))
        return proc

    def _spawn(self, run_id: str, run: Run | None = None) -> RunnerProcess:
        """The run's runner: forked by the machine's runner host when one is up (see
        :mod:`jupyter_mlops.runner_host`; with a warm kernel for a run without GPUs, when
        the host keeps one of its kind), else a fresh ``python -m jupyter_mlops.runner``."""
        env = self._runner_env()
        run_dir = self.settings.runs_dir / run_id
        run = run or self.store.get_run(run_id)
        warm = (
            {"kernel_name": run.kernel_name, "seed": run.seed}
            if run is not None and not run.gpus
            else None
        )
        pid = start_hosted_runner(self.settings.data_dir, run_id, run_dir, env, warm)
        if pid:
            return HostedRunner(pid, run_id, self.store)
        if self.fork_cold_runners and (pid := self._fork_self(run_id, run_dir, env)):
            return HostedRunner(pid, run_id, self.store)
        proc = start_runner(run_id, run_dir, env)
        threading.Thread(target=proc.wait, name=f"reap-{run_id}", daemon=True).start()
        return proc

    def _fork_self(self, run_id: str, run_dir: Path, env: dict[str, str]) -> int:
        """This process forked into the run's runner (0: not forked); its child is reaped
        by a daemon thread, as a spawned runner is. No store connection may be open across
        the fork: SQLite keeps per-process lock state that the child would inherit (its
        documentation: never fork with a connection open), a PostgreSQL socket would be
        shared. So the store's connections are closed first (the next use reopens one), and
        a store with one in use spawns instead."""
        from ..self_fork import fork_runner_from_here

        engine = self.store.engine
        in_use = getattr(engine.pool, "checkedout", None)  # QueuePool's (SQLite, PostgreSQL)
        if in_use is None or in_use():
            return 0
        engine.dispose()
        pid = fork_runner_from_here(run_id, run_dir, env)
        if pid:
            threading.Thread(target=_reap, args=(pid,), name=f"reap-{run_id}", daemon=True).start()
        return pid

    def _runner_env(self) -> dict[str, str]:
        """A runner's whole environment, as :meth:`_spawn` gives it."""
        return runner_environment({**os.environ, **self.settings.runner_env()})

    def cancel(self, run: Run) -> None:
        """Stop the run's runner: ``SIGTERM`` while it runs (it cancels and kills the
        kernel's tree), only a wake-up (``SIGURG``) while it is queued, since the store
        already says cancelled and a runner still starting must not die of a signal it
        has no handler for yet (it would exit -15 instead of recording the cancel).
        Only a process proven to be the run's runner is signalled (a reused pid is not)."""
        if self.dispatcher is not None:
            self.dispatcher.wake()  # a run waiting there ends without ever starting
        alive = runner_alive(run.runner_pid, run.id, run.runner_create_time)
        if run.runner_host == hostname() and alive:
            assert run.runner_pid is not None
            queued = run.status == RunStatus.QUEUED.value
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.runner_pid, signal.SIGURG if queued else signal.SIGTERM)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


class HostedRunner:
    """The launch handle of a forked runner (by the runner host, or this process forked
    into it): it ends when the process is gone (or a zombie); its exit code is its run's
    status's."""

    def __init__(self, pid: int, run_id: str, store: Any) -> None:
        self.pid = pid
        self.run_id = run_id
        self.store = store
        self.started = started_since_boot(pid)

    def poll(self) -> int | None:
        if runner_alive(self.pid, self.run_id, self.started):
            return None
        run = self.store.get_run(self.run_id)
        if run is None or not RunStatus(run.status).is_terminal:
            return 1
        return EXIT_CODES.get(RunStatus(run.status), 1)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"runner of {self.run_id}", timeout or 0)
            time.sleep(0.05)
        return code


RunnerProcess = subprocess.Popen[bytes] | HostedRunner
