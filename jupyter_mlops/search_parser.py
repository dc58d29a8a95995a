"""The run search language's parser: lark's LALR parser over :data:`~.search_syntax.GRAMMAR`,
its tree turned into :mod:`~jupyter_mlops.search_syntax`'s dataclasses, and lark's errors
into messages that say what was expected and where.

Apart from the tree so that importing the store (which compiles the tree to SQL) does not
import lark: only a filter or an ``order_by`` to parse does.
"""

from __future__ import annotations

import functools

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .search_syntax import (
    GRAMMAR,
    BoolOp,
    Comparison,
    Node,
    OrderBy,
    SearchSyntaxError,
    Value,
    _check_values,
    _field,
    _op_text,
    _unquote,
)


@v_args(inline=True)
class _ToTree(Transformer[Token, Node]):
    def value(self, token: Token) -> Value:
        text = str(token)
        column = token.column or 1
        if token.type == "STRING":
            return Value(_unquote(text), text, column)
        number: int | float = float(text)
        if all(c.isdigit() or c in "+-" for c in text):
            number = int(text)
        return Value(number, text, column)

    def compare(self, field: Token, op: Token, value: Value) -> Comparison:
        name = _field(field)
        operator = _op_text(op)
        return Comparison(name, operator, _check_values(name, operator, (value,)), name.column)

    def like(self, field: Token, op: Token, value: Value) -> Comparison:
        name = _field(field)
        operator = _op_text(op)
        return Comparison(name, operator, _check_values(name, operator, (value,)), name.column)

    def in_list(self, field: Token, op: Token, *values: Value) -> Comparison:
        name = _field(field)
        operator = _op_text(op)
        return Comparison(name, operator, _check_values(name, operator, values), name.column)

    def is_null(self, field: Token, op: Token, _null: Token) -> Comparison:
        name = _field(field)
        return Comparison(name, f"{_op_text(op)} NULL", (), name.column)

    def and_expr(self, *parts: Node) -> BoolOp:
        return BoolOp("and", parts)

    def or_expr(self, *parts: Node) -> BoolOp:
        return BoolOp("or", parts)

    def order(self, field: Token, direction: Token | None = None) -> OrderBy:
        descending = direction is not None and str(direction).lower() == "desc"
        return OrderBy(_field(field), descending)


@functools.cache
def _parser() -> Lark:
    return Lark(GRAMMAR, start=["filter", "order"], parser="lalr", propagate_positions=True)


_WHAT: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"NUMBER", "STRING"}), "a value (a number or a 'quoted string')"),
    (
        frozenset({"OP", "LIKE", "IN", "IS"}),
        "an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS NULL)",
    ),
    (
        frozenset({"FIELD"}),
        "a name (params.NAME, metrics.NAME, tags.NAME or an attribute such as status)",
    ),
    (frozenset({"NULL"}), "NULL"),
    (frozenset({"DIRECTION"}), "ASC or DESC"),
    (frozenset({"_AND", "_OR", "$END", "RPAR"}), "AND, OR or the end"),
    (frozenset({"COMMA", "RPAR"}), "',' or ')'"),
)


def _expected(names: set[str]) -> str:
    names = {n for n in names if n != "LPAR"} or names
    for group, phrase in _WHAT:
        if names and names <= group:
            return phrase
        if group & names and len(group & names) >= min(2, len(group)):
            return phrase
    return " or ".join(sorted(names))


def _describe(err: UnexpectedInput, text: str) -> SearchSyntaxError:
    history = getattr(err, "token_history", None) or []
    after = f" after {str(history[-1])!r}" if history else ""
    if not history and text.strip():
        after = f" after {text.split()[-1]!r}"
    if isinstance(err, UnexpectedEOF) or (
        isinstance(err, UnexpectedToken) and err.token.type == "$END"
    ):
        column = len(text.rstrip()) + 1
        expected = _expected(set(err.expected))
        return SearchSyntaxError(f"expected {expected}{after} at the end (column {column})", column)
    if isinstance(err, UnexpectedToken):
        column = err.token.column or 1
        expected = _expected(set(err.expected))
        return SearchSyntaxError(
            f"expected {expected}{after} at column {column}, found {str(err.token)!r}", column
        )
    assert isinstance(err, UnexpectedCharacters)
    column = err.column
    char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
    if char in "'\"":
        return SearchSyntaxError(f"the string opened at column {column} is never closed", column)
    quote = text[err.pos_in_stream + 1 : err.pos_in_stream + 2] if char == "." else char
    if quote == "`" or (char == "." and quote == '"'):
        at = column + (char == ".")
        return SearchSyntaxError(f"the name quoted at column {at} is never closed", at)
    expected = _expected(set(err.allowed or ()))
    return SearchSyntaxError(
        f"expected {expected}{after} at column {column}, found {char!r}", column
    )


def parse(text: str, start: str) -> object:
    """``text`` parsed from the grammar's ``start`` rule (``filter`` or ``order``)."""
    try:
        tree = _parser().parse(text, start=start)
        return _ToTree().transform(tree)
    except UnexpectedInput as err:
        raise _describe(err, text) from None
    except SearchSyntaxError:
        raise
    except Exception as err:  # lark wraps transformer errors in VisitError
        inner = getattr(err, "orig_exc", None)
        if isinstance(inner, SearchSyntaxError):
            raise inner from None
        raise
