"""Engines for the run store: SQLite tuned for many processes, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from .locks import MIGRATIONS, advisory_lock

SCHEMA_HEAD = "0016"
"""Alembic head revision; ``tests/test_store.py`` checks it against the scripts."""

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
WRITE_OPTION = "mlops_write"
"""Execution option marking a connection that will write (SQLite: BEGIN IMMEDIATE)."""


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys.

    Runner processes, the server and CLI commands all write to one SQLite file at the
    same time: WAL lets readers proceed during writes and the busy timeout turns lock
    contention into waiting instead of "database is locked" errors.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy-issued BEGIN take effect (pysqlite's own handling is off).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the write lock up front (IMMEDIATE), so two writers wait on the
            # busy timeout instead of one failing on a lock upgrade with SQLITE_BUSY;
            # readers stay deferred so they never queue behind writers (WAL).
            if conn.get_execution_options().get(WRITE_OPTION):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


@contextlib.contextmanager
def _sqlite_migration_connection(engine: Engine) -> Iterator[Any]:
    """A write transaction with foreign keys off, checked before they go back on.

    SQLite cannot ALTER most things, so Alembic's batch mode copies a table and drops
    the old one; with foreign keys on, dropping ``runs`` would cascade-delete every
    child row (metrics, events, artifacts...). The pragma is ignored inside a
    transaction, so it is set on the raw connection before BEGIN.
    """
    with engine.execution_options(**{WRITE_OPTION: True}).connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"migration broke foreign keys: {problems[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Any]:
    """Serialize migrations between processes that open the store at the same moment;
    yields the connection to migrate with."""
    with advisory_lock(engine, MIGRATIONS) as conn:
        if conn is not None:  # PostgreSQL: the transaction that holds the lock
            yield conn
            return
        with _sqlite_migration_connection(engine) as sqlite_conn:
            yield sqlite_conn


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` (idempotent, process-safe)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _migration_lock(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def ensure_schema(engine: Engine) -> None:
    """Upgrade only when needed: one cheap query on the common path."""
    if current_revision(engine) != SCHEMA_HEAD:
        upgrade(engine)
