"""Advisory locks of the run store: one mechanism for every lock between processes.

Three things must be serialized between processes that share one store, on one machine
or many:

* migrations (:data:`MIGRATIONS`): two processes opening a fresh store at the same moment
  must not both upgrade it;
* artifact blobs (:data:`ARTIFACT_BLOBS`), a readers-writer lock: a writer stores a blob
  and then inserts the row that refers to it; the garbage collector reads the rows and
  then removes blobs no row names. Without the lock the collector can remove a blob
  between a writer's ``put`` (which found it already there, under its digest) and its row
  insert. Writers hold it shared, the collector exclusive;
* slot claims of the run queue (:data:`QUEUE`), see :mod:`jupyter_mlops.store.queue`;
* appends to monitored streams (:data:`STREAM_POINTS`): a metric trigger reads a stream's
  points after the last id it saw, so ids must become visible in the order they are
  given. Two PostgreSQL transactions can take ids 10 and 11 and commit 11 first; a
  watcher reading then moves past 10, which it would never read. Held while appending,
  each append's ids are committed before the next append takes its own.

The locks live with the store because every process that needs them uses the same
store: with PostgreSQL a lock is a transaction-scoped advisory lock (a crashed holder
releases it with its transaction), with a SQLite file an ``flock`` on a file beside the
database (SQLite means one machine). An in-memory SQLite database has one process and
nothing to coordinate.
"""

from __future__ import annotations

import contextlib
import fcntl
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AdvisoryLock:
    """A named lock: ``key`` on PostgreSQL, ``<database><file_suffix>`` beside SQLite."""

    key: int
    file_suffix: str | None
    """None: SQLite needs no file lock (its write transactions are exclusive already)."""


MIGRATIONS = AdvisoryLock(zlib.crc32(b"jupyter-mlops-migrations"), ".migrate.lock")
ARTIFACT_BLOBS = AdvisoryLock(zlib.crc32(b"jupyter-mlops-artifact-blobs"), ".blobs.lock")
QUEUE = AdvisoryLock(0x6D6C6F71, None)  # "mloq"
STREAM_POINTS = AdvisoryLock(zlib.crc32(b"jupyter-mlops-stream-points"), None)


def lock_in_transaction(
    conn: Connection | Session, lock: AdvisoryLock, *, exclusive: bool = True
) -> None:
    """Take ``lock`` on PostgreSQL until the open transaction of ``conn`` ends.

    On SQLite a lock without a file needs nothing inside a write transaction (SQLite's
    writers are exclusive already), so callers take it whatever the store; a lock with a
    file is held around the transaction instead, with :func:`advisory_lock`."""
    dialect = conn.get_bind().dialect if isinstance(conn, Session) else conn.dialect
    if dialect.name != "postgresql":
        if lock.file_suffix is not None:
            raise ValueError(f"lock {lock.key:#x} is a file beside SQLite: use advisory_lock")
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    conn.execute(text(f"SELECT {function}(:key)"), {"key": lock.key})


@contextlib.contextmanager
def advisory_lock(
    engine: Engine, lock: AdvisoryLock, *, exclusive: bool = True
) -> Iterator[Connection | None]:
    """Hold ``lock`` for the ``with`` block.

    PostgreSQL: yields the connection whose transaction holds the lock (work done on it
    commits when the block ends). SQLite: yields None; the file lock (when the lock has a
    file) is held until the block ends.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            lock_in_transaction(conn, lock, exclusive=exclusive)
            yield conn
        return
    database = engine.url.database
    if lock.file_suffix is None or not database or database == ":memory:":
        yield None
        return
    with Path(database + lock.file_suffix).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield None
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
