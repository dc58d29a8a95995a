"""Tests of jupyter_mlops.snapshot against real git repositories (no mocks).

The central promise is that snapshots never disturb the user, so most tests take a
"fingerprint" of the user's repository (HEAD, branch, index bytes, every file's hash, branch
list) before and after and require it to be identical.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from jupyter_mlops.snapshot.branches import commit_notebook_to_branch
from jupyter_mlops.snapshot.create import PRIVATE_MAX_FILE_BYTES, Snapshot, take_snapshot
from jupyter_mlops.snapshot.plumbing import SnapshotError
from jupyter_mlops.snapshot.reading import materialize, read_file_at
from jupyter_mlops.snapshot.refs import delete_run_ref, link_run_ref

NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'


# --------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make git ignore the machine's config and never discover a repository above tmp_path."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    return gitconfig


@pytest.fixture
def private_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "snapshots.git"


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=True)
    return proc.stdout.decode().strip()


def make_repo(path: Path, files: dict[str, str] | None = None, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for rel, content in (files or {"nb.ipynb": NB, "train.py": "print('hi')\n"}).items():
        write(path / rel, content)
    if commit:
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "initial")
    return path


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def fingerprint(repo: Path) -> dict[str, object]:
    """Everything of the user's repository that a snapshot must leave byte-for-byte alone."""
    gitdir = Path(git(repo, "rev-parse", "--absolute-git-dir"))
    head = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, capture_output=True
    ).stdout
    branch = subprocess.run(
        ["git", "symbolic-ref", "-q", "HEAD"], cwd=repo, capture_output=True
    ).stdout.strip()
    index = gitdir / "index"
    files: dict[str, str] = {}
    for root, dirs, names in os.walk(repo):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            p = Path(root) / name
            if p.is_symlink():
                files[p.relative_to(repo).as_posix()] = "link:" + os.readlink(p)
            else:
                data = p.read_bytes()
                mode = p.stat().st_mode & 0o777
                files[p.relative_to(repo).as_posix()] = (
                    f"{hashlib.sha256(data).hexdigest()}:{mode:o}"
                )
    return {
        "HEAD file": (gitdir / "HEAD").read_bytes(),
        "HEAD": head,
        "branch": branch,
        "branch value": git(repo, "rev-parse", "-q", "--verify", branch.decode())
        if branch and head
        else None,
        "index": index.read_bytes() if index.exists() else None,
        "files": files,
        "heads": git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
        "staged": git(repo, "diff", "--cached", "--name-status")
        if head
        else git(repo, "ls-files", "-s"),
    }


def tree_files(git_dir: str, commit: str) -> set[str]:
    out = git(Path(git_dir), "--git-dir", git_dir, "ls-tree", "-r", "--name-only", "-z", commit)
    return {p for p in out.split("\0") if p}


def parents(git_dir: str, commit: str) -> list[str]:
    line = git(Path(git_dir), "--git-dir", git_dir, "rev-list", "--parents", "-n", "1", commit)
    return line.split()[1:]


# --------------------------------------------------------------------------------------------
# snapshots inside a repository


