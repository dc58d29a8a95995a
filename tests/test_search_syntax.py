"""The run search language's parser: what it reads, and where it says a mistake is."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jupyter_mlops.search_syntax import (
    BoolOp,
    Comparison,
    SearchSyntaxError,
    parse_filter,
    parse_order_by,
)


def comparisons(text: str) -> list[tuple[str, str, str, tuple[object, ...]]]:
    node = parse_filter(text)
    out: list[tuple[str, str, str, tuple[object, ...]]] = []

    def walk(n: object) -> None:
        if isinstance(n, BoolOp):
            for part in n.parts:
                walk(part)
        else:
            assert isinstance(n, Comparison)
            out.append((n.field.kind, n.field.key, n.op, tuple(v.value for v in n.values)))

    walk(node)
    return out


def test_the_issue_example() -> None:
    text = "params.lr = 0.05 and metrics.val/loss < 0.2 and tags.team = 'nlp' and status = 'failed'"
    assert comparisons(text) == [
        ("param", "lr", "=", (0.05,)),
        ("metric", "val/loss", "<", (0.2,)),
        ("tag", "team", "=", ("nlp",)),
        ("attribute", "status", "=", ("failed",)),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.`val loss` >= 1e-3", [("metric", "val loss", ">=", (0.001,))]),
        ('params."my.param" != -2', [("param", "my.param", "!=", (-2,))]),
        ("params.a.b/c-d:e = 'x'", [("param", "a.b/c-d:e", "=", ("x",))]),
        ("tags.x IS NOT NULL", [("tag", "x", "IS NOT NULL", ())]),
        ("tags.x is null", [("tag", "x", "IS NULL", ())]),
        ("params.o NOT LIKE 'a%'", [("param", "o", "NOT LIKE", ("a%",))]),
        ("params.o ilike 'A%'", [("param", "o", "ILIKE", ("A%",))]),
        ("params.o in ('a', \"b\", 3)", [("param", "o", "IN", ("a", "b", 3))]),
        ("status not in ('failed')", [("attribute", "status", "NOT IN", ("failed",))]),
        ("attributes.run_id <> 'abc'", [("attribute", "id", "!=", ("abc",))]),
        ("params.q = 'it''s'", [("param", "q", "=", ("it's",))]),
        ("duration == 3", [("attribute", "duration", "=", (3,))]),
        (
            "started > '2026-01-31'",
            [("attribute", "started", ">", (datetime(2026, 1, 31, tzinfo=timezone.utc),))],
        ),
    ],
)
def test_names_values_and_operators(text: str, expected: list[tuple[object, ...]]) -> None:
    assert comparisons(text) == expected


def test_and_binds_tighter_than_or_and_parentheses_group() -> None:
    node = parse_filter("status = 'failed' or params.a = 1 and params.b = 2")
    assert isinstance(node, BoolOp) and node.op == "or"
    assert isinstance(node.parts[1], BoolOp) and node.parts[1].op == "and"
    grouped = parse_filter("(status = 'failed' or params.a = 1) and params.b = 2")
    assert isinstance(grouped, BoolOp) and grouped.op == "and"


def test_an_empty_filter_is_every_run() -> None:
    assert parse_filter("   ") is None
    assert parse_order_by("") is None


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        (
            "params.lr = 0.05 and metrics.val/loss < and tags.team = 'nlp'",
            "expected a value (a number or a 'quoted string') after '<' at column 41, found 'and'",
            41,
        ),
        (
            "params.lr =",
            "expected a value (a number or a 'quoted string') after '=' at the end",
            12,
        ),
        ("status", "expected an operator", 7),
        ("status = 'abc", "the string opened at column 10 is never closed", 10),
        ("metrics.`loss = 1", "the name quoted at column 9 is never closed", 9),
        ("foo.bar = 1", "unknown name 'foo.bar' at column 1", 1),
        ("stats = 'failed'", "unknown attribute 'stats' at column 1", 1),
        ("metrics.loss = 'low'", "metrics.loss takes a number at column 16, found 'low'", 16),
        ("params.a LIKE 3", "LIKE takes a 'quoted pattern' at column 15, found 3", 15),
        ("duration LIKE '1%'", "duration takes a number at column 15", 15),
        ("started < 'last week'", "expected a date or time", 11),
        ("params.a = 1 params.b = 2", "expected AND, OR or the end after '1' at column 14", 14),
        ("(status = 'failed'", "at the end (column 19)", 19),
        ("status in ('a',)", "expected a value (a number or a 'quoted string') after ','", 16),
        ("status = 'a' and", "expected a name (params.NAME", 17),
        ("status $ 'a'", "found '$'", 8),
    ],
)
def test_mistakes_say_what_was_expected_and_where(text: str, message: str, column: int) -> None:
    with pytest.raises(SearchSyntaxError) as err:
        parse_filter(text)
    assert message in str(err.value)
    assert err.value.column == column


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("metrics.train/loss ASC", "metrics.train/loss ASC"),
        ("params.lr desc", "params.lr DESC"),
        ("started", "started ASC"),
        ("attributes.start_time DESC", "attributes.start_time DESC"),
    ],
)
def test_order_by(text: str, shown: str) -> None:
    order = parse_order_by(text)
    assert order is not None and str(order) == shown


def test_order_by_mistakes() -> None:
    with pytest.raises(
        SearchSyntaxError, match=r"expected ASC or DESC after 'params\.lr' at column 11"
    ):
        parse_order_by("params.lr up")
    with pytest.raises(SearchSyntaxError, match="unknown attribute 'speed'"):
        parse_order_by("speed DESC")
