"""Garbage-collect artifact blobs that no run refers to any more.

Blobs are content-addressed and shared: two runs that log the same model point at one
file. Deleting a run removes its ``artifacts`` rows (cascade); :func:`collect_garbage`
then removes those of the run's blobs that no other row names.

A writer that stores a blob and then inserts its row races a collector that checks the
rows and then unlinks the blob. In a directory root both sides take :func:`artifact_lock`
(writers shared, the collector exclusive), so a blob is never removed between a writer's
``put`` and its row insert. An fsspec root (an object store shared by several machines)
has no such lock: the collector checks each blob's rows right before removing it, which
narrows the race to one request; a blob lost to it makes that artifact's download fail
with "missing from the artifact store", never a wrong file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .artifacts import BlobStore
    from .store import RunStore

log = logging.getLogger("jupyter_mlops.gc")

LOCK_NAME = ".gc.lock"


@contextlib.contextmanager
def artifact_lock(root: Path, *, exclusive: bool) -> Iterator[None]:
    """Writers (``exclusive=False``) around put + row insert; the collector exclusive."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def collect_garbage(
    store: RunStore, artifact_store: BlobStore, digests: Iterable[str]
) -> list[str]:
    """Remove the blobs among ``digests`` that no artifact row refers to; returns them.

    Call it after the rows are gone, with the digests the deleted run(s) referred to.
    """
    wanted = set(digests)
    if not wanted:
        return []
    removed: list[str] = []
    with artifact_store.writers_lock(exclusive=True):
        for sha in sorted(store.unreferenced_artifact_digests(wanted)):
            try:
                if store.artifact_refcount(sha) == 0 and artifact_store.exists(sha):
                    artifact_store.remove(sha)
                    removed.append(sha)
            except (OSError, ValueError):
                log.warning("could not remove artifact blob %s", sha, exc_info=True)
    return removed
