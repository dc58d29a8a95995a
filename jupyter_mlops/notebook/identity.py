"""One notebook, one name: how a run records the notebook it ran, whatever the entry point.

A CLI run used to record ``/abs/path/hello.ipynb`` and a run from JupyterLab
``hello.ipynb``, so a filter by notebook found one of them. Every path is now resolved
(``./x.ipynb``, ``../x.ipynb`` from a subdirectory, symlinks) and named:

* relative to the top level of the git repository that holds it (POSIX separators): the
  same from the CLI, the REST API and a schedule, on any machine with a clone;
* else relative to the server's root directory (runs submitted through the server);
* else (the CLI, outside any repository) by its absolute path.

A filter by notebook resolves the path it is given the same way and also matches the
resolved absolute path every run records beside its name, so runs from before this rule
are found too.
"""

from __future__ import annotations

from pathlib import Path


def repository_top(path: Path) -> Path | None:
    """The resolved top level of the git repository holding ``path``, or None."""
    from ..snapshot.plumbing import SnapshotError, discover

    start = path.parent
    while not start.is_dir() and start != start.parent:  # a branch run's file may be absent
        start = start.parent
    try:
        repo = discover(start)
    except (SnapshotError, OSError):
        return None
    return repo.toplevel.resolve() if repo is not None else None


def notebook_identity(path: Path, root_dir: Path | None) -> str:
    """The recorded name of the notebook at ``path`` (absolute and resolved)."""
    top = repository_top(path)
    if top is not None and path.is_relative_to(top):
        return path.relative_to(top).as_posix()
    if root_dir is not None and path.is_relative_to(root_dir):
        return path.relative_to(root_dir).as_posix()
    return str(path)


def notebook_names(notebook: str, base: Path, root_dir: Path | None) -> list[str]:
    """Every name a run of ``notebook`` (as typed, relative to ``base``) may be recorded
    under: as typed, its :func:`notebook_identity` and its resolved absolute path; a run
    filter matches any of them, so it finds the runs of one notebook from every entry
    point (and runs recorded before this rule)."""
    raw = Path(notebook).expanduser()
    path = (raw if raw.is_absolute() else base / raw).resolve()
    names = [notebook, notebook_identity(path, root_dir), str(path)]
    return list(dict.fromkeys(names))
