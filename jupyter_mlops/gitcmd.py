"""Run git: the one place that starts a git process.

Snapshots, code diffs and the in-kernel tracking API all ask git things about the user's
repository. They share one way of doing it so that each gets the same guarantees:

* the repository is the one named by ``cwd`` or ``--git-dir``, never one an inherited
  ``GIT_DIR``/``GIT_INDEX_FILE``/... points at (a server started from a git hook or an IDE
  terminal has them set);
* read commands never refresh (rewrite) the user's index (``GIT_OPTIONAL_LOCKS=0``), and
  git never waits for a password or passphrase no one can type (``GIT_TERMINAL_PROMPT=0``);
* ``git`` is found on the user's own ``PATH``;
* a failure is one typed exception whose message names the subcommand and carries git's
  own stderr, never a bare ``CalledProcessError``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "GitError",
    "failure_message",
    "git_env",
    "git_output",
    "output_text",
    "repository_facts",
    "run_git",
]

REPO_LOCATING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_NAMESPACE",
)
"""Variables that would make git operate on some other repository or index than the one
named explicitly; removed from every git process's environment."""


class GitError(RuntimeError):
    """git could not be run, or exited non-zero; the message includes git's stderr."""


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git process: this process's, without the repository-locating
    variables, with optional locks and terminal prompts off, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in REPO_LOCATING_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    config: Sequence[str] = (),
    check: bool = True,
    timeout: float | None = None,
    error: type[Exception] = GitError,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git [config] args`` in ``cwd`` with :func:`git_env` plus ``env``.

    Raises ``error`` (default :class:`GitError`; a caller passes its own type when its callers
    catch that one) when git cannot be started, runs past ``timeout`` seconds, or, with
    ``check``, exits non-zero. Output stays bytes: paths in a repository need not be UTF-8.
    """
    io: dict[str, object] = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    try:
        proc = subprocess.run(
            ["git", *config, *args],
            cwd=cwd,
            env=git_env(env),
            capture_output=True,
            check=False,
            timeout=timeout,
            **io,  # type: ignore[arg-type]
        )
    except FileNotFoundError as exc:
        if cwd is not None and not Path(cwd).is_dir():
            raise error(f"directory does not exist: {cwd}") from exc
        raise error("git is not installed (no 'git' executable on PATH)") from exc
    except subprocess.TimeoutExpired as exc:
        raise error(f"git {_shown(args)} did not finish within {timeout} s") from exc
    except OSError as exc:
        raise error(f"could not run git: {exc}") from exc
    if check and proc.returncode != 0:
        raise error(failure_message(args, proc))
    return proc


def git_output(args: Sequence[str], **options: object) -> str:
    """:func:`run_git` (same options), returning its standard output decoded and stripped."""
    return output_text(run_git(args, **options))  # type: ignore[arg-type]


def output_text(proc: subprocess.CompletedProcess[bytes]) -> str:
    """A finished git process's standard output, decoded as paths are and stripped."""
    return os.fsdecode(proc.stdout).strip()


def failure_message(args: Sequence[str], proc: subprocess.CompletedProcess[bytes]) -> str:
    """``git <subcommand> failed (exit N): <git's stderr>``, for a process that failed."""
    stderr = os.fsdecode(proc.stderr).strip() or os.fsdecode(proc.stdout).strip()
    return f"git {_shown(args)} failed (exit {proc.returncode}): {stderr or 'no error output'}"


def _shown(args: Sequence[str]) -> str:
    """The subcommand and its first words, without the --git-dir/--work-tree/-C in front."""
    shown: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg in ("--git-dir", "--work-tree", "-C"):
            skip_next = True
        else:
            shown.append(arg)
    return " ".join(shown[:4])


def repository_facts(cwd: Path | str, timeout: float = 5.0) -> dict[str, str]:
    """Where ``cwd`` stands in git: ``worktree`` (top level), ``git_dir``, ``head`` (sha) and,
    on a branch, ``branch`` (short name). Empty outside a repository, in one without commits,
    or when git is missing or slow: the callers record provenance, which is optional."""
    try:
        top, git_dir, head = git_output(
            ["rev-parse", "--show-toplevel", "--absolute-git-dir", "HEAD"],
            cwd=cwd,
            timeout=timeout,
        ).split()[:3]
        branch = git_output(
            ["symbolic-ref", "-q", "--short", "HEAD"], cwd=cwd, timeout=timeout, check=False
        )
    except (GitError, ValueError):
        return {}
    facts = {"worktree": top, "git_dir": git_dir, "head": head}
    if branch:
        facts["branch"] = branch
    return facts
