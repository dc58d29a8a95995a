"""Taking a snapshot: the notebook's whole project as it is on disk, committed with git
plumbing to ``refs/mlops/runs/<run_id>`` without touching the user's index, HEAD, branches
or working tree (see :mod:`jupyter_mlops.snapshot`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..gitcmd import failure_message
from .dirty import CHECKPOINTS_EXCLUDE, changed_files
from .plumbing import (
    SNAPSHOT_CONFIG,
    SnapshotError,
    discover,
    git,
    git_text,
    identity_env,
    resolve_notebook,
)
from .refs import DIR_REF_PREFIX, create_ref, run_ref

CHECKPOINTS_DIR = ".ipynb_checkpoints"

PRIVATE_MAX_FILE_BYTES = 50 * 1024 * 1024
"""Private snapshots skip files larger than this: a notebook outside a repository often sits
next to data sets that must not be copied into the object store on every run."""

PRIVATE_MAX_FILES = 20_000
"""Private snapshots refuse directories with more files than this (e.g. a notebook saved in
the home directory) instead of silently copying a whole disk into the private repository."""

PRIVATE_EXCLUDES = (".ipynb_checkpoints/", "__pycache__/", ".git/", ".*/")
"""Exclude patterns (gitignore syntax) of private snapshots: checkpoints, caches and hidden
directories are never part of what a notebook needs to run."""


@dataclass(frozen=True)
class Snapshot:
    """Where a run's code lives: enough to materialize it again and to show provenance.

    Attributes:
        commit: sha of the snapshot commit.
        ref: ``refs/mlops/runs/<run_id>``, the ref that keeps the commit alive.
        git_dir: absolute path of the git directory holding the commit (the common git dir of
            the user's repository, so it stays valid when a linked worktree is removed, or the
            private repository).
        worktree: absolute path of the snapshotted tree's root (repository top level, or the
            notebook's directory for a private snapshot).
        notebook_relpath: notebook path relative to ``worktree``, POSIX separators.
        branch: user's current branch name (``None`` if detached or private).
        base_commit: user's HEAD sha (``None`` if unborn or private).
        dirty: the snapshot tree differs from HEAD's tree (private: from the previous snapshot
            of the same directory; ``True`` when there is nothing to compare with).
        private: the notebook was outside any git repository.
        dirty_files: which files differ (every file when there is nothing to compare
            with), at most :data:`~jupyter_mlops.snapshot.dirty.DIRTY_FILES_LISTED`.
        dirty_count: how many files differ in all.
    """

    commit: str
    ref: str
    git_dir: str
    worktree: str
    notebook_relpath: str
    branch: str | None
    base_commit: str | None
    dirty: bool
    private: bool
    dirty_files: tuple[str, ...] = ()
    dirty_count: int = 0

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON (store rows, REST responses)."""
        return dataclasses.asdict(self)


def _default_message(run_id: str, relpath: str) -> str:
    return f"jupyter-mlops snapshot for run {run_id}\n\nnotebook: {relpath}\n"


def _commit_tree(
    git_args: Sequence[str],
    cwd: Path,
    tree: str,
    parent: str | None,
    message: str,
    ident: Mapping[str, str],
) -> str:
    """``commit-tree`` with the message on stdin and signing off: a snapshot must never wait
    for a gpg pinentry because the user has ``commit.gpgSign`` set."""
    args = [*git_args, "commit-tree", "--no-gpg-sign", tree]
    if parent:
        args += ["-p", parent]
    msg = message if message.endswith("\n") else message + "\n"
    return git_text(args, cwd=cwd, env=ident, stdin=msg.encode("utf-8"), config=SNAPSHOT_CONFIG)


def _escape_ignore_pattern(relpath: str) -> str:
    """Anchored gitignore pattern that matches exactly ``relpath``."""
    escaped = re.sub(r"([\\*?\[])", r"\\\1", relpath)
    stripped = escaped.rstrip(" ")
    return "/" + stripped + "\\ " * (len(escaped) - len(stripped))


