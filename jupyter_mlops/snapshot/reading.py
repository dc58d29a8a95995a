"""Getting a snapshot back out: its whole tree into a run directory, or one file's bytes.

Both read only the object store of the repository named by ``git_dir``: the index, HEAD
and working tree of the repository the snapshot came from are never touched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .plumbing import SNAPSHOT_CONFIG, SnapshotError, existing_git_dir, git


def materialize(git_dir: str, commit: str, dest: Path) -> None:
    """Write the commit's tree into ``dest`` (created if needed) for a run to execute.

    Uses ``read-tree`` into a temporary index and ``checkout-index`` with ``dest`` as work
    tree: nothing of the source repository's index, HEAD or working tree is touched, file
    modes (executable bits) and symlinks are preserved, and checkout filters (e.g. Git LFS)
    apply. Unlike ``git archive`` it ignores ``export-ignore``/``export-subst`` attributes,
    which would otherwise drop or rewrite files. Submodules are not materialized.
    """
    path = existing_git_dir(git_dir)
    dest = Path(dest).absolute()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SnapshotError(f"cannot create {dest}: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-materialize-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        base = ["--git-dir", str(path), "--work-tree", str(dest)]
        git([*base, "read-tree", f"{commit}^{{tree}}"], cwd=dest, env=env, config=SNAPSHOT_CONFIG)
        git([*base, "checkout-index", "-a", "-f"], cwd=dest, env=env, config=SNAPSHOT_CONFIG)


def read_file_at(git_dir: str, commit: str, relpath: str) -> bytes:
    """The raw bytes of ``relpath`` in ``commit`` (as stored: no checkout filters applied)."""
    path = existing_git_dir(git_dir)
    rel = relpath.replace(os.sep, "/").lstrip("/")
    proc = git(["--git-dir", str(path), "cat-file", "blob", f"{commit}:{rel}"], cwd=path)
    return proc.stdout
