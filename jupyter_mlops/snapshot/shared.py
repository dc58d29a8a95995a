"""Runs that share one snapshot (a pipeline's steps): each run executes a notebook of a
commit taken once, under a ref of its own that keeps the commit alive."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from .create import Snapshot
from .plumbing import SnapshotError
from .reading import read_file_at
from .refs import link_run_ref


def relpath_in(snapshot: Snapshot, path: Path) -> str:
    """``path`` (a file of the snapshot's worktree) as a path of the snapshot's tree."""
    try:
        return path.relative_to(Path(snapshot.worktree).resolve()).as_posix()
    except ValueError:
        raise SnapshotError(f"{path} is not in the snapshot's tree {snapshot.worktree}") from None


def read_notebook_at(snapshot: Snapshot, path: Path) -> Any:
    """The notebook ``path`` as it is in the snapshot's commit, as nbformat reads it."""
    import nbformat

    relpath = relpath_in(snapshot, path)
    try:
        data = read_file_at(snapshot.git_dir, snapshot.commit, relpath)
    except SnapshotError:
        raise SnapshotError(f"{relpath} is not in snapshot {snapshot.commit[:12]}") from None
    return nbformat.reads(data.decode("utf-8"), as_version=4)


def link_snapshot(snapshot: Snapshot, path: Path, run_id: str) -> Snapshot:
    """The snapshot of a run of notebook ``path`` at the shared commit (its own ref)."""
    relpath = relpath_in(snapshot, path)
    ref = link_run_ref(snapshot.git_dir, snapshot.commit, run_id)
    return dataclasses.replace(snapshot, ref=ref, notebook_relpath=relpath)


def snapshot_from_dict(data: dict[str, Any]) -> Snapshot:
    return Snapshot(**{f.name: data[f.name] for f in dataclasses.fields(Snapshot)})


def snapshot_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot.to_dict(), sort_keys=True)
