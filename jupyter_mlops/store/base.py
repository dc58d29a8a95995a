"""What every part of :class:`~jupyter_mlops.store.RunStore` stands on: the engine and
its read and write sessions.

Callers get plain ORM objects detached from their session (``expire_on_commit`` is
off), so they can be read after the transaction without lazy loads. The store is
synchronous on purpose: the server calls it from a thread pool, runners and the CLI
call it directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from .engine import WRITE_OPTION, ensure_schema, make_engine
from .locks import ARTIFACT_BLOBS, advisory_lock

T = TypeVar("T")


def found(row: T | None, missing: Exception) -> T:
    """``row``, or ``missing`` raised when there is none (the ``require`` of every store)."""
    if row is None:
        raise missing
    return row


def ids_with_prefix(
    session: Session, id_column: InstrumentedAttribute[str], prefix: str
) -> Sequence[str]:
    """At most two ids starting with ``prefix`` (``%`` and ``_`` in it taken literally):
    enough to tell a unique prefix, as git accepts for commits, from an ambiguous one."""
    return session.scalars(
        select(id_column).where(id_column.startswith(prefix, autoescape=True)).limit(2)
    ).all()


def id_or_name(
    session: Session,
    id_column: InstrumentedAttribute[str],
    name_column: InstrumentedAttribute[str],
    key: str,
    what: str,
    missing: Exception,
) -> str:
    """The id ``key`` names: an id, a unique prefix of one, or a unique name (``what`` is the
    kind of row, for the messages); ``missing`` raised when it names none."""
    if not key:
        raise missing
    ids = ids_with_prefix(session, id_column, key)
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise LookupError(f"{what} id prefix {key!r} is ambiguous; give more characters")
    named = session.scalars(select(id_column).where(name_column == key).limit(2)).all()
    if len(named) == 1:
        return named[0]
    if named:
        raise LookupError(f"several {what}s are named {key!r}; use the {what} id")
    raise missing


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of ``size`` (bounds one statement's parameters)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StoreBase:
    """One SQLAlchemy engine (SQLite file or PostgreSQL) and its sessions."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if migrate:
            ensure_schema(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def blob_lock(self, *, exclusive: bool) -> contextlib.AbstractContextManager[Any]:
        """Writers of artifact blobs (shared) against the garbage collector (exclusive);
        see :mod:`jupyter_mlops.store.locks`."""
        return advisory_lock(self.engine, ARTIFACT_BLOBS, exclusive=exclusive)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        with self._write.begin() as session:
            yield session