def test_clean_repo(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    before = fingerprint(repo)
    head = git(repo, "rev-parse", "HEAD")

    s = take_snapshot(repo / "nb.ipynb", "run1", private_repo_dir=private_dir)

    assert fingerprint(repo) == before
    assert isinstance(s, Snapshot)
    assert s.ref == "refs/mlops/runs/run1"
    assert git(repo, "rev-parse", s.ref) == s.commit
    assert s.git_dir == str((repo / ".git").resolve())
    assert s.worktree == str(repo.resolve())
    assert s.notebook_relpath == "nb.ipynb"
    assert s.branch == "main"
    assert s.base_commit == head
    assert s.dirty is False
    assert s.private is False
    assert git(repo, "rev-parse", f"{s.commit}^{{tree}}") == git(repo, "rev-parse", "HEAD^{tree}")
    assert parents(s.git_dir, s.commit) == [head]
    assert not private_dir.exists()  # the private repository is only for notebooks outside git
    d = s.to_dict()
    assert (
        d["commit"] == s.commit
        and d["private"] is False
        and set(d)
        == {
            "commit",
            "ref",
            "git_dir",
            "worktree",
            "notebook_relpath",
            "branch",
            "base_commit",
            "dirty",
            "private",
            "dirty_files",
            "dirty_count",
        }
    )
    # snapshots are not branches
    assert git(repo, "branch", "--list") == "* main"


def test_dirty_repo_captures_disk_state(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            ".gitignore": "*.log\nscratch/\n",
            "train.py": "v1\n",
            "staged.py": "v1\n",
            "staged_then_edited.py": "v1\n",
            "gone.py": "bye\n",
            "keep.py": "same\n",
        },
    )
    write(repo / "train.py", "v2 modified on disk\n")
    write(repo / "staged.py", "v2 staged\n")
    git(repo, "add", "staged.py")
    write(repo / "staged_then_edited.py", "v2 staged\n")
    git(repo, "add", "staged_then_edited.py")
    write(repo / "staged_then_edited.py", "v3 on disk\n")
    (repo / "gone.py").unlink()
    write(repo / "new_untracked.py", "new\n")
    write(repo / "debug.log", "ignored\n")
    write(repo / "scratch" / "nb.ipynb", NB)  # the notebook itself is ignored
    write(repo / "scratch" / "other.ipynb", NB)
    before = fingerprint(repo)

    s = take_snapshot(repo / "scratch" / "nb.ipynb", "run-dirty", private_repo_dir=private_dir)

    assert fingerprint(repo) == before
    assert s.dirty is True
    assert s.notebook_relpath == "scratch/nb.ipynb"
    files = tree_files(s.git_dir, s.commit)
    assert files == {
        ".gitignore",
        "train.py",
        "staged.py",
        "staged_then_edited.py",
        "keep.py",
        "new_untracked.py",
        "scratch/nb.ipynb",
    }
    assert "gone.py" not in files  # deleted on disk
    assert "debug.log" not in files  # ignored
    assert "scratch/other.ipynb" not in files  # ignored, and not the notebook
    for rel in files:
        assert read_file_at(s.git_dir, s.commit, rel) == (repo / rel).read_bytes(), rel
    # the user's staged state is untouched
    assert git(repo, "show", ":staged_then_edited.py") == "v2 staged"


def test_snapshot_tree_equals_disk(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo", {".gitignore": "out/\n", "nb.ipynb": NB})
    for i in range(20):
        write(repo / "pkg" / f"mod{i}.py", f"x = {i}\n")
    write(repo / "data" / "weird name [1] *.txt", "spaces and globs\n")
    write(repo / "data" / "ünïcode.txt", "utf-8 name\n")
    write(repo / "data" / "blob.bin", bytes(range(256)) * 4)
    write(repo / "out" / "ignored.txt", "no\n")
    before = fingerprint(repo)

    s = take_snapshot(repo / "nb.ipynb", "r", private_repo_dir=private_dir)
    dest = tmp_path / "run" / "code"  # parent does not exist yet
    materialize(s.git_dir, s.commit, dest)

    assert fingerprint(repo) == before
    expected = {k: v for k, v in before["files"].items() if not k.startswith("out/")}  # type: ignore[union-attr]
    assert fingerprint_files(dest) == expected
    assert read_file_at(s.git_dir, s.commit, "data/weird name [1] *.txt") == b"spaces and globs\n"


def fingerprint_files(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            p = Path(dirpath) / name
            mode = p.stat().st_mode & 0o777
            out[p.relative_to(root).as_posix()] = (
                f"{hashlib.sha256(p.read_bytes()).hexdigest()}:{mode:o}"
            )
    return out


def test_unborn_repo(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"nb.ipynb": NB, "a.py": "a\n"}, commit=False)
    git(repo, "add", "a.py")  # an index exists, HEAD does not
    before = fingerprint(repo)

    s = take_snapshot(repo / "nb.ipynb", "first", private_repo_dir=private_dir)

    assert fingerprint(repo) == before
    assert s.base_commit is None
    assert s.branch == "main"
    assert s.dirty is True
    assert parents(s.git_dir, s.commit) == []
    assert tree_files(s.git_dir, s.commit) == {"nb.ipynb", "a.py"}
    proc = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo)
    assert proc.returncode != 0  # still unborn


