"""What a snapshot holds and what it says about the working copy: never JupyterLab's
checkpoints nor what ``.gitignore`` ignores, and *which* files were uncommitted (a bounded
list with the full count), not only "dirty"."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlops.snapshot.create import take_snapshot
from jupyter_mlops.snapshot.dirty import DIRTY_FILES_LISTED

from .test_snapshot import (  # noqa: F401 (fixtures)
    NB,
    git,
    isolated_git,
    make_repo,
    private_dir,
    tree_files,
    write,
)


def test_repository_snapshot_skips_checkpoints_and_ignored_files(
    tmp_path: Path,
    private_dir: Path,  # noqa: F811
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"nb.ipynb": NB, "train.py": "print('hi')\n", ".gitignore": "data/\n*.log\n"},
    )
    write(repo / ".ipynb_checkpoints" / "nb-checkpoint.ipynb", NB)
    write(repo / "sub" / ".ipynb_checkpoints" / "x-checkpoint.ipynb", NB)
    write(repo / "data" / "big.csv", "a,b\n")
    write(repo / "run.log", "noise\n")
    write(repo / "train.py", "print('changed')\n")
    write(repo / "new.py", "print('new')\n")
    git(repo, "rm", "-q", "--cached", ".gitignore")  # deleted from the index, kept on disk
    write(repo / ".gitignore", "data/\n*.log\n")

    s = take_snapshot(repo / "nb.ipynb", "r1", private_repo_dir=private_dir)
    files = tree_files(s.git_dir, s.commit)
    assert files == {"nb.ipynb", "train.py", "new.py", ".gitignore"}
    assert s.dirty is True
    assert sorted(s.dirty_files) == ["new.py", "train.py"]
    assert s.dirty_count == 2


def test_a_clean_snapshot_lists_no_files(tmp_path: Path, private_dir: Path) -> None:  # noqa: F811
    repo = make_repo(tmp_path / "repo")
    write(repo / ".ipynb_checkpoints" / "nb-checkpoint.ipynb", NB)  # not a change
    s = take_snapshot(repo / "nb.ipynb", "r1", private_repo_dir=private_dir)
    assert (s.dirty, s.dirty_files, s.dirty_count) == (False, (), 0)


def test_the_list_is_bounded_the_count_is_not(tmp_path: Path, private_dir: Path) -> None:  # noqa: F811
    repo = make_repo(tmp_path / "repo")
    for i in range(DIRTY_FILES_LISTED + 20):
        write(repo / "gen" / f"f{i:04d}.txt", str(i))
    s = take_snapshot(repo / "nb.ipynb", "r1", private_repo_dir=private_dir)
    assert len(s.dirty_files) == DIRTY_FILES_LISTED
    assert s.dirty_count == DIRTY_FILES_LISTED + 20


def test_private_snapshot_skips_checkpoints_and_ignored_and_lists_changes(
    tmp_path: Path,
    private_dir: Path,  # noqa: F811
) -> None:
    work = tmp_path / "work"
    write(work / "nb.ipynb", NB)
    write(work / ".gitignore", "scratch/\n")
    write(work / "scratch" / "tmp.txt", "x")
    write(work / ".ipynb_checkpoints" / "nb-checkpoint.ipynb", NB)
    write(work / "util.py", "A = 1\n")
    first = take_snapshot(work / "nb.ipynb", "p1", private_repo_dir=private_dir)
    assert tree_files(first.git_dir, first.commit) == {"nb.ipynb", ".gitignore", "util.py"}
    assert sorted(first.dirty_files) == [".gitignore", "nb.ipynb", "util.py"]  # nothing before
    write(work / "util.py", "A = 2\n")
    second = take_snapshot(work / "nb.ipynb", "p2", private_repo_dir=private_dir)
    assert (second.dirty_files, second.dirty_count) == (("util.py",), 1)
