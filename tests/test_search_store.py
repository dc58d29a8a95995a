"""The run search language against real stored runs, on SQLite and PostgreSQL: every
operator on parameters, metrics, tags and attributes; numeric against string parameters;
orders with NULLs last; keyset pages that add up to the whole order."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_mlops.search_syntax import SearchSyntaxError
from jupyter_mlops.store import RunStore

from .conftest import make_run

BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)

RUNS = {
    # id: (params, tags, metrics, status, duration seconds or None)
    "r1": (
        {"lr": (0.05, "float"), "steps": (60, "int"), "opt": ("adam", "str")},
        ["team=nlp", "baseline"],
        {"val/loss": 0.1, "train/loss": 0.5},
        "failed",
        30,
    ),
    "r2": (
        {"lr": (0.1, "float"), "steps": (60, "int"), "opt": ("Adam", "str")},
        ["team=cv"],
        {"val/loss": 0.3, "train/loss": 0.2},
        "succeeded",
        90,
    ),
    "r3": (
        {"lr": ("0.05", "str"), "steps": (10, "int"), "opt": ("sgd", "str")},
        ["team=nlp"],
        {"val/loss": math.nan, "train/loss": 0.2},
        "succeeded",
        10,
    ),
    "r4": ({"lr": (1, "int"), "layers": ([64, 32], "list")}, [], {}, "queued", None),
    "r5": (
        {"steps": (60.0, "float"), "opt": ("ad_m", "str")},
        ["team=nlp-2"],
        {"val/loss": 0.15, "train/loss": 0.4},
        "failed",
        60,
    ),
}


@pytest.fixture(scope="module")
def filled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One store per database with the five runs above (created a minute apart, r1 first)."""
    stores: dict[str, RunStore] = {}

    def get(dialect: str) -> RunStore:
        if dialect not in stores:
            if dialect == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'store.db'}"
            else:
                from .postgres import fresh_pg_database

                url = fresh_pg_database(request.getfixturevalue("postgres_server"))
            stores[dialect] = fill(RunStore(url))
        return stores[dialect]

    yield get
    for store in stores.values():
        store.close()


def fill(store: RunStore) -> RunStore:
    for index, (run_id, (params, tags, metrics, status, duration)) in enumerate(RUNS.items()):
        created = BASE + timedelta(minutes=index)
        store.create_run(make_run(run_id, created_at=created), params=params, tags=tags)
        fields: dict[str, object] = {"status": status}
        if duration is not None:
            started = created + timedelta(seconds=1)
            fields.update(started_at=started, finished_at=started + timedelta(seconds=duration))
        store.update_run(run_id, **fields)
        store.log_metrics_batch(
            run_id, [(key, 1, value, created) for key, value in metrics.items()]
        )
    return store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, filled) -> RunStore:
    return filled(request.param)


def ids(store: RunStore, text: str = "", order_by: str = "", limit: int = 100) -> list[str]:
    return [r.id for r in store.query_runs(filter=text, order_by=order_by, limit=limit).runs]