def take_snapshot(
    notebook_path: Path,
    run_id: str,
    *,
    private_repo_dir: Path,
    message: str | None = None,
    data_dir: Path | None = None,
) -> Snapshot:
    """Commit the notebook's whole project, as it is on disk, to ``refs/mlops/runs/<run_id>``.

    Inside a git repository this captures tracked files (with their on-disk content, modified or
    deleted) and untracked files that are not ignored, plus the notebook itself even when it is
    ignored (the run must execute exactly it). It works on a *copy* of the user's index (so
    stat information is reused and ``git add`` only hashes changed files), which is why the
    user's index, HEAD, branches and files stay byte-for-byte unchanged, and why concurrent
    snapshots do not interfere. The ref is created only if it does not exist yet: a run id
    always names one snapshot.

    Outside any repository the notebook's directory is snapshotted into the private repository
    at ``private_repo_dir`` (created on first use); see :data:`PRIVATE_EXCLUDES`,
    :data:`PRIVATE_MAX_FILE_BYTES` and :data:`PRIVATE_MAX_FILES`.

    ``data_dir``, jupyter-mlops' data directory (the live SQLite store and its WAL, run
    directories, artifacts), is never part of a snapshot, wherever it lies; a notebook
    inside it is refused.
    """
    ref = run_ref(run_id)
    notebook = resolve_notebook(notebook_path)
    data = _data_dir_outside(notebook, data_dir)
    repo = discover(notebook.parent)
    if repo is None:
        return _take_private_snapshot(notebook, run_id, ref, Path(private_repo_dir), message, data)

    try:
        relpath = notebook.relative_to(repo.toplevel).as_posix()
    except ValueError as exc:
        raise SnapshotError(
            f"notebook {notebook} is not inside its repository's top level {repo.toplevel}"
        ) from exc
    top = repo.toplevel
    ident = identity_env(
        [], top, config_files=[repo.common_dir / "config", repo.git_dir / "config.worktree"]
    )
    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-snapshot-") as tmp:
        index = Path(tmp) / "index"
        if repo.index_file.is_file():
            # copy2 keeps the mtime, which git's racy-entry detection compares entries with.
            shutil.copy2(repo.index_file, index)
        env = {"GIT_INDEX_FILE": str(index), "GIT_LITERAL_PATHSPECS": "1"}
        added = git(  # pathspec magic on for the checkpoints' glob only
            ["add", "-A", "--", ".", CHECKPOINTS_EXCLUDE, f":(literal){relpath}"],
            cwd=top,
            env={**env, "GIT_LITERAL_PATHSPECS": "0", "LC_ALL": "C"},
            config=(*SNAPSHOT_CONFIG, "-c", "advice.addIgnoredFile=false"),
            check=False,
        )
        if added.returncode not in (0, 1):
            raise SnapshotError(failure_message(["add", "-A"], added))
        if data is not None and data.is_relative_to(top):
            unstage = ["rm", "-r", "-q", "--cached", "--ignore-unmatch"]
            rel = data.relative_to(top).as_posix()
            git([*unstage, "--", rel], cwd=top, env=env, config=SNAPSHOT_CONFIG)
        if added.returncode == 1 or CHECKPOINTS_DIR in relpath.split("/"):
            # the notebook is ignored (git added the rest and refused it) or in a checkpoints
            # directory: the run must execute exactly it, so it is added anyway
            git(["add", "-f", "--", relpath], cwd=top, env=env, config=SNAPSHOT_CONFIG)
        tree = git_text(["write-tree"], cwd=top, env=env, config=SNAPSHOT_CONFIG)
    commit = _commit_tree(
        [], top, tree, repo.head, message or _default_message(run_id, relpath), ident
    )
    create_ref(["-C", str(top)], ref, commit)
    branch = repo.branch_ref[len("refs/heads/") :] if repo.branch_ref else None
    files, count = changed_files([], top, repo.head_tree, tree)
    return Snapshot(
        commit=commit,
        ref=ref,
        git_dir=str(repo.common_dir),
        worktree=str(top),
        notebook_relpath=relpath,
        branch=branch,
        base_commit=repo.head,
        dirty=tree != repo.head_tree,
        private=False,
        dirty_files=tuple(files),
        dirty_count=count,
    )


def _data_dir_outside(notebook: Path, data_dir: Path | None) -> Path | None:
    """The resolved data directory; a SnapshotError when the notebook is inside it."""
    if data_dir is None:
        return None
    data = Path(data_dir).expanduser().resolve()
    if notebook.parent.is_relative_to(data):
        raise SnapshotError(
            f"notebook {notebook} is inside the jupyter-mlops data directory {data} (the run "
            "store, run directories and artifacts); move the notebook out of it, or set "
            "c.MLOps.data_dir (JUPYTER_MLOPS_DATA_DIR) to another directory"
        )
    return data


def _ensure_private_repo(private_repo_dir: Path) -> Path:
    """Create the private (bare) repository on first use; return its absolute path."""
    git_dir = Path(private_repo_dir).expanduser().absolute()
    if not (git_dir / "HEAD").is_file() or not (git_dir / "objects").is_dir():
        try:
            git_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SnapshotError(f"cannot create private repository {git_dir}: {exc}") from exc
        git(["init", "-q", "--bare", str(git_dir)], cwd=git_dir)
    return git_dir.resolve()


