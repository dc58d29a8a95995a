"""A command that submits a run forks itself into the run's runner, when no runner host is up.

``jupyter mlops run`` (and ``reproduce``, ``schedule run-now``) has already imported most of
what a runner needs to write the store (SQLAlchemy, its models, the job service: about
0.8 s on a 2-core machine) by the time it starts the run. Spawning ``python -m
jupyter_mlops.runner`` pays for those imports a second time, on the path a user of ``run
--wait`` waits on. So when no runner host forks runners (:mod:`jupyter_mlops.runner_host`),
such a command forks *itself* into the runner instead, the way the host does: the child
names itself the run's runner on its command line, leaves the command's session, takes the
runner's environment and working directory, writes to the run's ``runner.log`` and runs
``runner.main``. The run's record, containment (cgroup, subreaper), signals and results are
those of a spawned runner (the tests compare them).

Only a process with one thread forks (a thread holding a lock at the fork would leave it
held in the child forever), and only one whose command line has room for the runner's
(what proves a process is the run's runner); otherwise the runner is spawned as before.
The server never forks itself: it is large and has many threads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from .runner_host import fork_runner

RESET_SIGNALS = (
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGALRM,
    signal.SIGURG,
    signal.SIGCHLD,
)
"""Signals a command may have taken: a fresh runner starts with their default action."""


def fork_runner_from_here(run_id: str, run_dir: Path, env: Mapping[str, str]) -> int:
    """Fork this process into the run's runner; its pid (a child of this process, to be
    reaped), or 0 when this process may not fork (threads) or the child could not name
    itself the runner (its command line is too short): then nothing was started.

    The caller closes its store's connections first (SQLite's per-process lock state
    must not cross a fork); the child never uses the command's store objects, and opens
    its own store as any runner does."""
    if threading.active_count() != 1:
        return 0
    for stream in (sys.stdout, sys.stderr):  # written once, by this process, not twice
        stream.flush()
    request = {
        "run_id": run_id,
        "run_dir": str(run_dir),
        "env": dict(env),
        "executable": sys.executable,
    }
    return fork_runner(request, None, lambda: _as_a_fresh_process(run_id))


def _as_a_fresh_process(run_id: str) -> None:
    """In the child: no signal handler, blocked signal, traitlets application or logger of
    the command's, and the argv of ``python -m jupyter_mlops.runner RUN_ID``."""
    import traitlets.log
    from traitlets.config import Application

    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in RESET_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    _close_inherited_descriptors()
    Application.clear_instance()  # papermill's and nbclient's log is the runner's, not the CLI's
    traitlets.log._logger = None
    from . import runner

    sys.argv = [str(runner.__file__), run_id]


def _close_inherited_descriptors() -> None:
    """Close what the command was given beyond stdin, stdout and stderr, as a spawned
    runner never gets it (``close_fds``): a pipe its caller waits on to end must not stay
    open for the run's whole life. Those are the inheritable descriptors: every one Python
    or SQLite opens is close-on-exec (PEP 446), and stays."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            with contextlib.suppress(OSError):  # the listing's own descriptor, gone
                if os.get_inheritable(fd):
                    os.close(fd)
