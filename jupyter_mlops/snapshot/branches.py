"""Branches: what is committed on one (GitOps: a schedule runs the branch's head, not what
is on disk), and the one explicit operation that commits to the user's current branch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..gitcmd import failure_message, output_text
from .create import Snapshot
from .plumbing import (
    SnapshotError,
    discover,
    forget_discoveries,
    git,
    git_text,
    identity_env,
    resolve_notebook,
)
from .refs import create_ref, run_ref


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
    notebook = resolve_notebook(notebook_path)
    repo = discover(notebook.parent)
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
    missing = identity_env([], top)
    if missing:
        raise SnapshotError(
            "no git identity is configured, so the commit would have no author; set one with\n"
            '  git config --global user.name "Your Name"\n'
            '  git config --global user.email "you@example.com"'
        )
    relpath = notebook.relative_to(top).as_posix()
    env = {"GIT_LITERAL_PATHSPECS": "1"}
    tracked = git_text(["ls-files", "-z", "--", relpath], cwd=top, env=env) != ""
    if not tracked:
        # --only refuses paths unknown to git; mark the notebook as intended-to-add (also when
        # ignored: committing it was explicitly asked for).
        git(["add", "-N", "-f", "--", relpath], cwd=top, env=env)
    elif repo.head is not None:
        diff = git(
            ["diff", "--quiet", "--no-ext-diff", "--no-textconv", "HEAD", "--", relpath],
            cwd=top,
            env=env,
            check=False,
        )
        if diff.returncode == 0:
            return repo.head
        if diff.returncode != 1:
            raise SnapshotError(failure_message(["diff", "--quiet", "HEAD"], diff))
    try:
        git(
            ["commit", "--only", "--no-verify", "-q", "-F", "-", "--", relpath],
            cwd=top,
            env=env,
            stdin=(message if message.endswith("\n") else message + "\n").encode("utf-8"),
            config=("-c", "core.hooksPath=/dev/null", "-c", "maintenance.auto=false"),
        )
    except SnapshotError:
        if not tracked:  # undo our intent-to-add so a failed commit leaves the index as it was
            git(["rm", "--cached", "-q", "--", relpath], cwd=top, env=env, check=False)
        raise
    forget_discoveries()  # HEAD moved: the snapshot that follows must see the new commit
    return git_text(["rev-parse", "--verify", "HEAD^{commit}"], cwd=top)


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
    repo = discover(start)
    if repo is None:
        raise SnapshotError(
            f"{path} is not inside a git repository, so it cannot run from branch {branch!r}"
        )
    top = repo.toplevel
    try:
        relpath = (start.resolve() / path.relative_to(start)).relative_to(top).as_posix()
    except ValueError as exc:
        raise SnapshotError(f"notebook {path} is not inside its repository {top}") from exc
    valid = git(["check-ref-format", "--branch", branch], cwd=top, check=False)
    if valid.returncode != 0 or branch.startswith("-"):
        raise SnapshotError(f"{branch!r} is not a valid branch name")
    for ref in (f"refs/heads/{branch}", f"refs/remotes/{branch}"):
        proc = git(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], cwd=top, check=False)
        if proc.returncode == 0 and output_text(proc):
            commit = output_text(proc)
            break
    else:
        heads = git_text(["for-each-ref", "--format=%(refname:short)", "refs/heads"], cwd=top)
        raise SnapshotError(
            f"unknown branch {branch!r} in {top} (branches: {', '.join(heads.split()) or 'none'})"
        )
    found = git(["cat-file", "-e", f"{commit}:{relpath}"], cwd=top, check=False)
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


def pin_branch_commit(head: BranchHead, commit: str) -> BranchHead:
    """``head`` moved to ``commit``, which must be a commit of the branch's history that
    holds the notebook (an on-commit trigger runs the commit it saw, not a newer head)."""
    from dataclasses import replace

    top = head.worktree
    proc = git(["rev-parse", "-q", "--verify", f"{commit}^{{commit}}"], cwd=top, check=False)
    sha = output_text(proc) if proc.returncode == 0 else ""
    if not sha:
        raise SnapshotError(f"unknown commit {commit!r} in {top}")
    ancestor = git(["merge-base", "--is-ancestor", sha, head.commit], cwd=top, check=False)
    if ancestor.returncode != 0:
        raise SnapshotError(f"commit {sha[:12]} is not on branch {head.branch!r}")
    found = git(["cat-file", "-e", f"{sha}:{head.notebook_relpath}"], cwd=top, check=False)
    if found.returncode != 0:
        raise SnapshotError(f"{head.notebook_relpath} does not exist in commit {sha[:12]}")
    return replace(head, commit=sha)


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
    ref = run_ref(run_id)
    create_ref(["--git-dir", head.git_dir], ref, target)
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
