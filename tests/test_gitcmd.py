"""The one git runner: the repository named, git's stderr in the error, provenance facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.gitcmd import GitError, git_env, git_output, repository_facts, run_git

from .conftest import git, init_repo


def make_repo(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    (root / "a.txt").write_text("a\n")
    init_repo(root)
    return root


def test_failure_names_the_subcommand_and_carries_git_stderr(tmp_path: Path) -> None:
    make_repo(tmp_path)
    with pytest.raises(GitError, match=r"git rev-parse --verify nope failed \(exit 128\): fatal"):
        run_git(["-C", str(tmp_path), "rev-parse", "--verify", "nope"], cwd=tmp_path)
    unchecked = run_git(["rev-parse", "--verify", "nope"], cwd=tmp_path, check=False)
    assert unchecked.returncode == 128


def test_callers_choose_the_error_type(tmp_path: Path) -> None:
    class OwnError(Exception):
        pass

    with pytest.raises(OwnError, match="directory does not exist"):
        run_git(["status"], cwd=tmp_path / "missing", error=OwnError)


def test_inherited_repository_variables_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = git(make_repo(tmp_path), "rev-parse", "HEAD")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "other-index"))
    env = git_env({"LC_ALL": "C"})
    assert "GIT_DIR" not in env and "GIT_INDEX_FILE" not in env
    assert env["GIT_OPTIONAL_LOCKS"] == "0" and env["LC_ALL"] == "C"
    assert git_output(["rev-parse", "HEAD"], cwd=tmp_path) == head


def test_repository_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = make_repo(tmp_path / "repo")
    facts = repository_facts(repo)
    assert facts == {
        "worktree": str(repo.resolve()),
        "git_dir": str((repo / ".git").resolve()),
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": "main",
    }
    git(repo, "checkout", "-q", "--detach")
    assert "branch" not in repository_facts(repo)
    assert repository_facts(outside) == {}
    assert repository_facts(tmp_path / "missing") == {}
