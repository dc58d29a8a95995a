"""Metric endpoints of the REST API: keys, series (downsampled), overlays, list columns.

Real runs of a small notebook that logs with ``from jupyter_mlops import log_metric``,
through a real jupyter server; every response is validated against ``openapi.yaml``
(the fixtures and the validator are those of ``test_rest``).
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import NOTEBOOKS, extension_server_config
from .test_rest import (  # noqa: F401 (fixtures)
    MISSING_ID,
    TERMINAL,
    api,
    mlops_data,
    not_found_message,
    queued_run,
    wait_for_status,
)

LOGGING_NOTEBOOK = "metrics/logging.ipynb"


def notebook(*cells: tuple[str, list[str]]) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"cell-{i}",
                    "metadata": {"tags": tags} if tags else {},
                    "outputs": [],
                    "source": source,
                }
                for i, (source, tags) in enumerate(cells)
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


LOGGING_SOURCE = notebook(
    ("steps = 3000\nscale = 1.0\npause = 0.0\nextra = ''", ["parameters"]),
    (
        "import math\n"
        "import time\n"
        "from jupyter_mlops import flush, log_metric, log_metrics\n"
        "\n"
        "for i in range(steps):\n"
        "    log_metric('loss', scale / (1 + i) + (5.0 if i == 1234 else 0.0))\n"
        "    if i % 100 == 0:\n"
        "        log_metrics({'system/cpu': 10.0 + i / 100, 'acc': i / steps})\n"
        "    if pause:\n"
        "        time.sleep(pause)\n"
        "        if i % 5 == 0:\n"
        "            flush()\n"
        "log_metric('with nan', float('nan'), step=0)\n"
        "log_metric('with nan', 2.0, step=1)\n"
        "log_metric('with nan', float('nan'), step=2)\n"
        "if extra:\n"
        "    log_metric(extra, 1.0)",
        [],
    ),
)


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path) -> dict[str, Any]:  # noqa: F811
    """The extension on; a git repository with the logging notebook as the root."""
    root = jp_root_dir
    (root / "metrics").mkdir()
    (root / LOGGING_NOTEBOOK).write_text(LOGGING_SOURCE)
    shutil.copy(NOTEBOOKS / "trivial.ipynb", root / "metrics" / "trivial.ipynb")
    return extension_server_config(root)


async def submit(api: Any, **parameters: Any) -> str:  # noqa: F811
    resp = await api(
        "POST",
        "/runs",
        body={"notebook": LOGGING_NOTEBOOK, "parameters": parameters},
        expect=201,
        spec_path="/runs",
    )
    return str(resp.data["id"])


async def keys_of(api: Any, run_id: str) -> dict[str, Any]:  # noqa: F811
    data = (await api("GET", f"/runs/{run_id}/metrics", spec_path="/runs/{run_id}/metrics")).data
    assert data["run_id"] == run_id
    return {k["key"]: k for k in data["keys"]}


async def series(api: Any, run_id: str, key: str, **params: Any) -> dict[str, Any]:  # noqa: F811
    data = (
        await api(
            "GET",
            f"/runs/{run_id}/metrics/{key}",
            params=params or None,
            spec_path="/runs/{run_id}/metrics/{key}",
        )
    ).data
    assert data["run_id"] == run_id and data["key"] == key
    steps = [s for s, _ in data["points"]]
    assert steps == sorted(steps)
    return data


async def test_metric_keys_series_overlays_and_list_columns(api: Any, mlops: Any) -> None:  # noqa: F811
    first = await submit(api)
    second = await submit(api, steps=500, scale=2.0, extra="only/second")
    for run_id in (first, second):
        detail = await wait_for_status(api, run_id, TERMINAL, timeout=120)
        assert detail["status"] == "succeeded", detail["status_reason"]

    # the keys of a run: latest value, highest step, totals, range
    keys = await keys_of(api, first)
    # the notebook's keys, and the runner's CPU and memory samples
    assert list(keys) == [
        "acc",
        "loss",
        "system/cpu",
        "system/cpu_percent",
        "system/memory_rss_mb",
        "with nan",
    ]
    loss = keys["loss"]
    assert loss["total_points"] == 3000 and loss["step"] == 2999
    assert loss["first_step"] == 0 and loss["last_step"] == 2999
    assert loss["latest"] == pytest.approx(1 / 3000)
    assert loss["max"] == pytest.approx(5 + 1 / 1235) and loss["min"] == pytest.approx(1 / 3000)
    assert loss["at"]
    assert keys["system/cpu"]["total_points"] == 30
    assert keys["system/cpu"]["latest"] == pytest.approx(10.0 + 29)
    nan = keys["with nan"]
    assert nan["latest"] is None and nan["step"] == 2 and nan["total_points"] == 3
    assert nan["min"] == nan["max"] == 2.0

    # a long series is downsampled to max_points, keeping the spike and both ends
    down = await series(api, first, "loss")
    assert down["downsampled"] is True and down["max_points"] == 1000
    assert down["total_points"] == 3000 and 500 <= len(down["points"]) <= 1000
    values = dict((s, v) for s, v in down["points"])
    assert values[0] == pytest.approx(1.0)
    assert values[1234] == pytest.approx(1 / 1235 + 5.0)  # the spike survives
    small = await series(api, first, "loss", max_points=50)
    assert len(small["points"]) <= 50 and small["downsampled"] is True
    assert 1234 in dict((s, v) for s, v in small["points"])
    full = await series(api, first, "loss", max_points=5000)
    assert full["downsampled"] is False and len(full["points"]) == 3000
    assert full["points"][10] == [10, pytest.approx(1 / 11)]

    # keys with '/' and spaces; NaN comes back as null
    cpu = await series(api, first, "system/cpu")
    assert [s for s, _ in cpu["points"]] == list(range(30))
    with_nan = await series(api, first, "with nan")
    assert with_nan["points"] == [[0, None], [1, 2.0], [2, None]]

    # overlays: one series per (run, key); a run without the key has an empty one
    overlay = (
        await api(
            "GET",
            "/metrics",
            params=[
                ("run", first),
                ("run", second),
                ("key", "loss"),
                ("key", "only/second"),
                ("max_points", "200"),
            ],
            spec_path="/metrics",
        )
    ).data
    assert overlay["max_points"] == 200
    got = {(s["run_id"], s["key"]): s for s in overlay["series"]}
    assert list(got) == [
        (first, "loss"),
        (first, "only/second"),
        (second, "loss"),
        (second, "only/second"),
    ]
    assert got[(first, "loss")]["total_points"] == 3000
    assert len(got[(first, "loss")]["points"]) <= 200
    assert got[(second, "loss")]["total_points"] == 500
    assert got[(second, "loss")]["points"][0] == [0, pytest.approx(2.0)]
    assert got[(first, "only/second")] == {
        "run_id": first,
        "key": "only/second",
        "total_points": 0,
        "downsampled": False,
        "points": [],
    }
    assert got[(second, "only/second")]["points"] == [[0, 1.0]]
    comma = (
        await api(
            "GET",
            "/metrics",
            params={"run": f"{first},{second}", "key": "acc"},
            spec_path="/metrics",
        )
    ).data
    assert [s["run_id"] for s in comma["series"]] == [first, second]

    # the run list carries the latest values of the chosen keys (metric columns)
    page = (
        await api("GET", "/runs", params={"metrics": "loss,only/second,nope"}, spec_path="/runs")
    ).data
    by_id = {r["id"]: r for r in page["runs"]}
    assert by_id[first]["metrics"] == {"loss": pytest.approx(1 / 3000)}
    assert by_id[second]["metrics"] == {"loss": pytest.approx(2 / 500), "only/second": 1.0}
    repeated = (
        await api(
            "GET",
            "/runs",
            params=[("metrics", "with nan"), ("metrics", "acc"), ("status", "succeeded")],
            spec_path="/runs",
        )
    ).data
    assert {r["id"]: r["metrics"] for r in repeated["runs"]}[first] == {
        "with nan": None,
        "acc": pytest.approx(2900 / 3000),
    }
    plain = (await api("GET", "/runs", spec_path="/runs")).data
    assert all("metrics" not in r for r in plain["runs"])


async def test_series_grow_while_the_run_is_going(api: Any, mlops: Any) -> None:  # noqa: F811
    run_id = await submit(api, steps=60, pause=0.1)
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while True:
        detail = (await api("GET", f"/runs/{run_id}", spec_path="/runs/{run_id}")).data
        status = detail["status"]
        if status in TERMINAL:
            break
        keys = await keys_of(api, run_id)
        if "loss" in keys:
            data = await series(api, run_id, "loss")
            assert data["total_points"] == len(data["points"])
            seen.append(data["total_points"])
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        await asyncio.sleep(0.3)
    assert status == "succeeded", detail["status_reason"]
    assert seen == sorted(seen)
    assert len(set(seen)) >= 3, seen  # watched the series grow in several steps
    assert 0 < seen[0] < 60
    final = await series(api, run_id, "loss")
    assert final["total_points"] == 60 and final["points"][-1][0] == 59


async def test_metric_requests_errors(api: Any, mlops: Any, jp_root_dir: Path) -> None:  # noqa: F811
    run = queued_run(mlops, jp_root_dir)
    now = time.time()
    mlops.store.log_metrics_batch(
        run.id,
        [("loss", i, 1.0 / (i + 1), now) for i in range(10)]
        + [("bad", 0, math.inf, now), ("bad", 1, -math.inf, now), ("a,b", 3, 0.5, now)],
    )
    # a run logging no metric yet has no keys; infinities are null
    keys = await keys_of(api, run.id)
    assert keys["bad"]["latest"] is None and keys["loss"]["total_points"] == 10
    assert (await series(api, run.id, "bad"))["points"] == [[0, None], [1, None]]
    comma = (
        await api("GET", "/metrics", params={"run": run.id, "key": "a,b"}, spec_path="/metrics")
    ).data
    assert [(s["key"], s["points"]) for s in comma["series"]] == [("a,b", [[3, 0.5]])]
    bare = queued_run(mlops, jp_root_dir)
    assert await keys_of(api, bare.id) == {}

    missing_run = [
        (f"/runs/{MISSING_ID}/metrics", None, "/runs/{run_id}/metrics"),
        (f"/runs/{MISSING_ID}/metrics/loss", None, "/runs/{run_id}/metrics/{key}"),
        ("/metrics", [("run", run.id), ("run", MISSING_ID), ("key", "loss")], "/metrics"),
        ("/metrics", {"run": "not-a-run", "key": "loss"}, "/metrics"),
    ]
    for path, params, spec_path in missing_run:
        assert "no run" in await not_found_message(api, path, spec_path, params)
    unknown_key = f"/runs/{run.id}/metrics/nope/x"
    assert "'nope/x'" in await not_found_message(api, unknown_key, "/runs/{run_id}/metrics/{key}")

    for value in ("x", "1", "0", "-5", "100001", "1.5"):
        resp = await api(
            "GET",
            f"/runs/{run.id}/metrics/loss",
            params={"max_points": value},
            expect=400,
            spec_path="/runs/{run_id}/metrics/{key}",
        )
        assert "max_points" in resp.data["message"]
    for params, needle in [
        ({"key": "loss"}, "at least one run"),
        ({"run": run.id}, "at least one metric key"),
        ({"run": run.id, "key": " "}, "at least one metric key"),
        ({"run": run.id, "key": "loss", "max_points": "no"}, "max_points"),
        ([("run", run.id), *(("key", f"k{i}") for i in range(21))], "at most 20"),
        ({"run": ",".join(f"{i:x}" for i in range(51)), "key": "loss"}, "at most 50"),
        ({"run": run.id, "key": "k" * 256}, "longer than 255"),
    ]:
        resp = await api("GET", "/metrics", params=params, expect=400, spec_path="/metrics")
        assert needle in resp.data["message"], (params, resp.data)
    too_many = await api(
        "GET",
        "/runs",
        params={"metrics": ",".join(f"k{i}" for i in range(21))},
        expect=400,
        spec_path="/runs",
    )
    assert "at most 20" in too_many.data["message"]

    anonymous = {"Authorization": ""}
    for path, params in [
        (f"/runs/{run.id}/metrics", None),
        (f"/runs/{run.id}/metrics/loss", None),
        ("/metrics", {"run": run.id, "key": "loss"}),
        ("/runs", {"metrics": "loss"}),
    ]:
        resp = await api("GET", path, params=params, headers=anonymous, expect=403)
        assert resp.data["status"] == 403
