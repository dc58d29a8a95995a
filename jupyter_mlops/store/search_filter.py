"""The run search filter (:mod:`jupyter_mlops.search_syntax`) compiled to SQLAlchemy.

Every condition on a parameter, metric or tag is a correlated ``EXISTS`` on the child
table's primary key ``(run_id, name)``: walking the runs in the requested order and
probing each one stops after a page, where a join would first collect every match.

Parameters are stored as JSON text (``run_params.value_json``), so their comparisons
follow the literal: a number compares numerically with parameters whose JSON is a number
(``params.lr < 0.1`` holds for ``0.05`` and not for the string ``"0.05"``; ``1`` equals
``1.0``); a string compares with the parameter's text, that is the string itself for a
string parameter and the JSON for any other (``params.layers = '[64, 32]'``,
``params.lr = '0.05'`` matches the number 0.05, as in MLflow where every parameter is
text). ``!=``, ``NOT IN`` and ``NOT LIKE`` hold only for runs that have the parameter, as
in MLflow; ``IS NULL`` means the run has no such parameter (metric, tag).

LIKE is case-sensitive on both databases (SQLite's own LIKE is not, so a GLOB of the
same pattern is added there); ILIKE is not.

Equality on a parameter (``=``, ``IN``: the runs table's "filtered by a parameter") reads
``ix_run_params_name_value_prefix`` (the value's first :data:`VALUE_PREFIX` characters,
``name``, ``run_id``; migration 0016) through :func:`param_value_in`. A walk of the
runs in order that probes each run's parameter costs one index lookup per run passed
over: at 100,000 runs ``params.epochs = 7`` (2 % of the runs) probed 2,450 runs for a
page, 48-60 ms on PostgreSQL, and joining the other way round (the matching parameters,
then each run by its key, then a sort) costs as many lookups. So the runs a parameter
equality matches are read first, one range of the index, when they are few
(:data:`ID_LIST_LIMIT`; ``matching_runs`` of :func:`compile_filter`; PostgreSQL still
visits each row's table page, as it never scans an expression index index-only, but in
one sweep of the pages, not one lookup per run), and the condition
becomes ``runs.id IN (those ids)``: a constant list the planner counts exactly and
PostgreSQL hashes, so the walk tests each run in memory (or looks the few runs up by key
when a sort would be cheaper). More matches than that make the walk short (at most
``limit * runs / ID_LIST_LIMIT`` runs), and the correlated ``EXISTS`` stays.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Float,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..search_syntax import BoolOp, Comparison, Node, SearchSyntaxError, Value
from .models import LatestMetric, Run, RunParam, RunStatus, RunTag
from .models_search import VALUE_PREFIX, value_prefix

Condition = ColumnElement[bool]

MatchingRuns = Callable[[str, Sequence[str]], "list[str] | None"]
"""``(name, value_json forms) ->`` the ids of the runs whose parameter ``name`` is one of
the forms, or None when there are more than :data:`ID_LIST_LIMIT` (see the module
docstring)."""

ID_LIST_LIMIT = 5000
"""The most run ids a parameter equality is turned into. Reading and sending n ids costs
a fraction of n index lookups (a fifth to a tenth here), a walk past the runs of a common
value probes
``limit * runs / n`` of them; near the break-even (about 7,000 at 100,000 runs) both are a
few milliseconds."""

_NUMBER_STARTS = list("-0123456789")


def numeric_value(value_json: ColumnElement[str]) -> ColumnElement[float]:
    """The number a JSON text holds, or NULL. JSON numbers (and only they) start with a
    digit or ``-``; ``-Infinity`` is json.dumps's own extension."""
    is_number = and_(func.substr(value_json, 1, 1).in_(_NUMBER_STARTS), value_json != "-Infinity")
    return case((is_number, cast(value_json, Float)), else_=None)


def text_value(value_json: ColumnElement[str], dialect: str) -> ColumnElement[str]:
    """A JSON string decoded, any other JSON as its text (what MLflow would compare)."""
    if dialect == "postgresql":
        decoded = cast(value_json, JSONB).op("#>>", return_type=Text)(
            literal_column("'{}'::text[]")
        )
    else:
        decoded = func.json_extract(value_json, "$")
    return case((func.substr(value_json, 1, 1) == '"', decoded), else_=value_json)


