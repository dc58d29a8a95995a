"""The refs that keep snapshot commits alive: one per run, under ``refs/mlops/runs/``.

Refs, not branches: they never show up in ``git branch``, are never checked out, and can
be pushed on purpose. A run id always names one snapshot, so a run's ref is created only
when it does not exist yet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..gitcmd import failure_message, output_text
from .plumbing import SNAPSHOT_CONFIG, SnapshotError, existing_git_dir, git

RUN_REF_PREFIX = "refs/mlops/runs/"
"""Namespace of the refs that keep each run's snapshot commit alive."""

DIR_REF_PREFIX = "refs/mlops/dirs/"
"""Private repository only: last snapshot of a directory (sha1 of its absolute path), so
successive snapshots of the same directory form a history instead of unrelated roots."""

_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def run_ref(run_id: str) -> str:
    """The run's ref; run ids are checked here so they can never escape ``refs/mlops/runs``."""
    if (
        not isinstance(run_id, str)
        or not _RUN_ID_RE.match(run_id)
        or ".." in run_id
        or run_id.endswith((".lock", "."))
    ):
        raise SnapshotError(
            f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit)"
        )
    return RUN_REF_PREFIX + run_id


def create_ref(git_args: Sequence[str], ref: str, commit: str) -> None:
    """Create ``ref`` atomically, refusing to overwrite an existing one (old value "")."""
    git(
        [*git_args, "update-ref", "-m", "jupyter-mlops snapshot", ref, commit, ""],
        config=SNAPSHOT_CONFIG,
    )


def link_run_ref(git_dir: str, commit: str, run_id: str) -> str:
    """Point ``refs/mlops/runs/<run_id>`` at an existing snapshot commit and return the ref.

    Used by "reproduce": the new run executes the very same commit, and its own ref keeps that
    commit alive even if the original run (and its ref) is deleted. Linking the same commit
    twice is a no-op; a ref that already points elsewhere is an error.
    """
    ref = run_ref(run_id)
    path = existing_git_dir(git_dir)
    args = ["--git-dir", str(path)]
    proc = git(
        [*args, "update-ref", "-m", "jupyter-mlops reproduce", ref, f"{commit}^{{commit}}", ""],
        cwd=path,
        config=SNAPSHOT_CONFIG,
        check=False,
    )
    if proc.returncode != 0:
        current = git([*args, "rev-parse", "-q", "--verify", ref], cwd=path, check=False)
        wanted = git(
            [*args, "rev-parse", "-q", "--verify", f"{commit}^{{commit}}"], cwd=path, check=False
        )
        same = output_text(current) and output_text(current) == output_text(wanted)
        if not (current.returncode == 0 and same):
            raise SnapshotError(failure_message(["update-ref", ref], proc))
    return ref


def delete_run_ref(git_dir: str, run_id: str) -> None:
    """Delete a run's ref (its commit becomes garbage once nothing else references it).

    Idempotent: a missing ref or a git directory that no longer exists is not an error, so
    deleting a run never fails half-way because of an earlier partial delete.
    """
    ref = run_ref(run_id)
    path = Path(git_dir)
    if not path.is_dir():
        return
    git(
        ["--git-dir", str(path), "update-ref", "-m", "jupyter-mlops delete", "-d", ref],
        cwd=path,
        config=SNAPSHOT_CONFIG,
    )
