"""What the benchmarks share: their command line and the git repository a job runs in.

Every benchmark runs as a script (``python bench/NAME.py``), so this module is imported
from beside it as ``common``.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def option_parser(doc: str | None, **counts: int) -> argparse.ArgumentParser:
    """A parser described by the first line of the benchmark's docstring, with a
    ``--NAME N`` option (underscores written as dashes) for each count and its default."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    for name, default in counts.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return parser


def commit_all(repo: Path) -> None:
    """Make ``repo`` a git repository on ``main`` with one commit of everything in it: a job
    snapshots the repository its notebook is in."""
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "bench"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
