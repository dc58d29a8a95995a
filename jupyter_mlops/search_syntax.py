"""The run search language: MLflow's ``search_runs`` filter and ``order_by``, parsed.

``params.lr = 0.05 and metrics.val/loss < 0.2 and tags.team = 'nlp' and status = 'failed'``

A real grammar (lark, LALR with a contextual lexer) rather than regular expressions, so
every mistake is reported where it is: ``expected a value after '<' at column 23`` (the
parser is in :mod:`jupyter_mlops.search_parser`, imported on the first parse: the store
imports this module's tree, and most commands never parse a filter). The
result is a small tree of frozen dataclasses that the store compiles to SQL
(:mod:`jupyter_mlops.store.search_filter`); nothing here knows about SQL.

Names: ``params.NAME``, ``metrics.NAME`` (the latest value), ``tags.NAME`` (a ``NAME=value``
tag; a plain tag ``NAME`` has the value ``''``) and the attributes of :data:`ATTRIBUTES`
(optionally written ``attributes.NAME``). A name may contain ``/``, ``.``, ``-`` and ``:``;
quote it with backticks or double quotes for anything else (``metrics.`val loss```).
Values: numbers and strings in single (or double) quotes. Operators: ``= != < <= > >=``,
``LIKE``/``ILIKE`` (and ``NOT LIKE``), ``IN (...)``/``NOT IN (...)``, ``IS NULL`` /
``IS NOT NULL`` (absent). ``AND`` binds tighter than ``OR``; parentheses group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from lark import Token

FieldKind = Literal["attribute", "param", "metric", "tag"]
ValueKind = Literal["text", "number", "time"]

ATTRIBUTES: dict[str, tuple[str, ValueKind]] = {
    "status": ("status", "text"),
    "notebook": ("notebook", "text"),
    "notebook_path": ("notebook", "text"),
    "kernel": ("kernel", "text"),
    "kernel_name": ("kernel", "text"),
    "id": ("id", "text"),
    "run_id": ("id", "text"),
    "source": ("source", "text"),
    "backend": ("backend", "text"),
    "branch": ("branch", "text"),
    "commit": ("commit", "text"),
    "created": ("created", "time"),
    "created_at": ("created", "time"),
    "started": ("started", "time"),
    "started_at": ("started", "time"),
    "start_time": ("started", "time"),
    "finished": ("finished", "time"),
    "finished_at": ("finished", "time"),
    "end_time": ("finished", "time"),
    "duration": ("duration", "number"),
    "seed": ("seed", "number"),
    "gpus": ("gpus", "number"),
}
"""Attribute names (with their MLflow-style aliases) -> (canonical name, value kind)."""

CANONICAL_ATTRIBUTES = sorted({canonical for canonical, _ in ATTRIBUTES.values()})

_PREFIXES: dict[str, FieldKind] = {
    "param": "param",
    "params": "param",
    "metric": "metric",
    "metrics": "metric",
    "tag": "tag",
    "tags": "tag",
    "attr": "attribute",
    "attribute": "attribute",
    "attributes": "attribute",
}

GRAMMAR = r"""
?filter: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: atom (_AND atom)*
?atom: comparison
     | "(" or_expr ")"
comparison: FIELD OP value                      -> compare
          | FIELD LIKE value                    -> like
          | FIELD IN "(" value ("," value)* ")" -> in_list
          | FIELD IS NULL                       -> is_null

order: FIELD DIRECTION?

value: NUMBER | STRING

FIELD: /[A-Za-z_][A-Za-z0-9_]*\.(?:`[^`]+`|"[^"]+"|[^\s=<>!(),'"`]+)/
     | /[A-Za-z_][A-Za-z0-9_]*/
OP: "<=" | ">=" | "!=" | "<>" | "==" | "=" | "<" | ">"
LIKE: /(not\s+)?i?like\b/i
IN: /(not\s+)?in\b/i
IS: /is(\s+not)?\b/i
NULL: /null\b/i
_AND: /and\b/i
_OR: /or\b/i
DIRECTION: /(asc|desc)\b/i
NUMBER: /[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?(?![\w.])/
STRING: /'(?:[^'\\]|\\.|'')*'/ | /"(?:[^"\\]|\\.)*"/

