"""A submit runs as few git processes as its snapshot needs: the notebook's repository is
found once (not once to name the notebook, once to check it exists and once to snapshot
it), and the notebook is added with the rest of the project unless it is ignored. Counted
with a real git behind a logging ``git`` on ``PATH``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.snapshot.plumbing import SnapshotError
from jupyter_mlops.snapshot.reading import read_file_at

from .conftest import git
from .test_runs import wait_for

REAL_GIT = shutil.which("git")


@pytest.fixture
def git_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file where every git process started by this test process is written, one line
    (its parent's pid, then its arguments) each."""
    assert REAL_GIT is not None
    shim = tmp_path / "shim"
    shim.mkdir()
    log = tmp_path / "git.log"
    (shim / "git").write_text(f'#!/bin/sh\necho "$PPID $*" >> {log}\nexec {REAL_GIT} "$@"\n')
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    return log


def ours(log: Path) -> list[str]:
    """The git subcommands this process ran (not a runner's), in order."""
    if not log.exists():
        return []
    lines = [line.split(" ", 1) for line in log.read_text().splitlines()]
    return [subcommand(args.split()) for pid, args in lines if int(pid) == os.getpid()]


def subcommand(args: list[str]) -> str:
    """``add -A`` of ``git -c k=v ... add -A -- .``: what git was asked to do."""
    while args and args[0] in ("-c", "-C", "--git-dir", "--work-tree"):
        args = args[2:]
    return " ".join(args[:2]) if args[0] in ("add", "rev-parse") else args[0]


def test_a_submit_finds_the_repository_once(
    service: JobService, project: Path, git_log: Path
) -> None:
    sub = service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb")))
    calls = ours(git_log)
    assert calls.count("rev-parse --path-format=absolute") == 1, calls
    assert calls == [
        "rev-parse --path-format=absolute",
        "config",
        "add -A",
        "write-tree",
        "commit-tree",
        "update-ref",
    ]
    assert wait_for(service, sub).status == "succeeded"


def test_an_ignored_notebook_is_still_added(
    service: JobService, project: Path, git_log: Path
) -> None:
    (project / ".gitignore").write_text("*.tmp\nscratch/\n")
    git(project, "commit", "-qam", "ignore scratch")
    (project / "scratch").mkdir()
    shutil.copy(project / "notebooks/trivial.ipynb", project / "scratch/nb.ipynb")
    (project / "scratch/other.ipynb").write_text("{}")
    sub = service.submit(RunSpec(notebook=str(project / "scratch/nb.ipynb")))
    assert "add -f" in ours(git_log)  # git refused the ignored notebook: added by force
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    assert read_file_at(run.git_dir, run.commit_sha, "scratch/nb.ipynb")
    with pytest.raises(SnapshotError):
        read_file_at(run.git_dir, run.commit_sha, "scratch/other.ipynb")


def test_the_identity_is_asked_again_once_a_config_file_changes(
    service: JobService, project: Path, git_log: Path
) -> None:
    notebook = str(project / "notebooks/trivial.ipynb")
    runs = [service.submit(RunSpec(notebook=notebook)) for _ in range(2)]
    assert ours(git_log).count("config") == 1  # the second snapshot knew the identity
    git(project, "config", "user.name", "Ada Lovelace")  # this test's own `git config`
    runs.append(service.submit(RunSpec(notebook=notebook)))
    assert ours(git_log).count("config") == 3  # the repository's config changed: asked
    authors = [git(project, "log", "-1", "--format=%an", s.run.commit_sha) for s in runs]
    assert authors[2] == "Ada Lovelace" and authors[0] != "Ada Lovelace"
    assert [wait_for(service, s).status for s in runs] == ["succeeded"] * 3
