"""jupyter-mlops' data directory (the live SQLite store and its WAL, run directories,
artifacts) is never part of a snapshot, inside a git repository or outside any (issue 10,
item 6); a notebook inside it is refused with a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.snapshot.create import take_snapshot
from jupyter_mlops.snapshot.plumbing import SnapshotError

from .test_snapshot import NB, fingerprint, isolated_git, make_repo, tree_files, write

__all__ = ["isolated_git"]  # autouse: git sees no machine config here either


def fill_data_dir(data: Path) -> None:
    """What a data directory holds while a run is active."""
    write(data / "mlops.db", b"SQLite format 3\0")
    write(data / "mlops.db-wal", b"wal")
    write(data / "runs" / "abc" / "runner.log", "log\n")
    write(data / "artifacts" / "ab" / "cdef", b"blob")


def test_a_loose_notebook_is_snapshotted_without_the_data_dir(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    write(proj / "nb.ipynb", NB)
    write(proj / "helper.py", "x = 1\n")
    data = proj / "mlops-data"
    fill_data_dir(data)
    for run_id in ("one", "two"):
        s = take_snapshot(
            proj / "nb.ipynb", run_id, private_repo_dir=data / "snapshots.git", data_dir=data
        )
        assert tree_files(s.git_dir, s.commit) == {"nb.ipynb", "helper.py"}


def test_a_data_dir_inside_a_repository_is_left_out(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = repo / "state" / "mlops"
    fill_data_dir(data)
    before = fingerprint(repo)
    s = take_snapshot(
        repo / "nb.ipynb", "r1", private_repo_dir=data / "snapshots.git", data_dir=data
    )
    assert tree_files(s.git_dir, s.commit) == {"nb.ipynb", "train.py"}
    assert fingerprint(repo) == before


@pytest.mark.parametrize("where", ["data", "data/sub"])
def test_a_notebook_inside_the_data_dir_is_refused(tmp_path: Path, where: str) -> None:
    data = tmp_path / "data"
    nb = write(tmp_path / where / "nb.ipynb", NB)
    with pytest.raises(SnapshotError, match="inside the jupyter-mlops data directory"):
        take_snapshot(nb, "x", private_repo_dir=data / "snapshots.git", data_dir=data)
    assert not (data / "snapshots.git").exists()
