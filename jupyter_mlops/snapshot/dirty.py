"""Which files a snapshot took uncommitted: the run says *which*, not only "dirty".

The list is bounded (:data:`DIRTY_FILES_LISTED`): a run from a working copy with thousands
of generated files must not store them all; :func:`changed_files` also returns the count.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .plumbing import SNAPSHOT_CONFIG, git

DIRTY_FILES_LISTED = 100
"""At most this many uncommitted files are recorded on a run (the count is complete)."""

CHECKPOINTS_EXCLUDE = ":(exclude,glob)**/.ipynb_checkpoints/**"
"""The pathspec that leaves out JupyterLab's checkpoint copies, wherever they
are: ``git add`` excludes them, so they are never part of a snapshot, even in a repository
whose ``.gitignore`` forgets them (copies a user committed stay, as committed)."""


def changed_files(
    git_args: Sequence[str], cwd: Path, old_tree: str | None, new_tree: str
) -> tuple[list[str], int]:
    """(the first :data:`DIRTY_FILES_LISTED` paths, how many in all) that differ between
    two trees; every file of ``new_tree`` when there is no ``old_tree`` to compare with."""
    if old_tree == new_tree:
        return [], 0
    if old_tree is None:
        args = [*git_args, "ls-tree", "-r", "-z", "--name-only", new_tree]
    else:
        args = [*git_args, "diff-tree", "-r", "-z", "--name-only", "--no-renames"]
        args += [old_tree, new_tree]
    out = git(args, cwd=cwd, config=SNAPSHOT_CONFIG).stdout
    names = [os.fsdecode(n) for n in out.split(b"\0") if n]
    return names[:DIRTY_FILES_LISTED], len(names)
