"""What a schedule or trigger created over REST fires must exist in the root: a missing
working-copy notebook or pipeline file is a 404, as for a run (a branch target is checked
on the branch by the service instead)."""

from __future__ import annotations

from ..scheduling.pipeline_target import is_pipeline_file
from .base import MLOpsHandler, NotFound


def require_existing_target(handler: MLOpsHandler, relpath: str) -> None:
    """Raise :class:`NotFound` unless ``relpath`` (checked by ``notebook_arg``) is a file
    of the root: a notebook, or a pipeline file (in a thread)."""
    if not is_pipeline_file(relpath):
        handler.resolve_existing_notebook(relpath)
        return
    root = handler.mlops.jobs.root_dir
    if root is not None and not (root / relpath).is_file():
        raise NotFound(f"no pipeline file {relpath!r} in the server's root directory")
