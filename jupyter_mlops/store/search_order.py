"""Runs found by a search filter, in any order, keyset-paginated: the runs table's query.

An order is read as a few *phases*, each sorted on one key with the run id breaking
ties, so NULLs come last in either direction and every page is one indexed range:

* a metric: runs with a (non-NaN) latest value, by value; then the others, by id;
* a parameter: runs whose value is a number, numerically; then the other values, by
  their text; then runs without the parameter, by id;
* an attribute that may be unset (started, finished, duration, branch): set, then unset;
  any other attribute: one phase.

The cursor names the order, the phase and the last (key, id), so the next page starts
exactly after the previous one whatever was inserted meanwhile, and a cursor handed to
another order is refused. Sorting a metric walks ``ix_latest_metrics_key_value_run_id``
and stops after a page instead of sorting every run.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from ..search_syntax import Field, OrderBy, parse_filter, parse_order_by
from .models import LatestMetric, Run, RunParam, RunTag
from .queries import RunPage, RunSearch
from .run_rows import list_columns, run_rows
from .search_filter import (
    ID_LIST_LIMIT,
    NULLABLE_ATTRIBUTES,
    MatchingRuns,
    attribute_column,
    compile_filter,
    numeric_value,
    param_value_in,
    text_value,
)

DEFAULT_ORDER = "created DESC"
MAX_KEYS = 1000
"""The most names :meth:`RunQuery.known_keys` returns of each kind."""


@dataclass(frozen=True)
class Phase:
    """One run of the sort: the rows in it, their key (None: by id only), the id column
    that breaks ties, and the join that brings the key in."""

    where: ColumnElement[bool] | None
    key: ColumnElement[Any] | None
    tie: ColumnElement[str]
    join: Callable[[Select[Any]], Select[Any]] | None = None


def _metric_phases(field: Field) -> list[Phase]:
    metric = aliased(LatestMetric)
    on = and_(metric.run_id == Run.id, metric.key == field.key)
    other = aliased(LatestMetric)
    has_value = exists().where(
        other.run_id == Run.id, other.key == field.key, other.value.is_not(None)
    )
    return [
        Phase(metric.value.is_not(None), metric.value, metric.run_id, lambda q: q.join(metric, on)),
        Phase(~has_value, None, Run.id),
    ]


def _param_phases(field: Field, dialect: str) -> list[Phase]:
    param = aliased(RunParam)
    on = and_(param.run_id == Run.id, param.name == field.key)
    number = numeric_value(param.value_json)
    other = aliased(RunParam)
    has_param = exists().where(other.run_id == Run.id, other.name == field.key)
    return [
        Phase(number.is_not(None), number, param.run_id, lambda q: q.join(param, on)),
        Phase(
            number.is_(None),
            text_value(param.value_json, dialect),
            param.run_id,
            lambda q: q.join(param, on),
        ),
        Phase(~has_param, None, Run.id),
    ]


def _attribute_phases(field: Field, dialect: str) -> list[Phase]:
    column = attribute_column(field.key, dialect)
    if field.key == "id":
        return [Phase(None, None, Run.id)]
    if field.key not in NULLABLE_ATTRIBUTES:
        return [Phase(None, column, Run.id)]
    return [Phase(column.is_not(None), column, Run.id), Phase(column.is_(None), None, Run.id)]


def sort_phases(order: OrderBy, dialect: str) -> list[Phase]:
    if order.field.kind == "metric":
        return _metric_phases(order.field)
    if order.field.kind == "param":
        return _param_phases(order.field, dialect)
    if order.field.kind == "tag":
        tag = aliased(RunTag)
        prefix = f"{order.field.key}="
        on = and_(tag.run_id == Run.id, tag.tag.startswith(prefix, autoescape=True))
        other = aliased(RunTag)
        has_tag = exists().where(
            other.run_id == Run.id, other.tag.startswith(prefix, autoescape=True)
        )
        return [
            Phase(None, tag.tag, tag.run_id, lambda q: q.join(tag, on)),
            Phase(~has_tag, None, Run.id),
        ]
    return _attribute_phases(order.field, dialect)


def _encode_key(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_key(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return datetime.fromisoformat(value["t"])
    return value


def encode_cursor(order: str, phase: int, key: Any, run_id: str) -> str:
    data = json.dumps([order, phase, _encode_key(key), run_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[int, Any, str]:
    """(phase, key, run id) of a cursor made for ``order``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, phase, key, run_id = json.loads(raw)
        if not isinstance(phase, int) or not isinstance(run_id, str):
            raise TypeError(cursor)
    except (ValueError, TypeError, binascii.Error):
        raise ValueError(f"malformed cursor {cursor!r}; pass a next_cursor unchanged") from None
    if made_for != order:
        raise ValueError(
            f"this cursor belongs to order_by {made_for!r}, not {order!r}; start again "
            "without a cursor"
        )
    return phase, _decode_key(key), run_id