def _scan_private_dir(workdir: Path, skip: set[Path]) -> list[str]:
    """Relative paths to exclude from a private snapshot for size (and ``skip``: the private
    repository and the data directory when they live under ``workdir``); fail on huge
    directories."""
    excluded: list[str] = []
    count = 0
    for root, dirs, files in os.walk(workdir):
        rootp = Path(root)
        kept = []
        for d in dirs:
            if d.startswith(".") or d == "__pycache__":
                continue
            if rootp / d in skip:
                excluded.append((rootp / d).relative_to(workdir).as_posix() + "/")
                continue
            kept.append(d)
        dirs[:] = kept
        for name in files:
            count += 1
            if count > PRIVATE_MAX_FILES:
                raise SnapshotError(
                    f"{workdir} holds more than {PRIVATE_MAX_FILES} files; a notebook outside "
                    "a git repository is snapshotted with its whole directory, so move it into "
                    "a project directory of its own or into a git repository"
                )
            path = rootp / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if not path.is_symlink() and st.st_size > PRIVATE_MAX_FILE_BYTES:
                excluded.append(path.relative_to(workdir).as_posix())
    return excluded


def _take_private_snapshot(
    notebook: Path,
    run_id: str,
    ref: str,
    private_repo_dir: Path,
    message: str | None,
    data_dir: Path | None,
) -> Snapshot:
    workdir = notebook.parent
    git_dir = _ensure_private_repo(private_repo_dir)
    skip = {d for d in (git_dir, data_dir) if d and d.is_relative_to(workdir) and d != workdir}
    if git_dir == workdir:
        raise SnapshotError(f"the private repository {git_dir} cannot be the notebook's directory")
    excluded = _scan_private_dir(workdir, skip)
    dir_key = hashlib.sha1(os.fsencode(str(workdir))).hexdigest()
    dir_ref = DIR_REF_PREFIX + dir_key
    cache = git_dir / "mlops-indexes" / dir_key
    gargs = ["--git-dir", str(git_dir), "--work-tree", str(workdir)]
    relpath = notebook.name

    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-snapshot-") as tmp:
        exclude_file = Path(tmp) / "exclude"
        patterns = [*PRIVATE_EXCLUDES, *(_escape_ignore_pattern(p) for p in excluded)]
        exclude_file.write_text("\n".join(patterns) + "\n", encoding="utf-8")
        index = Path(tmp) / "index"
        if cache.is_file():
            shutil.copy2(cache, index)  # reuse stat info: unchanged files are not re-hashed
        env = {"GIT_INDEX_FILE": str(index), "GIT_LITERAL_PATHSPECS": "1"}
        config = (*SNAPSHOT_CONFIG, "-c", f"core.excludesFile={exclude_file}")
        git([*gargs, "add", "-A", "--", "."], cwd=workdir, env=env, config=config)
        git([*gargs, "add", "-f", "--", relpath], cwd=workdir, env=env, config=config)
        tree = git_text([*gargs, "write-tree"], cwd=workdir, env=env, config=config)
        _save_index_cache(index, cache)

    prev = git_text(
        ["--git-dir", str(git_dir), "for-each-ref", "--format=%(objectname) %(tree)", dir_ref],
        cwd=workdir,
    )
    parent, parent_tree = prev.split() if prev else (None, None)
    files, count = changed_files(["--git-dir", str(git_dir)], workdir, parent_tree, tree)
    ident = identity_env(["--git-dir", str(git_dir)], workdir, config_files=[git_dir / "config"])
    msg = message or _default_message(run_id, str(notebook))
    commit = _commit_tree(["--git-dir", str(git_dir)], workdir, tree, parent, msg, ident)
    # One transaction: the run ref (must be new) and the directory's history ref.
    git(
        ["--git-dir", str(git_dir), "update-ref", "-m", "jupyter-mlops snapshot", "--stdin"],
        cwd=workdir,
        stdin=f"create {ref} {commit}\nupdate {dir_ref} {commit}\n".encode(),
        config=SNAPSHOT_CONFIG,
    )
    return Snapshot(
        commit=commit,
        ref=ref,
        git_dir=str(git_dir),
        worktree=str(workdir),
        notebook_relpath=relpath,
        branch=None,
        base_commit=None,
        dirty=tree != parent_tree,
        private=True,
        dirty_files=tuple(files),
        dirty_count=count,
    )


def _save_index_cache(index: Path, cache: Path) -> None:
    """Keep the private snapshot's index for the next snapshot of the same directory.

    Only a speed-up: written atomically (copy then rename) and any failure is ignored.
    """
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{uuid.uuid4().hex}.tmp")
        shutil.copy2(index, tmp)
        os.replace(tmp, cache)
    except OSError:
        pass
