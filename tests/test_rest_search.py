"""``GET /mlops/api/runs?filter=&order_by=`` and ``GET /mlops/api/runs/keys`` through a
real jupyter server, on runs stored in its store; every answer is validated against
``openapi.yaml`` (the fixtures and the validator are those of ``test_rest``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from .conftest import make_run
from .test_rest import api, jp_server_config, mlops_data  # noqa: F401 (fixtures)

BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def stored(mlops: Any) -> list[str]:
    """Four runs, a minute apart: steps 60/60/10/none, train/loss 0.3/0.1/0.2/none."""
    store = mlops.store
    rows = [
        ("a1", {"steps": (60, "int"), "opt": ("adam", "str")}, ["team=nlp"], 0.3),
        ("a2", {"steps": (60, "int"), "opt": ("sgd", "str")}, ["team=cv"], 0.1),
        ("a3", {"steps": (10, "int")}, ["team=nlp"], 0.2),
        ("a4", {}, [], None),
    ]
    for index, (run_id, params, tags, loss) in enumerate(rows):
        created = BASE + timedelta(minutes=index)
        store.create_run(make_run(run_id, created_at=created), params=params, tags=tags)
        if loss is not None:
            store.log_metrics_batch(run_id, [("train/loss", 5, loss, created)])
    return [row[0] for row in rows]


async def runs(api: Any, **params: Any) -> Any:  # noqa: F811
    return await api("GET", "/runs", params=params, spec_path="/runs")


async def test_filter_and_order_by_as_on_the_cli(api: Any, stored: list[str]) -> None:  # noqa: F811
    resp = await runs(
        api, filter="params.steps = 60", order_by="metrics.train/loss ASC", metrics="train/loss"
    )
    assert [r["id"] for r in resp.data["runs"]] == ["a2", "a1"]
    assert resp.data["runs"][0]["metrics"] == {"train/loss": 0.1}
    assert resp.data["next_cursor"] is None


async def test_sorted_pages_follow_the_cursor_with_nulls_last(
    api: Any,  # noqa: F811
    stored: list[str],
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"order_by": "metrics.train/loss DESC", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        resp = await runs(api, **params)
        seen += [r["id"] for r in resp.data["runs"]]
        cursor = resp.data["next_cursor"]
        if not cursor:
            break
    assert seen == ["a1", "a3", "a2", "a4"]


async def test_filter_alone_keeps_newest_first(api: Any, stored: list[str]) -> None:  # noqa: F811
    resp = await runs(api, filter="tags.team = 'nlp' or params.opt LIKE 's%'")
    assert [r["id"] for r in resp.data["runs"]] == ["a3", "a2", "a1"]


@pytest.mark.parametrize(
    ("params", "message", "column", "field"),
    [
        (
            {"filter": "params.steps = 60 and metrics.train/loss < and status = 'failed'"},
            "filter: expected a value (a number or a 'quoted string') after '<' at column 44, "
            "found 'and'",
            44,
            "filter",
        ),
        (
            {"filter": "params.steps ="},
            "filter: expected a value (a number or a 'quoted string') after '=' at the end "
            "(column 15)",
            15,
            "filter",
        ),
        ({"filter": "status = 'done'"}, "filter: unknown status 'done' at column 10", 10, "filter"),
        (
            {"filter": "metrics.loss = 'low'"},
            "filter: metrics.loss takes a number at column 16, found 'low'",
            16,
            "filter",
        ),
        (
            {"order_by": "metrics.loss upward"},
            "order_by: expected ASC or DESC after 'metrics.loss' at column 14, found 'upward'",
            14,
            "order_by",
        ),
        ({"order_by": "wrong.x"}, "order_by: unknown name 'wrong.x' at column 1", 1, "order_by"),
    ],
)
async def test_a_bad_search_is_a_400_that_points_at_the_mistake(
    api: Any,  # noqa: F811
    stored: list[str],
    params: dict[str, str],
    message: str,
    column: int,
    field: str,
) -> None:
    resp = await api("GET", "/runs", params=params, expect=400, spec_path="/runs")
    assert resp.data["message"].startswith(message)
    assert resp.data["column"] == column
    assert resp.data["field"] == field


async def test_a_cursor_of_another_order_and_mixed_filters_are_refused(
    api: Any,  # noqa: F811
    stored: list[str],
) -> None:
    first = await runs(api, order_by="params.steps", limit=1)
    resp = await api(
        "GET",
        "/runs",
        params={"order_by": "params.steps DESC", "cursor": first.data["next_cursor"]},
        expect=400,
        spec_path="/runs",
    )
    assert "belongs to order_by 'params.steps ASC'" in resp.data["message"]
    assert resp.data["field"] == "cursor"
    resp = await api(
        "GET",
        "/runs",
        params={"filter": "params.steps = 60", "status": "failed"},
        expect=400,
        spec_path="/runs",
    )
    assert "cannot be combined with status" in resp.data["message"]


async def test_known_keys_for_the_column_chooser(api: Any, stored: list[str]) -> None:  # noqa: F811
    resp = await api("GET", "/runs/keys", spec_path="/runs/keys")
    assert resp.data == {"params": ["opt", "steps"], "metrics": ["train/loss"], "tags": ["team"]}
