"""``jupyter mlops worker``: the warm runner host of this machine (see
:mod:`jupyter_mlops.runner_host`), until killed."""

from __future__ import annotations

import os
import sys

from .base import MLOpsBaseApp


class WorkerApp(MLOpsBaseApp):
    name = "jupyter-mlops-worker"
    description = """Keep a warm runner host up: a fork server with the runner's imports
loaded, which starts each run of this data directory in a forked process instead of a
fresh Python (about half a second less per run), and keeps a warm kernel for each kind
of run it has seen (c.MLOps.warm_kernels), which the next such run adopts instead of
starting one. Runs started from it are recorded and behave exactly as others; without it
everything works as before. It outlives the server and CLI that use it, and its runs
outlive it."""

    def run(self) -> int:
        from ..runner_host import host_argv

        env = {**os.environ, **self.settings.runner_env()}
        # exec: the host's command line needs room for the forked runners' own
        os.execve(sys.executable, host_argv(), env)
        return 1  # not reached