def found(store: RunStore, text: str) -> set[str]:
    return set(ids(store, text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # numbers compare with numeric parameters only; 60 equals 60.0
        ("params.lr = 0.05", {"r1"}),
        ("params.lr < 0.5", {"r1", "r2"}),
        ("params.lr <= 0.1", {"r1", "r2"}),
        ("params.lr > 0.05", {"r2", "r4"}),
        ("params.lr >= 1", {"r4"}),
        ("params.lr != 0.05", {"r2", "r4"}),
        ("params.steps = 60", {"r1", "r2", "r5"}),
        ("params.steps IN (10, 60)", {"r1", "r2", "r3", "r5"}),
        ("params.steps NOT IN (60)", {"r3"}),
        # strings compare with the text: the string itself, or the JSON of other values
        ("params.lr = '0.05'", {"r1", "r3"}),
        ("params.layers = '[64, 32]'", {"r4"}),
        ("params.opt = 'adam'", {"r1"}),
        ("params.opt != 'adam'", {"r2", "r3", "r5"}),
        ("params.opt > 'b'", {"r3"}),
        ("params.opt < 'b'", {"r1", "r2", "r5"}),
        ("params.opt LIKE 'ad%'", {"r1", "r5"}),
        ("params.opt LIKE 'ad_m'", {"r1", "r5"}),
        ("params.opt ILIKE 'ad%'", {"r1", "r2", "r5"}),
        ("params.opt NOT LIKE 'ad%'", {"r2", "r3"}),
        ("params.opt NOT ILIKE 'AD%'", {"r3"}),
        ("params.opt IN ('sgd', 'Adam')", {"r2", "r3"}),
        ("params.opt NOT IN ('sgd')", {"r1", "r2", "r5"}),
        ("params.layers IS NULL", {"r1", "r2", "r3", "r5"}),
        ("params.layers IS NOT NULL", {"r4"}),
        ("params.`opt` = 'sgd'", {"r3"}),
        # metrics: the latest value; NaN only matches IS NULL
        ("metrics.val/loss < 0.2", {"r1", "r5"}),
        ('metrics."val/loss" >= 0.15', {"r2", "r5"}),
        ("metrics.train/loss = 0.2", {"r2", "r3"}),
        ("metrics.train/loss != 0.2", {"r1", "r5"}),
        ("metrics.train/loss IN (0.5, 0.2)", {"r1", "r2", "r3"}),
        ("metrics.train/loss NOT IN (0.5, 0.2)", {"r5"}),
        ("metrics.val/loss <= 0.1", {"r1"}),
        ("metrics.val/loss > 0.1", {"r2", "r5"}),
        ("metrics.val/loss IS NULL", {"r3", "r4"}),
        ("metrics.val/loss IS NOT NULL", {"r1", "r2", "r5"}),
        # tags: key=value; a plain tag has the value ''
        ("tags.team = 'nlp'", {"r1", "r3"}),
        ("tags.team != 'nlp'", {"r2", "r5"}),
        ("tags.team LIKE 'nlp%'", {"r1", "r3", "r5"}),
        ("tags.team ILIKE 'NLP-%'", {"r5"}),
        ("tags.team IN ('cv', 'nlp-2')", {"r2", "r5"}),
        ("tags.team > 'd'", {"r1", "r3", "r5"}),
        ("tags.team IS NULL", {"r4"}),
        ("tags.baseline IS NOT NULL", {"r1"}),
        ("tags.baseline = ''", {"r1"}),
        # attributes
        ("status = 'failed'", {"r1", "r5"}),
        ("status != 'failed'", {"r2", "r3", "r4"}),
        ("attributes.status IN ('failed', 'queued')", {"r1", "r4", "r5"}),
        ("status NOT IN ('failed', 'queued')", {"r2", "r3"}),
        ("status LIKE 'succ%'", {"r2", "r3"}),
        ("duration > 50", {"r2", "r5"}),
        ("duration <= 30", {"r1", "r3"}),
        ("started IS NULL", {"r4"}),
        ("finished IS NOT NULL", {"r1", "r2", "r3", "r5"}),
        ("created >= '2026-01-01T00:03:00Z'", {"r4", "r5"}),
        ("created < '2026-01-01 00:01:00+00:00'", {"r1"}),
        ("started > '2026-01-01T00:02:00'", {"r3", "r5"}),
        ("id = 'r2'", {"r2"}),
        ("run_id IN ('r2', 'r4')", {"r2", "r4"}),
        ("notebook = 'nb/train.ipynb'", set(RUNS)),
        ("notebook LIKE 'nb/%'", set(RUNS)),
        ("notebook LIKE 'NB/%'", set()),
        ("kernel = 'python3'", set(RUNS)),
        ("seed = 7", set(RUNS)),
        # combinations
        (
            "params.lr = 0.05 and metrics.val/loss < 0.2 and tags.team = 'nlp' "
            "and status = 'failed'",
            {"r1"},
        ),
        ("status = 'queued' or metrics.val/loss > 0.2", {"r2", "r4"}),
        ("(status = 'queued' or metrics.val/loss > 0.2) and params.lr < 0.5", {"r2"}),
        ("", set(RUNS)),
    ],
)
def test_each_operator_on_stored_runs(store: RunStore, text: str, expected: set[str]) -> None:
    assert found(store, text) == expected