def _after(phase: Phase, key: Any, run_id: str, descending: bool) -> ColumnElement[bool]:
    """Rows of ``phase`` strictly after (key, run_id) in the sort."""
    if descending:
        tie_after = phase.tie < run_id
        if phase.key is None:
            return tie_after
        return or_(phase.key < key, and_(phase.key == key, tie_after))
    tie_after = phase.tie > run_id
    if phase.key is None:
        return tie_after
    return or_(phase.key > key, and_(phase.key == key, tie_after))


def _matching_runs(session: Session) -> MatchingRuns:
    """The runs whose parameter has one of some values, one range of
    ``ix_run_params_name_value_prefix``, or None past :data:`ID_LIST_LIMIT` (see
    :mod:`jupyter_mlops.store.search_filter`); in the query's own session, so SQLite reads
    both from one snapshot.

    One row comes back, the count and the ids joined by commas: a common value (more
    than the limit) costs the count alone, and 5,000 ids cost a split instead of 5,000
    result rows (a fifth of the client's time at 100,000 runs)."""
    table = RunParam.__table__
    comma = literal_column("','")
    join = func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat

    def matching(name: str, forms: Sequence[str]) -> list[str] | None:
        found = (
            select(table.c.run_id)
            .where(table.c.name == name, param_value_in(table.c.value_json, forms))
            .limit(ID_LIST_LIMIT + 1)
            .subquery()
        )
        count, joined = session.execute(
            select(func.count(), join(found.c.run_id, comma)).select_from(found)
        ).one()
        if count > ID_LIST_LIMIT:
            return None
        ids = joined.split(",") if joined else []
        if len(ids) != count:  # an id with a comma in it (none this package makes)
            ids = list(session.execute(select(found.c.run_id)).scalars())
        return ids

    return matching


class RunQuery(RunSearch):
    """Search with the run search language (a part of
    :class:`~jupyter_mlops.store.RunStore`)."""

    def query_runs(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs matching ``filter`` (:mod:`jupyter_mlops.search_syntax`), sorted by
        ``order_by`` (default newest first), one page of ``limit`` after ``cursor``.
        Raises :class:`~jupyter_mlops.search_syntax.SearchSyntaxError` (a ValueError,
        with the column) for either text, ValueError for a foreign cursor."""
        parsed = parse_filter(filter)
        order = parse_order_by(order_by) or parse_order_by(DEFAULT_ORDER)
        assert order is not None
        order_text = str(order)
        phases = sort_phases(order, self.dialect)
        start, key, last_id = 0, None, None
        if cursor:
            start, key, last_id = decode_cursor(cursor, order_text)
            if not 0 <= start < len(phases):
                raise ValueError(f"malformed cursor {cursor!r}; pass a next_cursor unchanged")
        found: list[tuple[Any, int]] = []  # (row: the list columns, then the sort key; phase)
        with self.reading() as session:
            condition = compile_filter(parsed, self.dialect, _matching_runs(session))
            for index in range(start, len(phases)):
                wanted = limit + 1 - len(found)
                if wanted <= 0:
                    break
                phase = phases[index]
                query = self._phase_query(phase, condition, order.descending, wanted)
                if index == start and last_id is not None:
                    query = query.where(_after(phase, key, last_id, order.descending))
                found.extend((row, index) for row in session.execute(query).all())
            page = run_rows(session, [row for row, _ in found[:limit]])
        next_cursor = None
        if len(found) > limit:
            row, index = found[limit - 1]
            next_cursor = encode_cursor(order_text, index, row.sort_key, row.id)
        self.annotate_queue_positions(page)
        return RunPage(runs=page, next_cursor=next_cursor)

    @staticmethod
    def _phase_query(
        phase: Phase, condition: ColumnElement[bool], descending: bool, limit: int
    ) -> Select[Any]:
        key = phase.key if phase.key is not None else phase.tie
        query = select(*list_columns(), key.label("sort_key"))
        if phase.join is not None:
            query = phase.join(query)
        query = query.where(condition)
        if phase.where is not None:
            query = query.where(phase.where)
        ordering = [key.desc(), phase.tie.desc()] if descending else [key.asc(), phase.tie.asc()]
        if phase.key is None:
            ordering = ordering[1:]
        return query.order_by(*ordering).limit(limit)

    def known_keys(self) -> dict[str, list[str]]:
        """The parameter, metric and tag names any run has (at most :data:`MAX_KEYS` of
        each), for the runs table's column chooser; read from indexes only."""
        with self.reading() as session:
            params = session.scalars(
                select(RunParam.name).distinct().order_by(RunParam.name).limit(MAX_KEYS)
            ).all()
            metrics = session.scalars(
                select(LatestMetric.key).distinct().order_by(LatestMetric.key).limit(MAX_KEYS)
            ).all()
            tags = session.scalars(
                select(RunTag.tag).distinct().order_by(RunTag.tag).limit(MAX_KEYS * 10)
            ).all()
        tag_keys = sorted({tag.partition("=")[0] for tag in tags})[:MAX_KEYS]
        return {"params": list(params), "metrics": list(metrics), "tags": tag_keys}
