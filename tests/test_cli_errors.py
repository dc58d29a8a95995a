"""Bad input on the command line is a one-line message and exit code 2, never a traceback
(issue 10, item 6); and a notebook next to the data directory is snapshotted without it.

Every case runs the real ``jupyter mlops`` in a new process, as a user types it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import NOTEBOOKS, mlops, mlops_line


def assert_usage_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, one line on stderr starting ``error:`` that holds every needle."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def no_runs(env: dict[str, str]) -> bool:
    listed = mlops("runs", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    "seed",
    ["99999999999999999999", "4294967296", "-1", "-7"],
    ids=["overflows-int64", "2**32", "minus-one", "negative"],
)
def test_a_seed_out_of_range_is_refused(env: dict[str, str], project: Path, seed: str) -> None:
    result = mlops_line(f"run notebooks/params.ipynb --seed {seed}", env=env, cwd=project)
    assert_usage_error(result, "seed must be an integer from 0 to 2**32-1", seed)
    assert no_runs(env)


def test_the_largest_seed_is_accepted(env: dict[str, str], project: Path) -> None:
    result = mlops_line("run notebooks/params.ipynb --seed 4294967295 --wait", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    shown = json.loads(mlops("show", run_id, "--json", env=env).stdout)
    assert shown["seed"] == 4294967295 and shown["parameters"]["seed"] == 4294967295


@pytest.mark.parametrize("limit", ["-1", "0", "99999999999999999999"])
def test_runs_limit_out_of_range_is_refused(env: dict[str, str], limit: str) -> None:
    assert_usage_error(mlops("runs", "--limit", limit, env=env), "--limit", limit)


@pytest.fixture
def loose_dir(tmp_path: Path) -> Path:
    """A directory outside any git repository with one notebook in it."""
    work = tmp_path / "loose"
    work.mkdir()
    shutil.copy(NOTEBOOKS / "trivial.ipynb", work / "trivial.ipynb")
    return work


def snapshot_files(git_dir: Path) -> dict[str, list[str]]:
    """run ref -> the files of its snapshot commit."""
    refs = subprocess.run(
        [
            "git",
            "--git-dir",
            str(git_dir),
            "for-each-ref",
            "--format=%(refname)",
            "refs/mlops/runs",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        ref: subprocess.run(
            ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "--name-only", ref],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for ref in refs
    }


def test_the_data_directory_next_to_a_loose_notebook_is_not_snapshotted(
    env: dict[str, str], loose_dir: Path
) -> None:
    data = loose_dir / "mlops-data"  # the store, its WAL and the run directories live here
    env = {**env, "JUPYTER_MLOPS_DATA_DIR": str(data)}
    for _ in range(2):  # the second snapshot sees a run directory and a live WAL as well
        result = mlops("run", "trivial.ipynb", "--wait", env=env, cwd=loose_dir)
        assert result.returncode == 0, result.stderr
    assert (data / "runs").is_dir() and (data / "mlops.db").is_file()
    snapshots = snapshot_files(data / "snapshots.git")
    assert len(snapshots) == 2
    assert all(files == ["trivial.ipynb"] for files in snapshots.values()), snapshots


def test_a_notebook_inside_the_data_directory_is_refused(
    env: dict[str, str], loose_dir: Path
) -> None:
    env = {**env, "JUPYTER_MLOPS_DATA_DIR": str(loose_dir)}  # the store beside the notebook
    result = mlops("run", "trivial.ipynb", env=env, cwd=loose_dir)
    assert_usage_error(result, "inside the jupyter-mlops data directory", "JUPYTER_MLOPS_DATA_DIR")
    assert no_runs(env)
    assert (
        not (loose_dir / "snapshots.git").exists()
        or snapshot_files(loose_dir / "snapshots.git") == {}
    )


def test_a_snapshot_error_is_a_message(env: dict[str, str], loose_dir: Path) -> None:
    # --commit needs a git repository; this notebook has none
    result = mlops("run", "trivial.ipynb", "--commit", env=env, cwd=loose_dir)
    assert_usage_error(result, "trivial.ipynb")
    assert no_runs(env)