def test_unborn_repo_without_index(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"nb.ipynb": NB}, commit=False)
    assert not (repo / ".git" / "index").exists()

    s = take_snapshot(repo / "nb.ipynb", "first", private_repo_dir=private_dir)

    assert not (repo / ".git" / "index").exists()
    assert tree_files(s.git_dir, s.commit) == {"nb.ipynb"}


def test_notebook_in_subdirectory(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"README.md": "top\n", "analysis/deep/nb.ipynb": NB, "lib/util.py": "u\n"},
    )
    before = fingerprint(repo)

    s = take_snapshot(repo / "analysis" / "deep" / "nb.ipynb", "sub", private_repo_dir=private_dir)

    assert fingerprint(repo) == before
    assert s.worktree == str(repo.resolve())
    assert s.notebook_relpath == "analysis/deep/nb.ipynb"
    assert tree_files(s.git_dir, s.commit) == {"README.md", "analysis/deep/nb.ipynb", "lib/util.py"}


def test_relative_notebook_path(
    tmp_path: Path, private_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", {"a/nb.ipynb": NB})
    monkeypatch.chdir(repo / "a")
    s = take_snapshot(Path("nb.ipynb"), "rel", private_repo_dir=private_dir)
    assert s.notebook_relpath == "a/nb.ipynb"


def test_linked_worktree(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(wt))
    write(wt / "train.py", "changed in worktree\n")
    before_main, before_wt = fingerprint(repo), fingerprint(wt)

    s = take_snapshot(wt / "nb.ipynb", "wt-run", private_repo_dir=private_dir)

    assert fingerprint(repo) == before_main
    assert fingerprint(wt) == before_wt
    assert s.git_dir == str((repo / ".git").resolve())  # the common dir: outlives the worktree
    assert s.worktree == str(wt.resolve())
    assert s.branch == "feature"
    assert read_file_at(s.git_dir, s.commit, "train.py") == b"changed in worktree\n"
    assert git(repo, "rev-parse", "refs/mlops/runs/wt-run") == s.commit


def test_snapshot_ignores_hooks_and_signing(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", "false")  # signing would fail
    hook = write(repo / ".git" / "hooks" / "pre-commit", "#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    s = take_snapshot(repo / "nb.ipynb", "nohooks", private_repo_dir=private_dir)
    assert git(repo, "cat-file", "-t", s.commit) == "commit"


def test_snapshot_without_git_identity(
    tmp_path: Path, private_dir: Path, isolated_git: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    isolated_git.write_text("")  # identity gone after the initial commit
    s = take_snapshot(repo / "nb.ipynb", "anon", private_repo_dir=private_dir)
    author = git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", s.commit)
    assert (
        author == "jupyter-mlops <jupyter-mlops@localhost>|jupyter-mlops <jupyter-mlops@localhost>"
    )


def test_snapshot_uses_user_identity_and_message(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    s = take_snapshot(repo / "nb.ipynb", "me", private_repo_dir=private_dir, message="hello run")
    assert git(repo, "log", "-1", "--format=%an <%ae>%n%B", s.commit) == (
        "Test User <test@example.com>\nhello run"
    )
    s2 = take_snapshot(repo / "nb.ipynb", "me2", private_repo_dir=private_dir)
    assert "me2" in git(repo, "log", "-1", "--format=%B", s2.commit)


def test_run_id_is_unique_and_validated(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    take_snapshot(repo / "nb.ipynb", "dup", private_repo_dir=private_dir)
    with pytest.raises(SnapshotError, match="already exists"):
        take_snapshot(repo / "nb.ipynb", "dup", private_repo_dir=private_dir)
    for bad in ("", "../x", "a/b", "a..b", "x.lock", "-x", "a b", "a~1"):
        with pytest.raises(SnapshotError, match="invalid run id"):
            take_snapshot(repo / "nb.ipynb", bad, private_repo_dir=private_dir)


def test_concurrent_snapshots(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    for i in range(30):
        write(repo / "src" / f"f{i}.py", f"{i}\n")
    write(repo / "train.py", "dirty\n")
    before = fingerprint(repo)
    results: dict[int, Snapshot] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = take_snapshot(repo / "nb.ipynb", f"c{i}", private_repo_dir=private_dir)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(results) == 8
    trees = {git(repo, "rev-parse", f"{s.commit}^{{tree}}") for s in results.values()}
    assert len(trees) == 1
    for i, s in results.items():
        assert git(repo, "rev-parse", f"refs/mlops/runs/c{i}") == s.commit
    assert fingerprint(repo) == before


# --------------------------------------------------------------------------------------------
# notebooks outside any repository


def test_private_repo(tmp_path: Path, private_dir: Path) -> None:
    proj = tmp_path / "proj"
    write(proj / "nb.ipynb", NB)
    write(proj / "data.csv", "a,b\n1,2\n")
    write(proj / ".env", "hidden file is kept\n")
    write(proj / "sub" / "helper.py", "h\n")
    write(proj / ".ipynb_checkpoints" / "nb-checkpoint.ipynb", NB)
    write(proj / "sub" / ".ipynb_checkpoints" / "x-checkpoint.ipynb", NB)
    write(proj / "__pycache__" / "helper.cpython-311.pyc", b"\0pyc")
    write(proj / ".venv" / "lib" / "site.py", "hidden dir\n")
    with (proj / "huge.bin").open("wb") as f:  # sparse: costs no disk
        f.truncate(PRIVATE_MAX_FILE_BYTES + 1)
    before = fingerprint_files(proj)

    s1 = take_snapshot(proj / "nb.ipynb", "p1", private_repo_dir=private_dir)

    assert fingerprint_files(proj) == before
    assert not (proj / ".git").exists()
    assert s1.private is True
    assert s1.git_dir == str(private_dir.resolve())
    assert s1.worktree == str(proj.resolve())
    assert s1.notebook_relpath == "nb.ipynb"
    assert s1.branch is None and s1.base_commit is None
    assert s1.dirty is True
    assert parents(s1.git_dir, s1.commit) == []
    assert tree_files(s1.git_dir, s1.commit) == {"nb.ipynb", "data.csv", ".env", "sub/helper.py"}

    s2 = take_snapshot(proj / "nb.ipynb", "p2", private_repo_dir=private_dir)
    assert parents(s2.git_dir, s2.commit) == [s1.commit]
    assert s2.dirty is False

    write(proj / "data.csv", "a,b\n3,4\n")
    (proj / "sub" / "helper.py").unlink()
    s3 = take_snapshot(proj / "nb.ipynb", "p3", private_repo_dir=private_dir)
    assert parents(s3.git_dir, s3.commit) == [s2.commit]
    assert s3.dirty is True
    assert tree_files(s3.git_dir, s3.commit) == {"nb.ipynb", "data.csv", ".env"}
    assert read_file_at(s3.git_dir, s3.commit, "data.csv") == b"a,b\n3,4\n"
    assert read_file_at(s1.git_dir, s1.commit, "data.csv") == b"a,b\n1,2\n"

    dest = tmp_path / "materialized"
    materialize(s3.git_dir, s3.commit, dest)
    assert sorted(p.name for p in dest.iterdir()) == [".env", "data.csv", "nb.ipynb"]


def test_private_repo_separate_directories_have_separate_histories(
    tmp_path: Path, private_dir: Path
) -> None:
    a = write(tmp_path / "a" / "nb.ipynb", NB)
    b = write(tmp_path / "b" / "nb.ipynb", NB + " ")
    sa = take_snapshot(a, "a1", private_repo_dir=private_dir)
    sb = take_snapshot(b, "b1", private_repo_dir=private_dir)
    sa2 = take_snapshot(a, "a2", private_repo_dir=private_dir)
    assert parents(sb.git_dir, sb.commit) == []
    assert parents(sa2.git_dir, sa2.commit) == [sa.commit]


def test_private_big_notebook_is_still_included(tmp_path: Path, private_dir: Path) -> None:
    nb = write(tmp_path / "proj" / "nb.ipynb", NB)
    with nb.open("ab") as f:
        f.truncate(PRIVATE_MAX_FILE_BYTES + 10)
    s = take_snapshot(nb, "big", private_repo_dir=private_dir)
    assert tree_files(s.git_dir, s.commit) == {"nb.ipynb"}


def test_private_repo_inside_notebook_dir_is_excluded(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    write(proj / "nb.ipynb", NB)
    s = take_snapshot(proj / "nb.ipynb", "x", private_repo_dir=proj / "store" / "repo.git")
    s2 = take_snapshot(proj / "nb.ipynb", "y", private_repo_dir=proj / "store" / "repo.git")
    assert tree_files(s.git_dir, s.commit) == {"nb.ipynb"}
    assert tree_files(s2.git_dir, s2.commit) == {"nb.ipynb"}


# --------------------------------------------------------------------------------------------
# refs, materialize, read


def test_link_and_delete_run_ref(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    s = take_snapshot(repo / "nb.ipynb", "orig", private_repo_dir=private_dir)
    before = fingerprint(repo)

    ref = link_run_ref(s.git_dir, s.commit, "repro")
    assert ref == "refs/mlops/runs/repro"
    assert git(repo, "rev-parse", ref) == s.commit
    assert link_run_ref(s.git_dir, s.commit, "repro") == ref  # same target: no-op
    with pytest.raises(SnapshotError, match="update-ref"):
        link_run_ref(s.git_dir, git(repo, "rev-parse", "HEAD"), "orig")  # points elsewhere
    with pytest.raises(SnapshotError):
        link_run_ref(s.git_dir, "0" * 40, "missing-commit")

    delete_run_ref(s.git_dir, "orig")
    delete_run_ref(s.git_dir, "orig")  # idempotent
    delete_run_ref(str(tmp_path / "no-such-dir"), "orig")
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/mlops") == ref
    # the commit is still reachable through the reproduce ref
    assert read_file_at(s.git_dir, s.commit, "nb.ipynb") == NB.encode()
    delete_run_ref(s.git_dir, "repro")
    assert git(repo, "for-each-ref", "refs/mlops") == ""
    assert fingerprint(repo) == before


def test_materialize_preserves_executable_bit_and_symlinks(
    tmp_path: Path, private_dir: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    script = write(repo / "bin" / "run.sh", "#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    plain = write(repo / "bin" / "plain.txt", "x\n")
    plain.chmod(0o644)
    os.symlink("bin/run.sh", repo / "link.sh")
    before = fingerprint(repo)

    s = take_snapshot(repo / "nb.ipynb", "exec", private_repo_dir=private_dir)
    dest = tmp_path / "dest"
    materialize(s.git_dir, s.commit, dest)

    assert fingerprint(repo) == before
    assert os.access(dest / "bin" / "run.sh", os.X_OK)
    assert (dest / "bin" / "run.sh").stat().st_mode & stat.S_IXUSR
    assert not (dest / "bin" / "plain.txt").stat().st_mode & stat.S_IXUSR
    assert (dest / "link.sh").is_symlink() and os.readlink(dest / "link.sh") == "bin/run.sh"
    assert (dest / "nb.ipynb").read_text() == NB


def test_materialize_ignores_export_attributes(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {".gitattributes": "secret.py export-ignore\nv.py export-subst\n", "nb.ipynb": NB},
    )
    write(repo / "secret.py", "s\n")
    write(repo / "v.py", "$Format:%H$\n")
    s = take_snapshot(repo / "nb.ipynb", "attrs", private_repo_dir=private_dir)
    dest = tmp_path / "dest"
    materialize(s.git_dir, s.commit, dest)
    assert (dest / "secret.py").read_text() == "s\n"
    assert (dest / "v.py").read_text() == "$Format:%H$\n"


def test_read_file_at_errors(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    s = take_snapshot(repo / "nb.ipynb", "r", private_repo_dir=private_dir)
    with pytest.raises(SnapshotError, match=r"git cat-file .*failed .*"):
        read_file_at(s.git_dir, s.commit, "does/not/exist.py")
    with pytest.raises(SnapshotError, match="does not exist"):
        read_file_at(str(tmp_path / "nope"), s.commit, "nb.ipynb")
    with pytest.raises(SnapshotError):
        materialize(s.git_dir, "f" * 40, tmp_path / "x")


def test_not_a_file(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    with pytest.raises(SnapshotError, match="not a file"):
        take_snapshot(repo, "d", private_repo_dir=private_dir)
    with pytest.raises(SnapshotError, match="not found"):
        take_snapshot(repo / "missing.ipynb", "m", private_repo_dir=private_dir)
    with pytest.raises(SnapshotError, match="not a file"):
        commit_notebook_to_branch(repo, "msg")


# --------------------------------------------------------------------------------------------
# explicit commit to the user's branch


def test_commit_notebook_commits_only_the_notebook(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"nb.ipynb": NB, "other.py": "v1\n", "x.py": "x\n"})
    old_head = git(repo, "rev-parse", "HEAD")
    write(
        repo / "nb.ipynb", NB.replace("[]", '[{"cell_type": "raw", "source": "", "metadata": {}}]')
    )
    write(repo / "other.py", "v2 staged\n")
    git(repo, "add", "other.py")
    write(repo / "x.py", "unstaged\n")
    hook = write(repo / ".git" / "hooks" / "pre-commit", "#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)

    new_head = commit_notebook_to_branch(repo / "nb.ipynb", "Update notebook")

    assert new_head == git(repo, "rev-parse", "HEAD") != old_head
    assert git(repo, "rev-parse", "refs/heads/main") == new_head
    assert git(repo, "rev-parse", "HEAD^") == old_head
    assert git(repo, "log", "-1", "--format=%s") == "Update notebook"
    assert git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD") == "nb.ipynb"
    assert git(repo, "diff", "--cached", "--name-only") == "other.py"  # still staged
    assert git(repo, "show", ":other.py") == "v2 staged"
    assert git(repo, "diff", "--name-only") == "x.py"  # still unstaged
    assert git(repo, "status", "--porcelain", "--", "nb.ipynb") == ""

    # nothing left to commit: returns HEAD unchanged instead of failing
    assert commit_notebook_to_branch(repo / "nb.ipynb", "again") == new_head
    assert git(repo, "rev-parse", "HEAD") == new_head


def test_commit_untracked_notebook(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "a\n"})
    write(repo / "new.ipynb", NB)
    head = commit_notebook_to_branch(repo / "new.ipynb", "Add notebook")
    assert git(repo, "show", f"{head}:new.ipynb") + "\n" == NB
    assert git(repo, "status", "--porcelain") == ""


def test_commit_notebook_in_unborn_repo(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"nb.ipynb": NB, "b.py": "b\n"}, commit=False)
    git(repo, "add", "b.py")
    head = commit_notebook_to_branch(repo / "nb.ipynb", "first")
    assert git(repo, "ls-tree", "--name-only", head) == "nb.ipynb"
    assert git(repo, "diff", "--cached", "--name-only") == "b.py"


def test_commit_detached_head_error(tmp_path: Path, private_dir: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "--detach")
    write(repo / "nb.ipynb", NB + "\n")
    before = fingerprint(repo)
    with pytest.raises(SnapshotError, match="detached"):
        commit_notebook_to_branch(repo / "nb.ipynb", "msg")
    assert fingerprint(repo) == before
    # snapshots still work on a detached HEAD
    s = take_snapshot(repo / "nb.ipynb", "det", private_repo_dir=private_dir)
    assert s.branch is None and s.base_commit == git(repo, "rev-parse", "HEAD") and s.dirty
    assert fingerprint(repo) == before


def test_commit_outside_repo_error(tmp_path: Path) -> None:
    nb = write(tmp_path / "loose" / "nb.ipynb", NB)
    with pytest.raises(SnapshotError, match="not inside a git repository"):
        commit_notebook_to_branch(nb, "msg")


def test_commit_without_identity_error(tmp_path: Path, isolated_git: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    isolated_git.write_text("")
    write(repo / "nb.ipynb", NB + "\n")
    before = fingerprint(repo)
    with pytest.raises(SnapshotError, match=r"git config --global user\.name"):
        commit_notebook_to_branch(repo / "nb.ipynb", "msg")
    assert fingerprint(repo) == before


def test_failed_commit_of_untracked_notebook_restores_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", "false")  # the user's own policy makes commit fail
    write(repo / "new.ipynb", NB)
    before = fingerprint(repo)
    with pytest.raises(SnapshotError, match="git commit"):
        commit_notebook_to_branch(repo / "new.ipynb", "msg")
    assert git(repo, "ls-files", "new.ipynb") == ""
    assert fingerprint(repo)["HEAD"] == before["HEAD"]


# --------------------------------------------------------------------------------------------
# performance


def _count_git_spawns(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the git commands the snapshot code starts (they still run for real)."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(cmd, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(list(cmd))
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    return calls


def test_snapshot_spawn_count(
    tmp_path: Path, private_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"pkg{i // 20}/mod{i}.py": f"value = {i}\n" * 20 for i in range(200)}
    files["nb.ipynb"] = NB
    repo = make_repo(tmp_path / "repo", files)
    for i in range(0, 200, 10):
        write(repo / f"pkg{i // 20}" / f"mod{i}.py", "edited\n")
    before = fingerprint(repo)

    calls = _count_git_spawns(monkeypatch)
    for i in range(3):  # the first snapshot and the warm ones after it (timed in bench/)
        calls.clear()
        take_snapshot(repo / "nb.ipynb", f"t{i}", private_repo_dir=private_dir)
        assert len(calls) <= 8, calls  # 8: one diff-tree names the uncommitted files
    assert fingerprint(repo) == before


def test_submodules(tmp_path: Path, private_dir: Path) -> None:
    lib = make_repo(tmp_path / "lib", {"nb.ipynb": NB, "lib.py": "v1\n"})
    repo = make_repo(tmp_path / "super", {"main.ipynb": NB})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib")
    git(repo, "commit", "-q", "-m", "add submodule")
    sub = repo / "vendor" / "lib"
    write(sub / "lib.py", "v2 edited inside the submodule\n")
    before_super, before_sub = fingerprint(repo), fingerprint(sub)

    # a notebook inside the submodule is snapshotted in the submodule's own repository
    s = take_snapshot(sub / "nb.ipynb", "in-sub", private_repo_dir=private_dir)
    assert s.worktree == str(sub.resolve())
    assert s.git_dir == str((repo / ".git" / "modules" / "vendor" / "lib").resolve())
    assert s.notebook_relpath == "nb.ipynb"
    assert read_file_at(s.git_dir, s.commit, "lib.py") == b"v2 edited inside the submodule\n"

    # from the superproject, the submodule is recorded as a gitlink at its HEAD
    s2 = take_snapshot(repo / "main.ipynb", "in-super", private_repo_dir=private_dir)
    entry = git(repo, "ls-tree", s2.commit, "vendor/lib")
    assert entry.startswith("160000 commit " + git(sub, "rev-parse", "HEAD"))
    assert fingerprint(repo) == before_super
    assert fingerprint(sub) == before_sub
