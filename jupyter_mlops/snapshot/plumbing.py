"""What every snapshot operation shares: its error, the git safety settings, and finding
the repository a path is in (in one git call) with the identity its commits carry."""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..gitcmd import failure_message, output_text, run_git

DEFAULT_NAME = "jupyter-mlops"
DEFAULT_EMAIL = "jupyter-mlops@localhost"

SNAPSHOT_CONFIG = (
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
"""Safety settings for every snapshot command: no hooks, no automatic gc in the user's repo,
never write a split index / shared index into the user's .git, never fail on CRLF safety
checks or stop for advice."""


class SnapshotError(Exception):
    """A snapshot operation failed; the message is meant to be shown to the user as is
    (it names the problem and, for git failures, includes git's own stderr)."""


def git(args: Sequence[str], **options: object) -> subprocess.CompletedProcess[bytes]:
    """:func:`~jupyter_mlops.gitcmd.run_git` failing with :class:`SnapshotError`, the error
    every caller of the snapshot functions handles."""
    return run_git(args, error=SnapshotError, **options)  # type: ignore[arg-type]


def git_text(args: Sequence[str], **options: object) -> str:
    """:func:`git`, returning its standard output decoded and stripped."""
    return output_text(git(args, **options))


@dataclass(frozen=True)
class Repo:
    """The repository a path is in, as one ``rev-parse`` call tells it."""

    toplevel: Path
    common_dir: Path
    git_dir: Path
    index_file: Path
    head: str | None
    head_tree: str | None
    branch_ref: str | None  # "refs/heads/<name>", None when detached


_DISCOVERED: contextvars.ContextVar[dict[Path, Repo | None] | None] = contextvars.ContextVar(
    "jupyter_mlops_discovered", default=None
)


@contextlib.contextmanager
def one_discovery() -> Iterator[None]:
    """Within it, :func:`discover` asks git once per directory: a submit names, reads and
    snapshots one notebook, and finding its repository three times cost two git processes
    (a sixth of a submit). Nested uses share the outer one's answers."""
    if _DISCOVERED.get() is not None:
        yield
        return
    token = _DISCOVERED.set({})
    try:
        yield
    finally:
        _DISCOVERED.reset(token)


def forget_discoveries() -> None:
    """After this process moved a HEAD (a commit to the user's branch), the answers
    :func:`one_discovery` remembered are stale: the next :func:`discover` asks git again."""
    memo = _DISCOVERED.get()
    if memo is not None:
        memo.clear()


def discover(start: Path) -> Repo | None:
    """Find the repository containing ``start`` in ONE git call (None: not in a repository);
    inside :func:`one_discovery`, once per directory."""
    memo = _DISCOVERED.get()
    if memo is None:
        return _discover(start)
    key = Path(start)
    if key not in memo:
        memo[key] = _discover(key)
    return memo[key]


def _discover(start: Path) -> Repo | None:
    """``--revs-only`` makes an unresolvable HEAD (unborn branch) simply print nothing instead
    of failing, so the same call serves born and unborn repositories."""
    proc = git(
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
        raise SnapshotError(failure_message(["rev-parse", "--show-toplevel"], proc))
    lines = [os.fsdecode(line) for line in proc.stdout.split(b"\n") if line]
    if len(lines) not in (4, 6):
        raise SnapshotError(f"unexpected output of git rev-parse in {start}: {lines!r}")
    toplevel, common, gitdir, index = (Path(p) for p in lines[:4])
    head, head_tree = (lines[4], lines[5]) if len(lines) == 6 else (None, None)
    return Repo(toplevel, common, gitdir, index, head, head_tree, _branch_ref(gitdir, toplevel))


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
    proc = git(["symbolic-ref", "-q", "HEAD"], cwd=cwd, check=False)
    return (output_text(proc) or None) if proc.returncode == 0 else None


SYSTEM_CONFIGS = (
    Path("/etc/gitconfig"),
    Path("/usr/local/etc/gitconfig"),
    Path("/opt/homebrew/etc/gitconfig"),
)
"""Where git's system configuration is on the systems we know of (a build's own
``$(prefix)/etc``)."""

_IDENTITIES: dict[tuple[object, ...], dict[str, str]] = {}


def identity_env(
    git_args: Sequence[str], cwd: Path, config_files: Sequence[Path] = ()
) -> dict[str, str]:
    """Author/committer env defaults for whatever identity the user has not configured.

    Snapshots must work on fresh machines and containers without ``user.name``; when the user
    has an identity, the snapshot commits carry it.

    ``config_files``: the repository's own configuration files. Given them, the answer is
    kept for as long as none of the files git reads it from changes (a git process less per
    snapshot); without them, or when a file includes others or the environment points git
    at other configuration, git is asked each time.
    """
    key = _identity_key(git_args, cwd, config_files)
    if key is not None and key in _IDENTITIES:
        return dict(_IDENTITIES[key])
    env = _ask_identity(git_args, cwd)
    if key is not None:
        if len(_IDENTITIES) > 256:  # keys of files since changed: never asked for again
            _IDENTITIES.clear()
        _IDENTITIES[key] = dict(env)
    return env


def _identity_key(
    git_args: Sequence[str], cwd: Path, config_files: Sequence[Path]
) -> tuple[object, ...] | None:
    """What :func:`identity_env`'s answer depends on (each config file's identity on disk
    and the variables that name an identity or a file), or None: ask git."""
    if not config_files or any(name.startswith("GIT_CONFIG") for name in os.environ):
        return None
    home = Path(os.environ.get("HOME") or "~").expanduser()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    files = [*SYSTEM_CONFIGS, xdg / "git" / "config", home / ".gitconfig", *config_files]
    stats: list[object] = []
    for path in files:
        try:
            with path.open("rb") as f:
                st = os.fstat(f.fileno())
                if b"include" in f.read():  # [include] / [includeIf]: files of their own
                    return None
        except FileNotFoundError:
            stats.append(None)
            continue
        except OSError:
            return None
        stats.append((st.st_ino, st.st_size, st.st_mtime_ns))
    names = ("EMAIL", *(f"GIT_{r}_{f}" for r in ("AUTHOR", "COMMITTER") for f in ("NAME", "EMAIL")))
    return (tuple(git_args), str(cwd), *stats, *(os.environ.get(n) for n in names))


def _ask_identity(git_args: Sequence[str], cwd: Path) -> dict[str, str]:
    proc = git(
        [*git_args, "config", "--get-regexp", r"^(user|author|committer)\.(name|email)$"],
        cwd=cwd,
        check=False,
    )
    if proc.returncode not in (0, 1):  # 1 = no such key
        raise SnapshotError(failure_message(["config", "--get-regexp"], proc))
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


def resolve_notebook(notebook_path: Path) -> Path:
    """Absolute notebook path with its *directory* resolved (so it matches git's physical
    top level) but the file name kept (a symlinked notebook stays itself)."""
    path = Path(notebook_path).expanduser()
    if not path.exists():
        raise SnapshotError(f"notebook not found: {path}")
    if not path.is_file():
        raise SnapshotError(f"not a file: {path}")
    path = path.absolute()
    return path.parent.resolve() / path.name


def existing_git_dir(git_dir: str) -> Path:
    """``git_dir`` as a path, or :class:`SnapshotError` when it is gone."""
    path = Path(git_dir)
    if not path.is_dir():
        raise SnapshotError(f"git directory does not exist: {git_dir}")
    return path