def test_an_unknown_status_is_refused_at_its_column(store: RunStore) -> None:
    with pytest.raises(SearchSyntaxError, match="unknown status 'faild' at column 10") as err:
        store.query_runs(filter="status = 'faild'")
    assert err.value.column == 10


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("metrics.train/loss ASC", ["r2", "r3", "r5", "r1", "r4"]),
        ("metrics.train/loss DESC", ["r1", "r5", "r3", "r2", "r4"]),
        ("metrics.val/loss", ["r1", "r5", "r2", "r3", "r4"]),
        ("metrics.val/loss desc", ["r2", "r5", "r1", "r4", "r3"]),
        # numbers numerically, then other values by text, then runs without it
        ("params.lr ASC", ["r1", "r2", "r4", "r3", "r5"]),
        ("params.lr DESC", ["r4", "r2", "r1", "r3", "r5"]),
        ("params.steps ASC", ["r3", "r1", "r2", "r5", "r4"]),
        ("params.opt ASC", ["r2", "r5", "r1", "r3", "r4"]),
        ("duration DESC", ["r2", "r5", "r1", "r3", "r4"]),
        ("duration", ["r3", "r1", "r5", "r2", "r4"]),
        ("started DESC", ["r5", "r3", "r2", "r1", "r4"]),
        ("created DESC", ["r5", "r4", "r3", "r2", "r1"]),
        ("", ["r5", "r4", "r3", "r2", "r1"]),
        ("status", ["r1", "r5", "r4", "r2", "r3"]),
        ("tags.team", ["r2", "r1", "r3", "r5", "r4"]),
        ("id DESC", ["r5", "r4", "r3", "r2", "r1"]),
    ],
)
def test_orders_put_nulls_last_and_break_ties_by_id(
    store: RunStore, order_by: str, expected: list[str]
) -> None:
    assert ids(store, order_by=order_by) == expected


@pytest.mark.parametrize(
    "order_by", ["metrics.val/loss DESC", "params.lr ASC", "duration", "created DESC", "status"]
)
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pages_add_up_to_the_whole_order(store: RunStore, order_by: str, limit: int) -> None:
    whole = ids(store, order_by=order_by)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = store.query_runs(order_by=order_by, limit=limit, cursor=cursor)
        assert len(page.runs) <= limit
        seen += [r.id for r in page.runs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == whole


def test_a_filtered_page_keeps_the_filter(store: RunStore) -> None:
    first = store.query_runs(filter="tags.team LIKE 'nlp%'", order_by="metrics.train/loss", limit=2)
    assert [r.id for r in first.runs] == ["r3", "r5"]
    rest = store.query_runs(
        filter="tags.team LIKE 'nlp%'",
        order_by="metrics.train/loss",
        limit=2,
        cursor=first.next_cursor,
    )
    assert [r.id for r in rest.runs] == ["r1"]
    assert rest.next_cursor is None
    assert {p.name for p in rest.runs[0].params} == {"lr", "steps", "opt"}


def test_a_cursor_is_tied_to_its_order(store: RunStore) -> None:
    page = store.query_runs(order_by="params.lr", limit=1)
    assert page.next_cursor
    with pytest.raises(ValueError, match=r"belongs to order_by 'params\.lr ASC'"):
        store.query_runs(order_by="params.lr DESC", cursor=page.next_cursor)
    with pytest.raises(ValueError, match="malformed cursor"):
        store.query_runs(order_by="params.lr", cursor="not-a-cursor")


def test_known_keys_for_the_column_chooser(store: RunStore) -> None:
    assert store.known_keys() == {
        "params": ["layers", "lr", "opt", "steps"],
        "metrics": ["train/loss", "val/loss"],
        "tags": ["baseline", "team"],
    }


def test_sorting_by_a_metric_walks_its_index_on_sqlite(filled) -> None:
    """The plan the benchmark relies on: no sort of every run, one index range."""
    from sqlalchemy import text

    from jupyter_mlops.search_syntax import parse_order_by
    from jupyter_mlops.store.search_filter import compile_filter
    from jupyter_mlops.store.search_order import RunQuery, sort_phases

    store = filled("sqlite")
    order = parse_order_by("metrics.val/loss DESC")
    assert order is not None
    phase = sort_phases(order, "sqlite")[0]
    query = RunQuery._phase_query(phase, compile_filter(None, "sqlite"), True, 51)
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        plan = " | ".join(row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_latest_metrics_key_value_run_id" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("order_by", ["", "metrics.val/loss ASC", "params.lr DESC"])
def test_list_rows_summarize_as_the_stored_runs_do(store: RunStore, order_by: str) -> None:
    """A page is read as plain rows (:class:`~jupyter_mlops.store.run_rows.RunRow`), not
    ORM runs: each summarizes exactly as the run read on its own does, parameters and tags
    in the same order, the queued run with its queue position."""
    from jupyter_mlops.serialize import run_summary

    page = store.query_runs(order_by=order_by, limit=100)
    listed = {row.id: run_summary(row) for row in page.runs}
    assert set(listed) == set(RUNS)
    for run_id, summary in listed.items():
        run = store.require_run(run_id)
        store.annotate_queue_positions([run])
        assert summary == run_summary(run)
    assert listed["r4"]["queue_position"] == 1
    assert list(listed["r1"]["parameters"]) == ["lr", "opt", "steps"]
    assert listed["r1"]["tags"] == ["baseline", "team=nlp"]
    legacy = store.list_runs(limit=100).runs
    assert {row.id: run_summary(row) for row in legacy} == listed
