"""A persistent cache of file hashes keyed on what ``stat`` says about the file, and of
table statistics keyed on the content hash.

A file whose (path, size, mtime_ns, inode, device) are unchanged since it was hashed is
not read again: a second use of a 10 GB file costs one ``stat`` and one indexed lookup.
Like git's index this trusts the modification time, with git's "racy" rule: a file
modified less than :data:`RACY_NS` before it was hashed is not cached, because a later
write in the same timestamp tick could leave all four values unchanged.

One small SQLite file (WAL, busy timeout) under the data directory's ``cache/`` is safe
for many processes at once; the cache is an optimisation only, so a cache that cannot be
opened or written is skipped, never an error.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("jupyter_mlops.datasets")

CACHE_FILE = "dataset-hashes.sqlite3"
RACY_NS = 100_000_000
"""A file modified this close (ns) before its hash began is not cached (see the doc)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, inode INTEGER, device INTEGER,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS remote_hashes (
    uri TEXT PRIMARY KEY, identity TEXT NOT NULL, sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS table_stats (
    sha256 TEXT NOT NULL, config TEXT NOT NULL, stats TEXT NOT NULL,
    PRIMARY KEY (sha256, config)
);
"""


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


class StatCache:
    """The cache file of one data directory (one connection per thread)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._local = threading.local()
        self._broken = path is None

    def _conn(self) -> sqlite3.Connection | None:
        if self._broken or self.path is None:
            return None
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            log.info("dataset hash cache %s not usable: %s", self.path, err)
            self._broken = True
            return None
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _query(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        conn = self._conn()
        if conn is None:
            return None
        try:
            row: tuple[Any, ...] | None = conn.execute(sql, args).fetchone()
            return row
        except sqlite3.Error as err:
            log.info("dataset hash cache read failed: %s", err)
            return None

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        conn = self._conn()
        if conn is None:
            return
        try:
            conn.execute(sql, args)
        except sqlite3.Error as err:
            log.info("dataset hash cache write failed: %s", err)

    # -- local files ------------------------------------------------------------------

    def file_hash(self, path: Path, st: os.stat_result) -> str | None:
        row = self._query(
            "SELECT size, mtime_ns, inode, device, sha256 FROM file_hashes WHERE path = ?",
            (str(path),),
        )
        if row is None or tuple(row[:4]) != stat_key(st):
            return None
        return str(row[4])

    def remember_file(self, path: Path, st: os.stat_result, sha256: str, hashed_at_ns: int) -> None:
        if st.st_mtime_ns + RACY_NS > hashed_at_ns:
            return  # racy: modified too recently to trust the timestamp later
        self._write(
            "INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?, ?, ?)",
            (str(path), *stat_key(st), sha256),
        )

    # -- objects in object stores -----------------------------------------------------

    def remote_hash(self, uri: str, identity: str) -> str | None:
        row = self._query("SELECT identity, sha256 FROM remote_hashes WHERE uri = ?", (uri,))
        return str(row[1]) if row is not None and row[0] == identity else None

    def remember_remote(self, uri: str, identity: str, sha256: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO remote_hashes VALUES (?, ?, ?)", (uri, identity, sha256)
        )

    # -- table statistics (by content) ------------------------------------------------

    def stats(self, sha256: str, config: str) -> dict[str, Any] | None:
        row = self._query(
            "SELECT stats FROM table_stats WHERE sha256 = ? AND config = ?", (sha256, config)
        )
        return json.loads(row[0]) if row is not None else None

    def remember_stats(self, sha256: str, config: str, stats: dict[str, Any]) -> None:
        self._write(
            "INSERT OR REPLACE INTO table_stats VALUES (?, ?, ?)",
            (sha256, config, json.dumps(stats)),
        )


def now_ns() -> int:
    return time.time_ns()
