"""A page of the run list as plain rows: the columns a list row shows, without ORM objects.

Reading 50 runs with their parameters and tags as ORM instances cost about 9 ms of client
CPU per page (identity map, every one of the run's columns instrumented, two selectin
loads) against under 1 ms in the database, so the newest-50 page of the runs table missed
its 10 ms goal on PostgreSQL with the server idle. A list page only reads, and
:func:`~jupyter_mlops.serialize.run_summary` only reads the attributes named here, so the
list queries select these columns and build :class:`RunRow` objects, with one plain query
more for the page's parameters and tags. Detail views keep the ORM :class:`Run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from .models import Run, RunParam, RunTag

LIST_COLUMNS: tuple[str, ...] = (
    "id",
    "status",
    "status_reason",
    "notebook_path",
    "kernel_name",
    "created_at",
    "started_at",
    "finished_at",
    "cells_done",
    "cells_total",
    "current_cell",
    "seed",
    "gpus",
    "commit_sha",
    "reproduced_from",
    "source",
    "submitted_by",
    "schedule_id",
    "scheduled_for",
    "backend",
    "runner_host",
)
"""The run's columns a list row needs: the summary's fields and the queue's grouping."""

QUEUE_POSITION_ATTR = "queue_position"
"""Attribute set on queued :class:`Run` and :class:`RunRow` objects by
:meth:`RunStore.annotate_queue_positions` (1 = next to start); ``serialize.run_summary``
reads it."""


class ParamRow:
    """One parameter of a listed run (the attributes of :class:`RunParam` it reads)."""

    __slots__ = ("name", "overridden", "type_name", "value_json")

    def __init__(self, name: str, value_json: str, type_name: str, overridden: bool) -> None:
        self.name = name
        self.value_json = value_json
        self.type_name = type_name
        self.overridden = overridden


class TagRow:
    """One tag of a listed run (as :class:`RunTag`)."""

    __slots__ = ("tag",)

    def __init__(self, tag: str) -> None:
        self.tag = tag


class RunRow:
    """A listed run: :data:`LIST_COLUMNS` as attributes, its parameters and tags sorted by
    name as :class:`Run`'s relationships are, and the queue position the list sets."""

    __slots__ = (*LIST_COLUMNS, "params", "tags", QUEUE_POSITION_ATTR)

    id: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    backend: str
    runner_host: str | None
    params: list[ParamRow]
    tags: list[TagRow]
    queue_position: int | None

    def __init__(self, values: Sequence[Any]) -> None:
        for name, value in zip(LIST_COLUMNS, values, strict=True):
            setattr(self, name, value)
        self.params = []
        self.tags = []
        self.queue_position = None  # the slot named QUEUE_POSITION_ATTR

    def __repr__(self) -> str:
        return f"RunRow(id={self.id!r}, status={self.status!r})"


def list_columns() -> list[InstrumentedAttribute[Any]]:
    """The :data:`LIST_COLUMNS` of :class:`Run`, to select instead of the entity."""
    return [getattr(Run, name) for name in LIST_COLUMNS]


def _owned_rows(dialect: str) -> Select[Any]:
    """The parameters and the tags of the runs named by the bind ``ids``, in one statement
    (one round trip fewer on PostgreSQL, where each costs about a millisecond): rows of
    (run id, 0, name, value_json, type_name, overridden) and (run id, 1, tag, NULL, ...),
    sorted by run, kind and name.

    ``ids`` is one bind whatever the page's size: an array on PostgreSQL (``= ANY``: one
    statement text, which psycopg prepares after a few pages, so the server stops planning
    it), an expanding IN on SQLite (faster there than ``json_each``).
    """
    params, tags = RunParam.__table__.c, RunTag.__table__.c

    def owned(column: Any) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return column == func.any(bindparam("ids", type_=ARRAY(String)))
        return column.in_(bindparam("ids", expanding=True))

    nothing = null()
    param_rows = select(
        params.run_id,
        literal_column("0").label("kind"),
        params.name,
        params.value_json,
        params.type_name,
        params.overridden,
    ).where(owned(params.run_id))
    tag_rows = select(
        tags.run_id,
        literal_column("1"),
        tags.tag,
        cast(nothing, Text),
        cast(nothing, String),
        cast(nothing, Boolean),
    ).where(owned(tags.run_id))
    both = union_all(param_rows, tag_rows).subquery()
    return select(both).order_by(both.c.run_id, both.c.kind, both.c.name)


_OWNED_ROWS: dict[str, Select[Any]] = {}


def run_rows(session: Session, rows: Sequence[Sequence[Any]]) -> list[RunRow]:
    """:class:`RunRow` objects of ``rows`` (each starting with :data:`LIST_COLUMNS`, in
    order; anything after them is left out), with their parameters and tags read in one
    more statement."""
    width = len(LIST_COLUMNS)
    runs = [RunRow(row[:width]) for row in rows]
    if not runs:
        return runs
    by_id = {run.id: run for run in runs}
    dialect = session.get_bind().dialect.name
    statement = _OWNED_ROWS.get(dialect)
    if statement is None:
        statement = _OWNED_ROWS[dialect] = _owned_rows(dialect)
    for run_id, kind, name, value_json, type_name, overridden in session.execute(
        statement, {"ids": list(by_id)}
    ).all():
        run = by_id[run_id]
        if kind == 0:
            run.params.append(ParamRow(name, value_json, type_name, bool(overridden)))
        else:
            run.tags.append(TagRow(name))
    return runs
