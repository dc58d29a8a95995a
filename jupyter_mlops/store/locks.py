"""A readers-writer lock between the writers of artifact blobs and the garbage collector.

A writer stores a blob and then inserts the row that refers to it; the collector reads
the rows and then removes blobs no row names. Without a lock the collector can remove a
blob between a writer's ``put`` (which found it already there, under its digest) and its
row insert. Writers hold the lock shared, the collector exclusive.

The lock lives with the run store, because every process that writes artifacts uses the
same store, on one machine or many: with PostgreSQL it is an advisory lock (held by a
transaction, so a crashed holder releases it), with a SQLite file an ``flock`` on a file
beside the database (SQLite means one machine).
"""

from __future__ import annotations

import contextlib
import fcntl
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

BLOB_LOCK_KEY = zlib.crc32(b"jupyter-mlops-artifact-blobs")


@contextlib.contextmanager
def blob_lock(engine: Engine, *, exclusive: bool) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with engine.begin() as conn:
            conn.execute(text(f"SELECT {function}(:key)"), {"key": BLOB_LOCK_KEY})
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # one process, one connection: nothing to coordinate
        return
    with Path(database + ".blobs.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
