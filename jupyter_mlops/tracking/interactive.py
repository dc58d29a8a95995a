"""Interactive runs: what tracking records about a notebook or script that is not a job.

The first call that records something outside a job creates the run: the notebook path
when Jupyter tells the kernel (``JPY_SESSION_NAME``) or the script path, the seed, the
git branch and HEAD of the working directory when it is a repository (no snapshot is
taken: ``commit_sha`` is empty), and the environment, captured in the background.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import ENV_SEED, Settings
from ..gitcmd import repository_facts

if TYPE_CHECKING:
    from ..store import Run, RunStore

log = logging.getLogger("jupyter_mlops.tracking")

INTERACTIVE_SOURCE = "interactive"
UNSEEDED = -1
"""``runs.seed`` of an interactive run that was never seeded."""


def interactive_run(run_id: str, seed: int | None) -> Run:
    """The row of a new interactive run of this process (not yet stored)."""
    from ..identity import os_user
    from ..store.runs import new_run

    notebook = notebook_path()
    git = repository_facts(Path.cwd())
    return new_run(
        run_id,
        source=INTERACTIVE_SOURCE,
        backend="local",
        notebook_path=notebook,
        notebook_abspath=str(Path(notebook).resolve()) if Path(notebook).exists() else notebook,
        kernel_name="",  # a kernel is not told its kernelspec name
        seed=UNSEEDED if seed is None else seed,
        git_dir=git.get("git_dir", ""),
        worktree=git.get("worktree", str(Path.cwd())),
        notebook_relpath=Path(notebook).name,
        branch=git.get("branch"),
        base_commit=git.get("head"),
        dirty=False,
        submitted_by=os_user(),
    )


def capture_environment(store: RunStore, settings: Settings, run_id: str, seed: int | None) -> None:
    """Record the environment of this process as the run's (best effort: a failure is
    only logged, tracking goes on without it)."""
    try:
        from ..environment import capture_environment as capture

        data = capture(
            kernel_name="",
            kernel_python=sys.executable,
            extra={
                "seed": seed,
                "interactive": {"pid": os.getpid(), "argv": list(sys.argv[:8])},
            },
            cache_dir=settings.cache_dir,
        )
        store.set_environment(run_id, data)
    except Exception:
        log.debug("environment capture failed", exc_info=True)


def notebook_path() -> str:
    """The notebook a kernel runs (jupyter_server tells it, ``JPY_SESSION_NAME``), else
    the script being run, else ``<interactive>``."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session and "ipykernel" in sys.modules:
        return session
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script and Path(script).is_file() and "ipykernel" not in Path(script).name:
        return str(Path(script).resolve())
    return session or "<interactive>"


def env_seed() -> int | None:
    raw = os.environ.get(ENV_SEED)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None
