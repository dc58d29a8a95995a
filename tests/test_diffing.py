"""Code differences between snapshots, on real git repositories (no kernels needed)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from jupyter_mlops.snapshot.create import take_snapshot
from jupyter_mlops.snapshot.diffing import snapshot_diff
from jupyter_mlops.store import Run

from .conftest import git


def run_for(notebook: Path, run_id: str, private: Path) -> Run:
    snap = take_snapshot(notebook, run_id, private_repo_dir=private)
    return Run(
        id=run_id,
        commit_sha=snap.commit,
        git_dir=snap.git_dir,
        notebook_relpath=snap.notebook_relpath,
    )


def test_identical_code_in_different_snapshots(project: Path, tmp_path: Path) -> None:
    nb = project / "notebooks/params.ipynb"
    first, second = run_for(nb, "a1", tmp_path / "p"), run_for(nb, "b2", tmp_path / "p")
    diff = snapshot_diff(first, second)
    assert diff["same_repository"] and diff["same_code"] is True
    assert diff["files"] == [] and diff["notebook_diff"] == ""


def test_changed_notebook_and_files(project: Path, tmp_path: Path) -> None:
    nb_path = project / "notebooks/params.ipynb"
    first = run_for(nb_path, "a1", tmp_path / "p")
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("epochs = 3", "epochs = 30")
    nb.cells[1].outputs = []  # outputs are not code: they must not show up
    nbformat.write(nb, nb_path)
    (project / "helpers.py").write_text("ANSWER = 43\n")
    (project / "new_module.py").write_text("X = 1\n")
    second = run_for(nb_path, "b2", tmp_path / "p")
    diff = snapshot_diff(first, second)
    assert diff["same_code"] is False
    assert {(f["status"], f["path"]) for f in diff["files"]} == {
        ("M", "helpers.py"),
        ("A", "new_module.py"),
        ("M", "notebooks/params.ipynb"),
    }
    text = diff["notebook_diff"]
    assert "-epochs = 3" in text and "+epochs = 30" in text
    assert "\x1b[" not in text
    assert git(project, "status", "--porcelain")  # the user's tree is as they left it


def test_snapshots_in_different_repositories(project: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "params.ipynb").write_bytes((project / "notebooks/params.ipynb").read_bytes())
    first = run_for(project / "notebooks/params.ipynb", "a1", tmp_path / "p")
    second = run_for(loose / "params.ipynb", "b2", tmp_path / "p")
    diff = snapshot_diff(first, second)
    assert diff["same_repository"] is False and diff["same_code"] is None
    assert diff["notebook_diff"] == ""  # same notebook bytes