def duration_seconds(dialect: str) -> ColumnElement[float]:
    """Seconds from start to finish (NULL until both are known)."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", Run.finished_at - Run.started_at), Float)
    return (func.julianday(Run.finished_at) - func.julianday(Run.started_at)) * 86400.0


def attribute_column(name: str, dialect: str) -> ColumnElement[Any]:
    """The column (or expression) of a canonical attribute name."""
    if name == "duration":
        return duration_seconds(dialect)
    columns: dict[str, Any] = {
        "status": Run.status,
        "notebook": Run.notebook_path,
        "kernel": Run.kernel_name,
        "id": Run.id,
        "source": Run.source,
        "backend": Run.backend,
        "branch": Run.branch,
        "commit": Run.commit_sha,
        "created": Run.created_at,
        "started": Run.started_at,
        "finished": Run.finished_at,
        "seed": Run.seed,
        "gpus": Run.gpus,
    }
    return columns[name]


NULLABLE_ATTRIBUTES = frozenset({"branch", "started", "finished", "duration"})


def _glob(pattern: str) -> str:
    """A LIKE pattern as the equivalent (case-sensitive) GLOB pattern."""
    special = {"*": "[*]", "?": "[?]", "[": "[[]", "%": "*", "_": "?"}
    return "".join(special.get(char, char) for char in pattern)


def _like(expr: ColumnElement[str], op: str, pattern: str, dialect: str) -> Condition:
    if "ILIKE" in op:
        matched = expr.ilike(pattern)
    elif dialect == "sqlite":
        matched = and_(expr.like(pattern), expr.op("GLOB")(_glob(pattern)))
    else:
        matched = expr.like(pattern)
    return not_(matched) if op.startswith("NOT") else matched


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _scalar(op: str, expr: ColumnElement[Any], values: tuple[Value, ...], dialect: str) -> Any:
    """``expr OP values`` for an operator other than IS NULL."""
    if "LIKE" in op:
        return _like(expr, op, str(values[0].value), dialect)
    if op in ("IN", "NOT IN"):
        listed = expr.in_([v.value for v in values])
        return not_(listed) if op == "NOT IN" else listed
    return _COMPARE[op](expr, values[0].value)


def _json_forms(value: Value) -> list[str]:
    """Every ``value_json`` that equals a string literal as MLflow would see it: the JSON
    string itself, or the JSON text of a number, bool, list... (``'0.05'``, ``'true'``)."""
    text = str(value.value)
    return sorted({json.dumps(text), json.dumps(text, ensure_ascii=False), text})


def _number_forms(number: float) -> list[str]:
    """The ``value_json`` texts of the numbers equal to ``number`` (``60`` and ``60.0``):
    a plain IN on the column, which the planner estimates from its statistics."""
    forms = {json.dumps(number)}
    if isinstance(number, float) and math.isfinite(number) and number.is_integer():
        forms.add(json.dumps(int(number)))
    elif isinstance(number, int):
        forms.add(json.dumps(float(number)))
    return sorted(forms)


def param_forms(values: Iterable[Value]) -> list[str]:
    """Every ``value_json`` equal to one of ``values`` (numbers: their JSON texts; strings:
    as :func:`_json_forms`)."""
    forms: set[str] = set()
    for value in values:
        if value.is_number:
            assert isinstance(value.value, (int, float))
            forms.update(_number_forms(value.value))
        else:
            forms.update(_json_forms(value))
    return sorted(forms)


def param_value_in(value_json: ColumnElement[str], forms: Sequence[str]) -> Condition:
    """``value_json IN forms``, written so ``ix_run_params_name_value_prefix`` answers it.

    The index holds the first :data:`VALUE_PREFIX` characters. A form shorter than that
    equals a value exactly when it equals the value's prefix (a longer value has a prefix
    of the full length, so it differs), and then the index alone decides; a form of that
    length or longer is also compared whole, on the rows its prefix found.
    """
    prefix = value_prefix(value_json)
    short = [form for form in forms if len(form) < VALUE_PREFIX]
    long = [form for form in forms if len(form) >= VALUE_PREFIX]
    if not long:
        return prefix.in_(short)
    heads = sorted({form[:VALUE_PREFIX] for form in long} | set(short))
    exact = [value_json.in_(long)] + ([prefix.in_(short)] if short else [])
    return and_(prefix.in_(heads), or_(*exact))


def _one_of_runs(ids: list[str]) -> Condition:
    """``runs.id IN ('...', ...)`` with the ids written into the SQL: constants the planner
    counts and (PostgreSQL) hashes; bound, they would be one parameter per id (SQLite
    allows 32,766) and a PostgreSQL generic plan would not see them."""
    return Run.id.in_(bindparam("run_ids", ids, expanding=True, literal_execute=True, unique=True))


def _param_condition(
    comparison: Comparison, dialect: str, matching_runs: MatchingRuns | None = None
) -> Condition:
    param = aliased(RunParam)
    present = and_(param.run_id == Run.id, param.name == comparison.field.key)
    op, values = comparison.op, comparison.values
    if op in ("IS NULL", "IS NOT NULL"):
        found = exists().where(present)
        return not_(found) if op == "IS NULL" else found
    if op in ("=", "!=", "IN", "NOT IN"):
        forms = param_forms(values)
        if op in ("=", "IN") and matching_runs is not None:
            ids = matching_runs(comparison.field.key, forms)
            if ids is not None:
                return _one_of_runs(ids)
        equal = param_value_in(param.value_json, forms)
        matched = not_(equal) if op in ("!=", "NOT IN") else equal
        if op in ("!=", "NOT IN") and all(v.is_number for v in values):
            # a number is unequal only to numbers: a string parameter is not compared
            matched = and_(matched, numeric_value(param.value_json).is_not(None))
        return exists().where(present, matched)
    value = values[0]
    expr = numeric_value(param.value_json) if value.is_number else None
    if expr is None:
        expr = text_value(param.value_json, dialect)
    return exists().where(present, _scalar(op, expr, values, dialect))


def _tag_condition(comparison: Comparison, dialect: str) -> Condition:
    """Tags are ``key=value`` strings (a plain tag ``key`` reads as ``key`` = ``''``)."""
    tag = aliased(RunTag)
    key = comparison.field.key
    prefix = f"{key}="
    rows = and_(
        tag.run_id == Run.id, or_(tag.tag == key, tag.tag.startswith(prefix, autoescape=True))
    )
    op, values = comparison.op, comparison.values
    if op in ("IS NULL", "IS NOT NULL"):
        found = exists().where(rows)
        return not_(found) if op == "IS NULL" else found
    texts = tuple(Value(v.text if v.is_number else str(v.value), v.text, v.column) for v in values)
    if op in ("=", "IN"):
        forms = {f"{prefix}{v.value}" for v in texts}
        if any(v.value == "" for v in texts):
            forms.add(key)
        return exists().where(tag.run_id == Run.id, tag.tag.in_(sorted(forms)))
    tag_value = case((tag.tag == key, ""), else_=func.substr(tag.tag, len(prefix) + 1))
    return exists().where(rows, _scalar(op, tag_value, texts, dialect))


def _metric_condition(comparison: Comparison, dialect: str) -> Condition:
    """On the latest value; a NaN (stored as NULL) matches only ``IS NULL``."""
    metric = aliased(LatestMetric)
    rows = and_(
        metric.run_id == Run.id, metric.key == comparison.field.key, metric.value.is_not(None)
    )
    if comparison.op in ("IS NULL", "IS NOT NULL"):
        found = exists().where(rows)
        return not_(found) if comparison.op == "IS NULL" else found
    return exists().where(rows, _scalar(comparison.op, metric.value, comparison.values, dialect))


_STATUSES = {s.value for s in RunStatus}


def _check_statuses(comparison: Comparison) -> None:
    if comparison.op not in ("=", "!=", "IN", "NOT IN"):
        return
    for value in comparison.values:
        if value.value not in _STATUSES:
            raise SearchSyntaxError(
                f"unknown status {value.text} at column {value.column}; choose from "
                f"{', '.join(sorted(_STATUSES))}",
                value.column,
            )


def _attribute_condition(comparison: Comparison, dialect: str) -> Condition:
    name = comparison.field.key
    if name == "status":
        _check_statuses(comparison)
    column = attribute_column(name, dialect)
    if comparison.op == "IS NULL":
        return column.is_(None)
    if comparison.op == "IS NOT NULL":
        return column.is_not(None)
    values = comparison.values
    if comparison.field.value_kind == "text":
        values = tuple(Value(v.text if v.is_number else v.value, v.text, v.column) for v in values)
    return _scalar(comparison.op, column, values, dialect)


_BY_KIND: dict[str, Callable[[Comparison, str], Condition]] = {
    "tag": _tag_condition,
    "metric": _metric_condition,
    "attribute": _attribute_condition,
}


def compile_filter(
    node: Node | None, dialect: str, matching_runs: MatchingRuns | None = None
) -> Condition:
    """The WHERE condition on :class:`Run` for a parsed filter (true for None).

    ``matching_runs`` (the store's, in the session that will run the query) turns a
    parameter equality into the list of its runs where they are few; without it every
    condition is SQL alone, as for a plan printed by EXPLAIN."""
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [compile_filter(part, dialect, matching_runs) for part in node.parts]
        if not parts:
            return true() if node.op == "and" else false()
        return and_(*parts) if node.op == "and" else or_(*parts)
    if node.field.kind == "param":
        return _param_condition(node, dialect, matching_runs)
    return _BY_KIND[node.field.kind](node, dialect)
