"""Garbage-collect artifact blobs that no run refers to any more.

Blobs are content-addressed and shared: two runs that log the same model point at one
file. Deleting a run removes its ``artifacts`` rows (cascade); :func:`collect_garbage`
then removes those of the run's blobs that no other row names.

A writer that stores a blob and then inserts its row races a collector that checks the
rows and then removes the blob. Both sides take the run store's blob lock (writers
shared, the collector exclusive: :meth:`RunStore.blob_lock`), so a blob is never removed
between a writer's ``put`` and its row insert, whatever the artifact root (a directory
or an object store) and on however many machines share the store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .artifacts import BlobStore
    from .store import RunStore

log = logging.getLogger(__name__)


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
    with store.blob_lock(exclusive=True):
        for sha in sorted(store.unreferenced_artifact_digests(wanted)):
            try:
                if artifact_store.exists(sha):
                    artifact_store.remove(sha)
                    removed.append(sha)
            except (OSError, ValueError):
                log.warning("could not remove artifact blob %s", sha, exc_info=True)
    return removed
