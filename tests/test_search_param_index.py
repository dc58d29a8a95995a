"""Parameter equality through the value-prefix index (migration 0016), on SQLite and
PostgreSQL: long values (over PostgreSQL's 2,704-byte b-tree limit) are stored and found,
values that share the indexed prefix are told apart, and the two shapes of the filter
(the matching run ids read first, or the correlated EXISTS past ``ID_LIST_LIMIT``) give
the same runs in the same order."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from jupyter_mlops.search_syntax import Comparison, parse_filter
from jupyter_mlops.store import RunStore, search_order
from jupyter_mlops.store.models import RunParam
from jupyter_mlops.store.models_search import VALUE_PREFIX
from jupyter_mlops.store.search_filter import param_forms, param_value_in

from .conftest import make_run

BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)
HEAD = "x" * (VALUE_PREFIX - 2)  # a JSON string of VALUE_PREFIX characters, quotes included
LONG_LIST = list(range(1000))  # its JSON is 4,890 bytes
LONG_TEXT = "é" * 3000  # stored as JSON with \u00e9 escapes: 18,002 bytes

RUNS: dict[str, dict[str, object]] = {
    # id: the parameter "v" (and "k", a second name with the same values)
    "a": {"v": LONG_LIST, "k": 1},
    "b": {"v": [*LONG_LIST[:-1], 1000], "k": 2},  # the same first 200 characters as "a"
    "c": {"v": HEAD, "k": 1},  # JSON of exactly VALUE_PREFIX characters
    "d": {"v": HEAD + "y", "k": 2},  # starts with c's value, one character longer
    "e": {"v": HEAD[:-1], "k": 1},  # one character shorter than the prefix
    "f": {"v": LONG_TEXT, "k": 2},
    "g": {"v": 7, "k": 1},
    "h": {"v": 7.0, "k": 2},
    "i": {"v": "7", "k": 1},
}


@pytest.fixture
def store(db_url: str):
    s = RunStore(db_url)
    for index, (run_id, params) in enumerate(RUNS.items()):
        typed = {name: (value, type(value).__name__) for name, value in params.items()}
        created = BASE + timedelta(minutes=index)
        s.create_run(make_run(run_id, created_at=created), params=typed)
    yield s
    s.close()


def ids(store: RunStore, filter_text: str, order_by: str = "") -> list[str]:
    return [r.id for r in store.query_runs(filter=filter_text, order_by=order_by).runs]


def quoted(value: object) -> str:
    """A search literal for the parameter's text as MLflow compares it (a string is
    itself, anything else its JSON); none of the values here holds a quote."""
    raw = value if isinstance(value, str) else json.dumps(value)
    assert "'" not in raw
    return f"'{raw}'"


def test_long_values_are_stored_whole_and_found_exactly(store: RunStore) -> None:
    assert len(json.dumps(LONG_LIST).encode()) > 2704
    assert len(json.dumps(LONG_TEXT).encode()) > 2704
    run = store.require_run("a")
    assert json.loads({p.name: p for p in run.params}["v"].value_json) == LONG_LIST
    assert ids(store, f"params.v = {quoted(LONG_LIST)}") == ["a"]
    assert ids(store, f"params.v = {quoted([*LONG_LIST[:-1], 1000])}") == ["b"]
    assert ids(store, f"params.v = {quoted(LONG_TEXT)}") == ["f"]
    assert ids(store, f"params.v IN ({quoted(LONG_LIST)}, {quoted(LONG_TEXT)})") == ["f", "a"]
    assert ids(store, f"params.v != {quoted(LONG_LIST)}") == [
        "i",
        "h",
        "g",
        "f",
        "e",
        "d",
        "c",
        "b",
    ]


def test_values_sharing_the_indexed_prefix_are_told_apart(store: RunStore) -> None:
    """A form shorter than the prefix is decided by the index alone: a longer value has a
    full-length prefix, so it never equals it; a form of the prefix's length or longer
    is compared whole."""
    assert len(json.dumps(HEAD)) == VALUE_PREFIX
    assert ids(store, f"params.v = '{HEAD}'") == ["c"]
    assert ids(store, f"params.v = '{HEAD}y'") == ["d"]
    assert ids(store, f"params.v = '{HEAD[:-1]}'") == ["e"]
    assert ids(store, f"params.v = '{HEAD[:-2]}'") == []
    prefix_of_a = json.dumps(LONG_LIST)[:VALUE_PREFIX]
    assert ids(store, f"params.v = '{prefix_of_a}'") == []
    assert ids(store, f"params.v IN ('{HEAD}', '{HEAD[:-1]}', {quoted(LONG_LIST)})") == [
        "e",
        "c",
        "a",
    ]


def test_numbers_and_strings_keep_their_equality(store: RunStore) -> None:
    assert ids(store, "params.v = 7") == ["h", "g"]  # 7 and 7.0, not the string "7"
    assert ids(store, "params.v = '7'") == ["i", "g"]  # MLflow's text: "7" and 7
    assert ids(store, "params.v IN (7, '7')") == ["i", "h", "g"]


FILTERS = [
    "params.k = 1",
    "params.k IN (1, 2)",
    "params.k = 2 and params.v = 7",
    "params.k = 2 or params.v = '7'",
    "params.k = 1 and params.v != '7'",
    f"params.v = {quoted(LONG_LIST)} or params.k = 2",
]


@pytest.mark.parametrize("filter_text", FILTERS)
@pytest.mark.parametrize("order_by", ["", "params.k DESC", "id"])
def test_the_id_list_and_the_exists_give_the_same_pages(
    store: RunStore, monkeypatch: pytest.MonkeyPatch, filter_text: str, order_by: str
) -> None:
    listed = ids(store, filter_text, order_by)
    monkeypatch.setattr(search_order, "ID_LIST_LIMIT", 1)  # every equality past the list
    assert ids(store, filter_text, order_by) == listed
    pages, cursor = [], None
    for _ in range(len(RUNS) + 1):
        page = store.query_runs(filter=filter_text, order_by=order_by, limit=2, cursor=cursor)
        pages += [r.id for r in page.runs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == listed
    assert listed, filter_text


def test_equality_reads_the_value_prefix_index(store: RunStore) -> None:
    """The index exists after the migration and its expression is the filter's: the
    database can answer the id query from it."""
    comparison = parse_filter("params.k = 1")
    assert isinstance(comparison, Comparison)
    query = select(RunParam.run_id).where(
        RunParam.name == "k", param_value_in(RunParam.value_json, param_forms(comparison.values))
    )
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            # on nine rows the planner rightly prefers a table scan or (name, run_id):
            # give it the statistics, take both away, in a transaction rolled back
            conn.execute(text("ANALYZE run_params"))
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            conn.execute(text("DROP INDEX ix_run_params_name_run_id"))
            plan = " | ".join(row[0] for row in conn.execute(text("EXPLAIN " + sql)))
            conn.rollback()
        else:
            plan = " | ".join(row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_run_params_name_value_prefix" in plan, plan


def test_run_ids_with_a_comma_still_match(db_url: str) -> None:
    """The ids come back joined by commas; an id holding one (this package makes hex ids,
    another writer might not) is read again row by row."""
    store = RunStore(db_url)
    try:
        for index, run_id in enumerate(["x,1", "y", "z"]):
            run = make_run(run_id, created_at=BASE + timedelta(minutes=index))
            store.create_run(run, params={"k": (5 if run_id != "z" else 6, "int")})
        assert ids(store, "params.k = 5") == ["y", "x,1"]
        assert ids(store, "params.k IN (5, 6)") == ["z", "y", "x,1"]
    finally:
        store.close()
