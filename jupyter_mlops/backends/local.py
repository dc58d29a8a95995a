"""Runs execute as detached processes on this machine.

Each runner is started in a new session with its output in the run directory, so it
survives the JupyterLab server or CLI that launched it (closing a terminal or
restarting the server sends it nothing). While the launcher lives, a daemon thread
reaps the child so no zombies pile up in a long-running server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ..config import Settings
from ..processes import hostname, runner_alive
from ..store import Run, RunStore

RUNNER_LOG = "runner.log"


class LocalBackend:
    name = "local"

    def __init__(self, settings: Settings, store: RunStore) -> None:
        self.settings = settings
        self.store = store

    def launch(self, run: Run) -> subprocess.Popen[bytes]:
        run_dir = self.settings.runs_dir / run.id
        run_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.settings.runner_env()}
        env.pop("JPY_PARENT_PID", None)
        with Path(run_dir / RUNNER_LOG).open("ab") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jupyter_mlops.runner", run.id],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=run_dir,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        self.store.update_run(run.id, runner_pid=proc.pid, runner_host=hostname())
        threading.Thread(target=proc.wait, name=f"reap-{run.id}", daemon=True).start()
        return proc

    def cancel(self, run: Run) -> None:
        if run.runner_host == hostname() and runner_alive(run.runner_pid, run.id):
            assert run.runner_pid is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.runner_pid, signal.SIGTERM)
