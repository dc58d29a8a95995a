"""Git snapshots of a notebook's project that never disturb the user.

A run executes a *snapshot*, not the live file: editing the notebook while the run executes
changes nothing, and "reproduce" means running the very same commit again. The snapshot is a
real git commit so it is content-addressed, deduplicated, diffable and pushable, but it must
be taken without touching anything the user can see:

* no checkout, stash, reset, or write to the user's index, HEAD, branches or working tree;
* only plumbing (``add`` into a *temporary* index, ``write-tree``, ``commit-tree``,
  ``update-ref``), so no hooks run and nothing prompts;
* the commit is kept alive by ``refs/mlops/runs/<run_id>`` (not a branch, so it never shows
  up in ``git branch`` but can be pushed on purpose).

A notebook outside any git repository is snapshotted into a private repository (normally in
the jupyter-mlops data directory), with the notebook's directory as its work tree.

Committing the notebook to the user's current branch is a separate, explicit operation
(:func:`commit_notebook_to_branch`), never a side effect of a snapshot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DIR_REF_PREFIX",
    "RUN_REF_PREFIX",
    "BranchHead",
    "Snapshot",
    "SnapshotError",
    "commit_notebook_to_branch",
    "delete_run_ref",
    "link_run_ref",
    "materialize",
    "read_file_at",
    "resolve_branch",
    "snapshot_branch",
    "take_snapshot",
]

RUN_REF_PREFIX = "refs/mlops/runs/"
"""Namespace of the refs that keep each run's snapshot commit alive."""

DIR_REF_PREFIX = "refs/mlops/dirs/"
"""Private repository only: last snapshot of a directory (sha1 of its absolute path), so
successive snapshots of the same directory form a history instead of unrelated roots."""

DEFAULT_NAME = "jupyter-mlops"
DEFAULT_EMAIL = "jupyter-mlops@localhost"

PRIVATE_MAX_FILE_BYTES = 50 * 1024 * 1024
"""Private snapshots skip files larger than this: a notebook outside a repository often sits
next to data sets that must not be copied into the object store on every run."""

PRIVATE_MAX_FILES = 20_000
"""Private snapshots refuse directories with more files than this (e.g. a notebook saved in
the home directory) instead of silently copying a whole disk into the private repository."""

PRIVATE_EXCLUDES = (".ipynb_checkpoints/", "__pycache__/", ".git/", ".*/")
"""Exclude patterns (gitignore syntax) of private snapshots: checkpoints, caches and hidden
directories are never part of what a notebook needs to run."""

# Variables that would make git operate on some other repository / index than the one we
# name explicitly (e.g. when the server was started from a git hook or an IDE terminal).
_REPO_LOCATING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_NAMESPACE",
)

# Safety settings for every snapshot command: no hooks, no automatic gc in the user's repo,
# never write a split index / shared index into the user's .git, never fail on CRLF safety
# checks or stop for advice.
_SNAPSHOT_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "core.splitIndex=false",
    "-c",
    "core.safecrlf=false",
    "-c",
    "core.sparseCheckout=false",
    "-c",
    "advice.addEmbeddedRepo=false",
)

_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class SnapshotError(Exception):
    """A snapshot operation failed; the message is meant to be shown to the user as is
    (it names the problem and, for git failures, includes git's own stderr)."""


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

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON (store rows, REST responses)."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------
# running git


