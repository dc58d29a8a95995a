"""Runs execute as detached processes on this machine.

Each runner is started in a new session with its output in the run directory, so it
survives the JupyterLab server or CLI that launched it (closing a terminal or
restarting the server sends it nothing). While the launcher lives, a daemon thread
reaps the child so no zombies pile up in a long-running server.

The runner is started at once, also when every slot is taken: it waits in ``queued``
for its turn (see :mod:`jupyter_mlops.backends.queue`), so the queue needs no process
of its own and works the same for runs submitted from the CLI and from JupyterLab.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading

from ..gpus import check_gpu_request, usable_gpus
from ..processes import create_time, hostname, runner_alive, start_runner
from ..store import Run, RunStatus
from .base import Backend


class LocalBackend(Backend):
    name = "local"

    def check_gpus(self, count: int) -> None:
        """Refuse more GPUs than this machine has (waiting would never end)."""
        check_gpu_request(count, usable_gpus(self.settings.gpu_inventory) if count else [])

    def prepare(self, run: Run) -> None:
        """A local run queues for this host's slots from the moment it exists."""
        run.runner_host = hostname()

    def launch(self, run: Run) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.settings.runner_env()}
        proc = start_runner(run.id, self.settings.runs_dir / run.id, env)
        self.store.set_queued_runner(
            run.id, pid=proc.pid, host=hostname(), create_time=create_time(proc.pid)
        )
        threading.Thread(target=proc.wait, name=f"reap-{run.id}", daemon=True).start()
        return proc

    def cancel(self, run: Run) -> None:
        """Stop the run's runner: ``SIGTERM`` while it runs (it cancels and kills the
        kernel's tree), only a wake-up (``SIGURG``) while it is queued, since the store
        already says cancelled and a runner still starting must not die of a signal it
        has no handler for yet (it would exit -15 instead of recording the cancel).
        Only a process proven to be the run's runner is signalled (a reused pid is not)."""
        alive = runner_alive(run.runner_pid, run.id, run.runner_create_time)
        if run.runner_host == hostname() and alive:
            assert run.runner_pid is not None
            queued = run.status == RunStatus.QUEUED.value
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.runner_pid, signal.SIGURG if queued else signal.SIGTERM)
