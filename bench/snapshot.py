"""Snapshot cost: take_snapshot of a dirty 201-file repository against `git stash create`.

A job's first step records the notebook's repository, uncommitted edits included, as a
commit under ``refs/mlops/...`` without touching the user's branch, index or working tree.
``git stash create`` does the nearest thing git itself offers (a commit of the working tree,
nothing else touched, no ref written), so it is the baseline, measured in the same run on
the same repository: 200 Python files, 20 of them edited, and the notebook.

Prints the median of ``--rounds`` interleaved rounds of each and their ratio (the ratio of
medians; lower is better). The figure for the tests to hold is the number of git processes
a snapshot starts (``tests/test_snapshot.py::test_snapshot_spawn_count``), not its time.

    python bench/snapshot.py [--rounds 9]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import commit_all, option_parser

from jupyter_mlops.snapshot.create import take_snapshot

NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'


def dirty_repository(root: Path) -> Path:
    repo = root / "repo"
    for i in range(200):
        path = repo / f"pkg{i // 20}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"value = {i}\n" * 20)
    (repo / "nb.ipynb").write_text(NOTEBOOK)
    commit_all(repo)
    for i in range(0, 200, 10):
        (repo / f"pkg{i // 20}" / f"mod{i}.py").write_text("edited\n")
    return repo


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    args = option_parser(__doc__, rounds=9).parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-bench-snapshot-") as tmp:
        root = Path(tmp)
        repo = dirty_repository(root)
        private = root / "private"
        take_snapshot(repo / "nb.ipynb", "first", private_repo_dir=private)  # a warm start

        def ours(i: int) -> None:
            take_snapshot(repo / "nb.ipynb", f"round{i}", private_repo_dir=private)

        def stash() -> None:
            subprocess.run(["git", "stash", "create"], cwd=repo, check=True, capture_output=True)

        mine: list[float] = []
        theirs: list[float] = []
        for i in range(args.rounds):  # interleaved: both see the same machine
            mine.append(timed(lambda i=i: ours(i)))
            theirs.append(timed(stash))
    ours_ms = statistics.median(mine) * 1000
    stash_ms = statistics.median(theirs) * 1000
    print(f"take_snapshot, 201 files, 20 edited: median {ours_ms:6.1f} ms ({args.rounds} rounds)")
    print(f"git stash create, the same repo:     median {stash_ms:6.1f} ms")
    print(f"ratio: {ours_ms / stash_ms:.2f}x git stash create")
    return 0


if __name__ == "__main__":
    sys.exit(main())
