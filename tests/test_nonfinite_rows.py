"""Rows written by older versions may hold NaN and infinities in number columns (metric
values and their summaries, a run's ``timeout_s``, a parameter's JSON, a cell's
duration): every REST answer stays valid JSON (they are ``null`` there) and the CLI
prints them (``null`` in ``--json``, as Python writes them in text), on SQLite and on
PostgreSQL. The fault is old data, so the rows are written with SQL, past the store's
own checks. And a run deleted while its HTML is rendered for its first view is an
ordinary 404, with no error logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from jupyter_mlops.finite_json import dumps_json
from jupyter_mlops.rendering import NotebookHtmlRenderer
from jupyter_mlops.server.stream_handlers import format_event
from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.types import utcnow

from . import test_rest as rest
from .conftest import git, make_run
from .conftest import mlops as mlops_cli
from .test_hostile_input import (  # noqa: F401 (fixtures)
    extra_config,
    jp_server_config,
    store_kind,
    strict_json,
)
from .test_html_after_status import stored_notebook_only

mlops_data = rest.mlops_data
api = rest.api

INF, NAN = math.inf, math.nan


def old_rows(store: RunStore, run_id: str, repo: Path) -> None:
    """A finished run of ``repo``'s head with metrics, a cell event and parameters, then
    NaN and infinities written into its number columns as an old version could have (on
    SQLite a NaN in a REAL column reads back as NULL; infinities stay)."""
    store.create_run(
        make_run(
            run_id,
            created_at=utcnow(),
            git_dir=str(repo / ".git"),
            worktree=str(repo),
            commit_sha=git(repo, "rev-parse", "HEAD"),
            notebook_path="notebooks/params.ipynb",
            notebook_relpath="notebooks/params.ipynb",
        ),
        params={"lr": (0.1, "float"), "layers": ([1, 2], "list"), "name": ("x", "str")},
        tags=["old"],
    )
    now = utcnow()
    store.log_metrics_batch(run_id, [("loss", s, 1.0 / (s + 1), now) for s in range(5)])
    store.log_metrics_batch(run_id, [("acc", 0, 0.5, now)])
    store.record_progress(
        run_id,
        cells_done=1,
        current_cell=None,
        cell_events=[{"at": now, "cell_index": 0, "duration_s": 0.1, "status": "ok"}],
    )
    store.transition(run_id, RunStatus.SUCCEEDED)
    with store.writing() as session:
        for sql, values in [
            ("UPDATE runs SET timeout_s = :v WHERE id = :id", {"v": INF}),
            ("UPDATE run_params SET value_json = 'NaN' WHERE run_id = :id AND name = 'lr'", {}),
            (
                "UPDATE run_params SET value_json = '[1, -Infinity]' "
                "WHERE run_id = :id AND name = 'layers'",
                {},
            ),
            ("UPDATE metrics SET value = :v WHERE run_id = :id AND step = 2", {"v": INF}),
            ("UPDATE metrics SET value = :v WHERE run_id = :id AND key = 'acc'", {"v": NAN}),
            (
                "UPDATE latest_metrics SET value = :v WHERE run_id = :id AND key = 'loss'",
                {"v": -INF},
            ),
            ("UPDATE latest_metrics SET value = :v WHERE run_id = :id AND key = 'acc'", {"v": NAN}),
            (
                "UPDATE metric_rollups SET min_value = :lo, max_value = :hi WHERE run_id = :id",
                {"lo": -INF, "hi": INF},
            ),
            (
                "UPDATE run_events SET duration_s = :v WHERE run_id = :id AND kind = 'cell'",
                {"v": INF},
            ),
        ]:
            session.execute(text(sql), {"id": run_id, **values})


RUN = "01d0000000a1"
OTHER = "01d0000000b2"


async def valid(api: Any, path: str, spec_path: str, params: Any = None) -> Any:
    """GET ``path``: 200, strict JSON (no NaN/Infinity), valid per ``openapi.yaml``."""
    resp = await api("GET", path, params=params, spec_path=spec_path)
    return strict_json(resp.body)


async def test_old_nonfinite_rows_give_valid_json_everywhere(
    api: Any,
    mlops: Any,
    jp_root_dir: Path,
) -> None:
    old_rows(mlops.store, RUN, jp_root_dir)
    old_rows(mlops.store, OTHER, jp_root_dir)
    listed = await valid(api, "/runs", "/runs")
    row = next(r for r in listed["runs"] if r["id"] == RUN)
    assert row["parameters"] == {"lr": None, "layers": [1, None], "name": "x"}
    await valid(api, "/runs", "/runs", params={"metrics": "loss,acc"})
    await valid(
        api, "/runs", "/runs", params={"filter": "params.name = 'x'", "order_by": "metrics.loss"}
    )
    detail = await valid(api, f"/runs/{RUN}", "/runs/{run_id}")
    assert detail["timeout_s"] is None and detail["parameters"]["lr"] is None
    assert detail["metrics"] == {"acc": None, "loss": None}
    assert [c["duration_s"] for c in detail["cells"]] == [None]
    metrics = await valid(api, f"/runs/{RUN}/metrics", "/runs/{run_id}/metrics")
    assert metrics
    series = await valid(api, f"/runs/{RUN}/metrics/loss", "/runs/{run_id}/metrics/{key}")
    assert [v for _, v in series["points"]] == [1.0, 0.5, None, 0.25, 0.2]
    await valid(api, "/metrics", "/metrics", params={"run": f"{RUN},{OTHER}", "key": "loss"})
    await valid(api, "/runs/keys", "/runs/keys")
    await valid(api, f"/runs/{RUN}/diff/{OTHER}", "/runs/{run_id}/diff/{other_id}")

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env.update(mlops.settings.runner_env())

    def cli(*args: str) -> str:
        result = mlops_cli(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stdout

    for args in (("runs", "--json"), ("show", RUN, "--json"), ("metrics", RUN, "--format", "json")):
        strict_json((await asyncio.to_thread(cli, *args)).encode())
    shown = await asyncio.to_thread(cli, "show", RUN)
    assert "timeout    inf" in shown and "lr = NaN" in shown
    table = await asyncio.to_thread(cli, "runs")
    assert RUN in table
    await asyncio.to_thread(cli, "compare", RUN, OTHER)


def test_dumps_json_writes_null_for_what_json_cannot_carry() -> None:
    data = {"a": [1.5, NAN, (INF, -INF)], "b": {"c": NAN}, "d": "NaN", "e": 2}
    assert json.loads(dumps_json(data)) == {
        "a": [1.5, None, [None, None]],
        "b": {"c": None},
        "d": "NaN",
        "e": 2,
    }
    assert dumps_json({"x": 1.0}, indent=2) == json.dumps({"x": 1.0}, indent=2)
    event = format_event(type("E", (), {"event": "run", "id": 3, "data": {"timeout_s": INF}})())
    assert 'data: {"timeout_s": null}' in event


# -- the HTML of a run deleted during its first view ------------------------------------------


class DeletingRenderer(NotebookHtmlRenderer):
    """Renders, and meanwhile the run is deleted (another user, ``jupyter mlops delete``)."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        super().__init__()
        self.store = store
        self.run_id = run_id

    def render(self, notebook: Path) -> Path:
        html = super().render(notebook)
        self.store.delete_run(self.run_id)
        return html


async def test_a_run_deleted_during_its_first_html_view_is_a_quiet_404(
    api: Any,
    mlops: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stored_notebook_only(mlops.store, mlops.settings, "de1e7ed00001", tmp_path)
    mlops.renderer = DeletingRenderer(mlops.store, "de1e7ed00001")
    with caplog.at_level(logging.DEBUG):
        resp = await api("GET", "/runs/de1e7ed00001/html", expect=404)
    assert "de1e7ed00001" in resp.data["message"]
    assert mlops.store.get_run("de1e7ed00001") is None
    # a 404 is logged like any other (a warning line of the access log); no error, no trace
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]