%ignore /\s+/
"""


class SearchSyntaxError(ValueError):
    """A filter or ``order_by`` that cannot be read; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Field:
    kind: FieldKind
    key: str
    """The parameter, metric or tag name, or the canonical attribute name."""
    text: str
    column: int

    @property
    def value_kind(self) -> ValueKind:
        if self.kind == "metric":
            return "number"
        if self.kind == "attribute":
            return ATTRIBUTES[self.key][1]
        return "text"


@dataclass(frozen=True)
class Value:
    value: int | float | str | datetime
    text: str
    column: int

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, (int, float))


@dataclass(frozen=True)
class Comparison:
    field: Field
    op: str
    """``= != < <= > >= LIKE ILIKE NOT LIKE NOT ILIKE IN NOT IN IS NULL IS NOT NULL``."""
    values: tuple[Value, ...]
    column: int


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    parts: tuple[Node, ...]


Node = Comparison | BoolOp


@dataclass(frozen=True)
class OrderBy:
    field: Field
    descending: bool = False

    def __str__(self) -> str:
        return f"{self.field.text} {'DESC' if self.descending else 'ASC'}"


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    if quote == "'":
        body = body.replace("''", "'")
    out, escaped = [], False
    for char in body:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def _field(token: Token) -> Field:
    text = str(token)
    column = token.column or 1
    prefix, dot, rest = text.partition(".")
    kind = _PREFIXES.get(prefix.lower()) if dot else None
    if kind is None:
        if dot:
            raise SearchSyntaxError(
                f"unknown name {text!r} at column {column}; names start with params., "
                "metrics., tags. or attributes.",
                column,
            )
        kind, rest = "attribute", text
    if rest[:1] in '`"' and rest[-1:] == rest[:1] and len(rest) >= 2:
        rest = rest[1:-1]
    if kind != "attribute":
        return Field(kind, rest, text, column)
    known = ATTRIBUTES.get(rest.lower())
    if known is None:
        choices = ", ".join(CANONICAL_ATTRIBUTES)
        raise SearchSyntaxError(
            f"unknown attribute {rest!r} at column {column}; use params.NAME, metrics.NAME, "
            f"tags.NAME or one of {choices}",
            column,
        )
    return Field("attribute", known[0], text, column)


def _time(value: Value) -> datetime:
    try:
        stamp = datetime.fromisoformat(str(value.value).replace("Z", "+00:00"))
    except ValueError:
        raise SearchSyntaxError(
            f"expected a date or time such as '2026-01-31' or '2026-01-31T12:00:00Z' at "
            f"column {value.column}, found {value.text}",
            value.column,
        ) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _check_values(field: Field, op: str, values: tuple[Value, ...]) -> tuple[Value, ...]:
    """The values as the field takes them: numbers for metrics and numeric attributes,
    times for time attributes, strings for LIKE."""
    kind = field.value_kind
    checked = []
    for value in values:
        if "LIKE" in op and not isinstance(value.value, str):
            raise SearchSyntaxError(
                f"{op} takes a 'quoted pattern' at column {value.column}, found {value.text}",
                value.column,
            )
        if kind == "number" and not value.is_number:
            raise SearchSyntaxError(
                f"{field.text} takes a number at column {value.column}, found {value.text}",
                value.column,
            )
        if kind == "number" and "LIKE" in op:
            raise SearchSyntaxError(
                f"{op} compares text; {field.text} is a number (column {field.column})",
                field.column,
            )
        if kind == "time":
            if "LIKE" in op:
                raise SearchSyntaxError(
                    f"{op} compares text; {field.text} is a time (column {field.column})",
                    field.column,
                )
            value = Value(_time(value), value.text, value.column)
        checked.append(value)
    return tuple(checked)


def _op_text(token: Token) -> str:
    text = " ".join(str(token).upper().split())
    return {"<>": "!=", "==": "="}.get(text, text)


def parse_filter(text: str) -> Node | None:
    """The filter's tree, or None for an empty filter (every run)."""
    if not text.strip():
        return None
    from .search_parser import parse

    node = parse(text, "filter")
    assert isinstance(node, (Comparison, BoolOp))
    return node


def parse_order_by(text: str) -> OrderBy | None:
    """``metrics.loss ASC``, ``params.lr DESC``, ``started`` (ASC); None when empty."""
    if not text.strip():
        return None
    from .search_parser import parse

    order = parse(text, "order")
    assert isinstance(order, OrderBy)
    return order
