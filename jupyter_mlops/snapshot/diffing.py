"""What changed in the code between two runs' snapshots.

Two runs of the same notebook usually differ in their snapshot commit even when the
code is identical (each snapshot is its own commit); comparing trees tells whether the
code really differed. The notebook itself is diffed with nbdime on its sources only
(outputs and execution counts are results, not code), and the other project files by
``git diff --name-status``.
"""

from __future__ import annotations

import io
import json
import re
from typing import TYPE_CHECKING, Any

from ..gitcmd import git_output
from .reading import read_file_at

if TYPE_CHECKING:
    from ..store import Run

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _git(git_dir: str, *args: str) -> str:
    """git on the snapshots' repository; a failure is a :class:`~jupyter_mlops.gitcmd.GitError`
    (a ``RuntimeError``, as it always was here)."""
    return git_output(["--git-dir", git_dir, *args], env={"LC_ALL": "C"})


def _code_only(raw: bytes) -> Any:
    """The notebook without outputs, counts and metadata: what the user wrote."""
    import nbformat

    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    for cell in nb.cells:
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = {}
    return nb


def notebook_source_diff(old: bytes, new: bytes, label: str) -> str:
    """A readable nbdime diff of the two notebooks' sources ('' when identical)."""
    from nbdime import diff_notebooks
    from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff

    before, after = _code_only(old), _code_only(new)
    diff = diff_notebooks(before, after)
    if not diff:
        return ""
    out = io.StringIO()
    pretty_print_diff(before, diff, label, PrettyPrintConfig(out=out))
    return ANSI.sub("", out.getvalue())


def snapshot_diff(base: Run, other: Run) -> dict[str, Any]:
    """Compare the snapshots of two runs: same code?, changed files, notebook diff."""
    same_repo = base.git_dir == other.git_dir
    result: dict[str, Any] = {
        "base": base.id,
        "other": other.id,
        "base_commit": base.commit_sha,
        "other_commit": other.commit_sha,
        "same_repository": same_repo,
        "same_code": None,
        "files": [],
        "notebook_diff": None,
    }
    if same_repo:
        trees = _git(
            base.git_dir, "rev-parse", f"{base.commit_sha}^{{tree}}", f"{other.commit_sha}^{{tree}}"
        ).split()
        result["same_code"] = trees[0] == trees[1]
        if not result["same_code"]:
            listing = _git(
                base.git_dir,
                "diff",
                "--no-color",  # the user's color.ui=always must not reach the listing
                "--no-renames",
                "--name-status",
                base.commit_sha,
                other.commit_sha,
            )
            result["files"] = [
                {"status": line.split("\t", 1)[0], "path": line.split("\t", 1)[1]}
                for line in listing.splitlines()
                if "\t" in line
            ]
    try:
        old = read_file_at(base.git_dir, base.commit_sha, base.notebook_relpath)
        new = read_file_at(other.git_dir, other.commit_sha, other.notebook_relpath)
    except Exception as err:  # the snapshot ref or repository is gone
        result["notebook_diff"] = None
        result["error"] = f"could not read the notebooks: {err}"
        return result
    if old == new:
        result["notebook_diff"] = ""
    else:
        try:
            result["notebook_diff"] = notebook_source_diff(old, new, other.notebook_relpath)
        except (ValueError, json.JSONDecodeError) as err:
            result["error"] = f"could not diff the notebooks: {err}"
    return result
