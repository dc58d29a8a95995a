"""How a run row records its snapshot, and the errors of the job service that the REST
layer maps to statuses: shared by :mod:`jupyter_mlops.jobs` and
:mod:`jupyter_mlops.reproduction` without either importing the other."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .snapshot.create import Snapshot

SNAPSHOT_COLUMNS = {"commit": "commit_sha", "ref": "snapshot_ref", "private": "private_repo"}
"""The run column of each :class:`~jupyter_mlops.snapshot.create.Snapshot` field that is not
stored under its own name."""


def snapshot_columns(snapshot: Snapshot) -> dict[str, Any]:
    """A snapshot as the run columns that record it: every field of the snapshot, so a field
    added to :class:`~jupyter_mlops.snapshot.create.Snapshot` is recorded (and reproduced)
    without a second list to keep in step."""
    return {
        SNAPSHOT_COLUMNS.get(f.name, f.name): getattr(snapshot, f.name) for f in fields(snapshot)
    }


class PathOutsideRoot(ValueError):
    """The notebook is not inside the server's root directory."""


class RunStateError(ValueError):
    """The run is not in a state that allows the operation (e.g. deleting a running run)."""
