"""Real ``jupyter mlops scheduler`` processes on one store, for the exactly-once tests.

Each process runs the schedules' scheduler and the trigger watcher, as a user starts it;
the tests start three against one SQLite file or PostgreSQL database, cause one event
(a commit, a new data version, a metric crossing) and check the store: whatever the number
of watchers, one event is one run. :func:`schedulers` stops them at the end and checks
that each one left cleanly (exit 0, no traceback).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from jupyter_mlops.store import Run, RunStore

T = TypeVar("T")


def start_schedulers(env: dict[str, str], count: int) -> list[subprocess.Popen[str]]:
    """``count`` scheduler processes with ``env``, each up (it said so on stderr)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlops.cli", "scheduler", "--poll-interval", "0.5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for proc in procs:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("scheduler "), line + proc.communicate()[1]
    return procs


def kill_scheduler(proc: subprocess.Popen[str]) -> None:
    """SIGKILL: a scheduler dying mid-way, without a chance to clean up."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def stop_schedulers(procs: list[subprocess.Popen[str]]) -> None:
    """SIGTERM to those still running; each must exit 0 without a traceback."""
    running = [p for p in procs if p.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    for proc in running:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err


@contextlib.contextmanager
def schedulers(env: dict[str, str], count: int = 3) -> Iterator[list[subprocess.Popen[str]]]:
    """:func:`start_schedulers`, stopped (and checked) when the block ends."""
    procs = start_schedulers(env, count)
    try:
        yield procs
    finally:
        stop_schedulers(procs)


def wait_for(condition: Callable[[], T], what: str, timeout: float = 240.0) -> T:
    """Poll ``condition`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def trigger_runs(store: RunStore) -> list[Run]:
    """The runs triggers started, newest first."""
    return [r for r in store.list_runs(limit=50).runs if r.source == "trigger"]


def all_ended(store: RunStore, at_least: int = 1) -> list[Run]:
    """The trigger runs once there are ``at_least`` and every one has ended (else [])."""
    runs = trigger_runs(store)
    ended = all(r.status in ("succeeded", "failed") for r in runs)
    return runs if len(runs) >= at_least and ended else []