def _base_env() -> dict[str, str]:
    """Environment for every git call.

    ``GIT_OPTIONAL_LOCKS=0`` keeps read commands from opportunistically refreshing (rewriting)
    the user's index; ``GIT_TERMINAL_PROMPT=0`` makes git fail instead of waiting for input
    that a server process can never give.
    """
    env = {k: v for k, v in os.environ.items() if k not in _REPO_LOCATING_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _git(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    config: Sequence[str] = (),
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git [config] args``; raise :class:`SnapshotError` with git's stderr on failure
    (when ``check``), never a bare ``CalledProcessError``."""
    full_env = _base_env()
    if env:
        full_env.update(env)
    io: dict[str, object] = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    try:
        proc = subprocess.run(
            ["git", *config, *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            check=False,
            **io,  # type: ignore[arg-type]
        )
    except FileNotFoundError as exc:
        if cwd is not None and not Path(cwd).is_dir():
            raise SnapshotError(f"directory does not exist: {cwd}") from exc
        raise SnapshotError("git is not installed (no 'git' executable on PATH)") from exc
    except OSError as exc:
        raise SnapshotError(f"could not run git: {exc}") from exc
    if check and proc.returncode != 0:
        raise SnapshotError(_failure_message(args, proc))
    return proc


def _failure_message(args: Sequence[str], proc: subprocess.CompletedProcess[bytes]) -> str:
    # Show the subcommand, not the --git-dir/--work-tree/-C noise in front of it.
    shown: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg in ("--git-dir", "--work-tree", "-C"):
            skip_next = True
        else:
            shown.append(arg)
    words = " ".join(shown[:4])
    stderr = os.fsdecode(proc.stderr).strip() or os.fsdecode(proc.stdout).strip()
    return f"git {words} failed (exit {proc.returncode}): {stderr or 'no error output'}"


def _out(proc: subprocess.CompletedProcess[bytes]) -> str:
    return os.fsdecode(proc.stdout).strip()


# --------------------------------------------------------------------------------------------
# discovery


@dataclass(frozen=True)
class _Repo:
    toplevel: Path
    common_dir: Path
    git_dir: Path
    index_file: Path
    head: str | None
    head_tree: str | None
    branch_ref: str | None  # "refs/heads/<name>", None when detached


def _discover(start: Path) -> _Repo | None:
    """Find the repository containing ``start`` in ONE git call (None: not in a repository).

    ``--revs-only`` makes an unresolvable HEAD (unborn branch) simply print nothing instead of
    failing, so the same call serves born and unborn repositories.
    """
    proc = _git(
        [
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-common-dir",
            "--absolute-git-dir",
            "--git-path",
            "index",
            "--revs-only",
            "HEAD",
            "HEAD^{tree}",
        ],
        cwd=start,
        env={"LC_ALL": "C"},  # stable message to recognise "not a git repository"
        check=False,
    )
    if proc.returncode != 0:
        if b"not a git repository" in proc.stderr:
            return None
        raise SnapshotError(_failure_message(["rev-parse", "--show-toplevel"], proc))
    lines = [os.fsdecode(line) for line in proc.stdout.split(b"\n") if line]
    if len(lines) not in (4, 6):
        raise SnapshotError(f"unexpected output of git rev-parse in {start}: {lines!r}")
    toplevel, common, gitdir, index = (Path(p) for p in lines[:4])
    head, head_tree = (lines[4], lines[5]) if len(lines) == 6 else (None, None)
    return _Repo(
        toplevel=toplevel,
        common_dir=common,
        git_dir=gitdir,
        index_file=index,
        head=head,
        head_tree=head_tree,
        branch_ref=_branch_ref(gitdir, toplevel),
    )


def _branch_ref(git_dir: Path, cwd: Path) -> str | None:
    """Current branch ref, or None when detached.

    Reading the ``HEAD`` file saves a process; ``git symbolic-ref`` is the fallback for
    anything unusual (reftable repositories keep a placeholder there).
    """
    try:
        content = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        content = ""
    if content.startswith("ref: refs/heads/") and content != "ref: refs/heads/.invalid":
        return content[len("ref: ") :]
    if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", content):
        return None
    proc = _git(["symbolic-ref", "-q", "HEAD"], cwd=cwd, check=False)
    return (_out(proc) or None) if proc.returncode == 0 else None


def _identity_env(git_args: Sequence[str], cwd: Path) -> dict[str, str]:
    """Author/committer env defaults for whatever identity the user has not configured.

    Snapshots must work on fresh machines and containers without ``user.name``; when the user
    has an identity, the snapshot commits carry it.
    """
    proc = _git(
        [*git_args, "config", "--get-regexp", r"^(user|author|committer)\.(name|email)$"],
        cwd=cwd,
        check=False,
    )
    if proc.returncode not in (0, 1):  # 1 = no such key
        raise SnapshotError(_failure_message(["config", "--get-regexp"], proc))
    keys = {os.fsdecode(line).split(" ", 1)[0].lower() for line in proc.stdout.split(b"\n") if line}
    env: dict[str, str] = {}
    for role in ("author", "committer"):
        for field, default in (("name", DEFAULT_NAME), ("email", DEFAULT_EMAIL)):
            var = f"GIT_{role.upper()}_{field.upper()}"
            if os.environ.get(var) or f"user.{field}" in keys or f"{role}.{field}" in keys:
                continue
            if field == "email" and os.environ.get("EMAIL"):
                continue
            env[var] = default
    return env


# --------------------------------------------------------------------------------------------
# helpers


def _run_ref(run_id: str) -> str:
    """The run's ref; run ids are checked here so they can never escape ``refs/mlops/runs``."""
    if (
        not isinstance(run_id, str)
        or not _RUN_ID_RE.match(run_id)
        or ".." in run_id
        or run_id.endswith((".lock", "."))
    ):
        raise SnapshotError(
            f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit)"
        )
    return RUN_REF_PREFIX + run_id


def _resolve_notebook(notebook_path: Path) -> Path:
    """Absolute notebook path with its *directory* resolved (so it matches git's physical
    top level) but the file name kept (a symlinked notebook stays itself)."""
    path = Path(notebook_path).expanduser()
    if not path.exists():
        raise SnapshotError(f"notebook not found: {path}")
    if not path.is_file():
        raise SnapshotError(f"not a file: {path}")
    path = path.absolute()
    return path.parent.resolve() / path.name


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
    return _out(_git(args, cwd=cwd, env=ident, stdin=msg.encode("utf-8"), config=_SNAPSHOT_CONFIG))


def _escape_ignore_pattern(relpath: str) -> str:
    """Anchored gitignore pattern that matches exactly ``relpath``."""
    escaped = re.sub(r"([\\*?\[])", r"\\\1", relpath)
    stripped = escaped.rstrip(" ")
    return "/" + stripped + "\\ " * (len(escaped) - len(stripped))


# --------------------------------------------------------------------------------------------
# snapshots


def take_snapshot(
    notebook_path: Path,
    run_id: str,
    *,
    private_repo_dir: Path,
    message: str | None = None,
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
    """
    ref = _run_ref(run_id)
    notebook = _resolve_notebook(notebook_path)
    repo = _discover(notebook.parent)
    if repo is None:
        return _take_private_snapshot(notebook, run_id, ref, Path(private_repo_dir), message)

    try:
        relpath = notebook.relative_to(repo.toplevel).as_posix()
    except ValueError as exc:
        raise SnapshotError(
            f"notebook {notebook} is not inside its repository's top level {repo.toplevel}"
        ) from exc
    top = repo.toplevel
    ident = _identity_env([], top)
    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-snapshot-") as tmp:
        index = Path(tmp) / "index"
        if repo.index_file.is_file():
            # copy2 keeps the mtime, which git's racy-entry detection compares entries with.
            shutil.copy2(repo.index_file, index)
        env = {"GIT_INDEX_FILE": str(index), "GIT_LITERAL_PATHSPECS": "1"}
        _git(["add", "-A", "--", "."], cwd=top, env=env, config=_SNAPSHOT_CONFIG)
        _git(["add", "-f", "--", relpath], cwd=top, env=env, config=_SNAPSHOT_CONFIG)
        tree = _out(_git(["write-tree"], cwd=top, env=env, config=_SNAPSHOT_CONFIG))
    commit = _commit_tree(
        [], top, tree, repo.head, message or _default_message(run_id, relpath), ident
    )
    _create_ref(["-C", str(top)], ref, commit)
    branch = repo.branch_ref[len("refs/heads/") :] if repo.branch_ref else None
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
    )


def _create_ref(git_args: Sequence[str], ref: str, commit: str) -> None:
    """Create ``ref`` atomically, refusing to overwrite an existing one (old value "")."""
    _git(
        [*git_args, "update-ref", "-m", "jupyter-mlops snapshot", ref, commit, ""],
        config=_SNAPSHOT_CONFIG,
    )


def _ensure_private_repo(private_repo_dir: Path) -> Path:
    """Create the private (bare) repository on first use; return its absolute path."""
    git_dir = Path(private_repo_dir).expanduser().absolute()
    if not (git_dir / "HEAD").is_file() or not (git_dir / "objects").is_dir():
        try:
            git_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SnapshotError(f"cannot create private repository {git_dir}: {exc}") from exc
        _git(["init", "-q", "--bare", str(git_dir)], cwd=git_dir)
    return git_dir.resolve()


def _scan_private_dir(workdir: Path, skip: Path | None) -> list[str]:
    """Relative paths to exclude from a private snapshot for size (and ``skip``, the private
    repository itself when it lives under ``workdir``); fail on huge directories."""
    excluded: list[str] = []
    count = 0
    for root, dirs, files in os.walk(workdir):
        rootp = Path(root)
        kept = []
        for d in dirs:
            if d.startswith(".") or d == "__pycache__":
                continue
            if skip is not None and rootp / d == skip:
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
    notebook: Path, run_id: str, ref: str, private_repo_dir: Path, message: str | None
) -> Snapshot:
    workdir = notebook.parent
    git_dir = _ensure_private_repo(private_repo_dir)
    skip = git_dir if git_dir.is_relative_to(workdir) and git_dir != workdir else None
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
        config = (*_SNAPSHOT_CONFIG, "-c", f"core.excludesFile={exclude_file}")
        _git([*gargs, "add", "-A", "--", "."], cwd=workdir, env=env, config=config)
        _git([*gargs, "add", "-f", "--", relpath], cwd=workdir, env=env, config=config)
        tree = _out(_git([*gargs, "write-tree"], cwd=workdir, env=env, config=config))
        _save_index_cache(index, cache)

    prev = _out(
        _git(
            ["--git-dir", str(git_dir), "for-each-ref", "--format=%(objectname) %(tree)", dir_ref],
            cwd=workdir,
        )
    )
    parent, parent_tree = prev.split() if prev else (None, None)
    ident = _identity_env(["--git-dir", str(git_dir)], workdir)
    msg = message or _default_message(run_id, str(notebook))
    commit = _commit_tree(["--git-dir", str(git_dir)], workdir, tree, parent, msg, ident)
    # One transaction: the run ref (must be new) and the directory's history ref.
    _git(
        ["--git-dir", str(git_dir), "update-ref", "-m", "jupyter-mlops snapshot", "--stdin"],
        cwd=workdir,
        stdin=f"create {ref} {commit}\nupdate {dir_ref} {commit}\n".encode(),
        config=_SNAPSHOT_CONFIG,
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


# --------------------------------------------------------------------------------------------
# explicit commit to the user's branch


def commit_notebook_to_branch(notebook_path: Path, message: str) -> str:
    """Commit only the notebook to the user's current branch; return the new HEAD sha.

    This is the one operation that changes the user's branch, and only when asked for
    explicitly. It runs ``git commit --only -- <notebook>``: only that path is committed, other
    staged changes stay staged (the index entry of the notebook is updated, as with any
    commit). Hooks are not run (``core.hooksPath=/dev/null``) because this happens in a server
    process with no terminal, where an interactive or slow hook would hang the request.

    If the notebook has no changes against HEAD there is nothing to commit and the current
    HEAD sha is returned rather than failing, so "commit, then run" is idempotent.

    Raises :class:`SnapshotError` when the notebook is not in a git repository, HEAD is
    detached, no git identity is configured, or git fails.
    """
    notebook = _resolve_notebook(notebook_path)
    repo = _discover(notebook.parent)
    if repo is None:
        raise SnapshotError(
            f"{notebook} is not inside a git repository, so it cannot be committed to a branch"
        )
    if repo.branch_ref is None:
        raise SnapshotError(
            f"HEAD is detached in {repo.toplevel}; check out a branch before committing "
            "the notebook"
        )
    top = repo.toplevel
    missing = _identity_env([], top)
    if missing:
        raise SnapshotError(
            "no git identity is configured, so the commit would have no author; set one with\n"
            '  git config --global user.name "Your Name"\n'
            '  git config --global user.email "you@example.com"'
        )
    relpath = notebook.relative_to(top).as_posix()
    env = {"GIT_LITERAL_PATHSPECS": "1"}
    tracked = _out(_git(["ls-files", "-z", "--", relpath], cwd=top, env=env)) != ""
    if not tracked:
        # --only refuses paths unknown to git; mark the notebook as intended-to-add (also when
        # ignored: committing it was explicitly asked for).
        _git(["add", "-N", "-f", "--", relpath], cwd=top, env=env)
    elif repo.head is not None:
        diff = _git(
            ["diff", "--quiet", "--no-ext-diff", "--no-textconv", "HEAD", "--", relpath],
            cwd=top,
            env=env,
            check=False,
        )
        if diff.returncode == 0:
            return repo.head
        if diff.returncode != 1:
            raise SnapshotError(_failure_message(["diff", "--quiet", "HEAD"], diff))
    try:
        _git(
            ["commit", "--only", "--no-verify", "-q", "-F", "-", "--", relpath],
            cwd=top,
            env=env,
            stdin=(message if message.endswith("\n") else message + "\n").encode("utf-8"),
            config=("-c", "core.hooksPath=/dev/null", "-c", "maintenance.auto=false"),
        )
    except SnapshotError:
        if not tracked:  # undo our intent-to-add so a failed commit leaves the index as it was
            _git(["rm", "--cached", "-q", "--", relpath], cwd=top, env=env, check=False)
        raise
    return _out(_git(["rev-parse", "--verify", "HEAD^{commit}"], cwd=top))


# --------------------------------------------------------------------------------------------
# branch heads (GitOps: run what is committed, not what is on disk)


@dataclass(frozen=True)
class BranchHead:
    """Where a notebook lives on a branch: the branch's head commit and the notebook's path
    in it (relative to the repository's top level, POSIX separators)."""

    branch: str
    ref: str
    commit: str
    git_dir: str
    worktree: str
    notebook_relpath: str


def _existing_parent(path: Path) -> Path:
    start = path.parent
    while not start.is_dir():
        if start.parent == start:
            raise SnapshotError(f"no directory of {path} exists")
        start = start.parent
    return start


def resolve_branch(notebook_path: Path, branch: str) -> BranchHead:
    """The head of ``branch`` in the repository that holds ``notebook_path``.

    The notebook must exist in the branch's head commit; it need not exist in the working
    copy (a schedule that runs a branch keeps working when the file is deleted on disk).
    ``branch`` is a local branch name, or a remote-tracking one such as ``origin/main``.
    Raises :class:`SnapshotError` for a path outside any repository, an unknown or invalid
    branch, or a notebook that is not on the branch.
    """
    if not isinstance(branch, str) or not branch.strip():
        raise SnapshotError("the branch name is empty")
    branch = branch.strip()
    path = Path(notebook_path).expanduser().absolute()
    start = _existing_parent(path)
    repo = _discover(start)
    if repo is None:
        raise SnapshotError(
            f"{path} is not inside a git repository, so it cannot run from branch {branch!r}"
        )
    top = repo.toplevel
    try:
        relpath = (start.resolve() / path.relative_to(start)).relative_to(top).as_posix()
    except ValueError as exc:
        raise SnapshotError(f"notebook {path} is not inside its repository {top}") from exc
    valid = _git(["check-ref-format", "--branch", branch], cwd=top, check=False)
    if valid.returncode != 0 or branch.startswith("-"):
        raise SnapshotError(f"{branch!r} is not a valid branch name")
    for ref in (f"refs/heads/{branch}", f"refs/remotes/{branch}"):
        proc = _git(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], cwd=top, check=False)
        if proc.returncode == 0 and _out(proc):
            commit = _out(proc)
            break
    else:
        names = _out(
            _git(["for-each-ref", "--format=%(refname:short)", "refs/heads"], cwd=top)
        ).split()
        raise SnapshotError(
            f"unknown branch {branch!r} in {top} (branches: {', '.join(names) or 'none'})"
        )
    found = _git(["cat-file", "-e", f"{commit}:{relpath}"], cwd=top, check=False)
    if found.returncode != 0:
        raise SnapshotError(
            f"{relpath} does not exist on branch {branch!r} (head {commit[:12]}); "
            "commit it to the branch first"
        )
    return BranchHead(
        branch=branch,
        ref=ref,
        commit=commit,
        git_dir=str(repo.common_dir),
        worktree=str(top),
        notebook_relpath=relpath,
    )


def snapshot_branch(
    notebook_path: Path, branch: str, run_id: str, *, commit: str | None = None
) -> Snapshot:
    """Point ``refs/mlops/runs/<run_id>`` at the head commit of ``branch``: the run executes
    exactly what is committed there, whatever the working copy holds.

    No new commit is made (the snapshot *is* the branch's commit, so ``dirty`` is False).
    ``commit`` pins the head resolved earlier by :func:`resolve_branch` (e.g. the commit whose
    notebook was validated), so a push in between cannot change what runs.
    """
    head = resolve_branch(notebook_path, branch)
    target = commit or head.commit
    ref = _run_ref(run_id)
    _create_ref(["--git-dir", head.git_dir], ref, target)
    return Snapshot(
        commit=target,
        ref=ref,
        git_dir=head.git_dir,
        worktree=head.worktree,
        notebook_relpath=head.notebook_relpath,
        branch=head.branch,
        base_commit=target,
        dirty=False,
        private=False,
    )


# --------------------------------------------------------------------------------------------
# refs and reading snapshots back


def _existing_git_dir(git_dir: str) -> Path:
    path = Path(git_dir)
    if not path.is_dir():
        raise SnapshotError(f"git directory does not exist: {git_dir}")
    return path


def link_run_ref(git_dir: str, commit: str, run_id: str) -> str:
    """Point ``refs/mlops/runs/<run_id>`` at an existing snapshot commit and return the ref.

    Used by "reproduce": the new run executes the very same commit, and its own ref keeps that
    commit alive even if the original run (and its ref) is deleted. Linking the same commit
    twice is a no-op; a ref that already points elsewhere is an error.
    """
    ref = _run_ref(run_id)
    path = _existing_git_dir(git_dir)
    args = ["--git-dir", str(path)]
    proc = _git(
        [*args, "update-ref", "-m", "jupyter-mlops reproduce", ref, f"{commit}^{{commit}}", ""],
        cwd=path,
        config=_SNAPSHOT_CONFIG,
        check=False,
    )
    if proc.returncode != 0:
        current = _git([*args, "rev-parse", "-q", "--verify", ref], cwd=path, check=False)
        wanted = _git(
            [*args, "rev-parse", "-q", "--verify", f"{commit}^{{commit}}"], cwd=path, check=False
        )
        if not (current.returncode == 0 and _out(current) and _out(current) == _out(wanted)):
            raise SnapshotError(_failure_message(["update-ref", ref], proc))
    return ref


def delete_run_ref(git_dir: str, run_id: str) -> None:
    """Delete a run's ref (its commit becomes garbage once nothing else references it).

    Idempotent: a missing ref or a git directory that no longer exists is not an error, so
    deleting a run never fails half-way because of an earlier partial delete.
    """
    ref = _run_ref(run_id)
    path = Path(git_dir)
    if not path.is_dir():
        return
    _git(
        ["--git-dir", str(path), "update-ref", "-m", "jupyter-mlops delete", "-d", ref],
        cwd=path,
        config=_SNAPSHOT_CONFIG,
    )


def materialize(git_dir: str, commit: str, dest: Path) -> None:
    """Write the commit's tree into ``dest`` (created if needed) for a run to execute.

    Uses ``read-tree`` into a temporary index and ``checkout-index`` with ``dest`` as work
    tree: nothing of the source repository's index, HEAD or working tree is touched, file
    modes (executable bits) and symlinks are preserved, and checkout filters (e.g. Git LFS)
    apply. Unlike ``git archive`` it ignores ``export-ignore``/``export-subst`` attributes,
    which would otherwise drop or rewrite files. Submodules are not materialized.
    """
    path = _existing_git_dir(git_dir)
    dest = Path(dest).absolute()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SnapshotError(f"cannot create {dest}: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-materialize-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        base = ["--git-dir", str(path), "--work-tree", str(dest)]
        _git([*base, "read-tree", f"{commit}^{{tree}}"], cwd=dest, env=env, config=_SNAPSHOT_CONFIG)
        _git([*base, "checkout-index", "-a", "-f"], cwd=dest, env=env, config=_SNAPSHOT_CONFIG)


def read_file_at(git_dir: str, commit: str, relpath: str) -> bytes:
    """The raw bytes of ``relpath`` in ``commit`` (as stored: no checkout filters applied)."""
    path = _existing_git_dir(git_dir)
    rel = relpath.replace(os.sep, "/").lstrip("/")
    proc = _git(["--git-dir", str(path), "cat-file", "blob", f"{commit}:{rel}"], cwd=path)
    return proc.stdout
