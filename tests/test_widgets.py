"""``jupyter_mlops.widgets.RunHistory`` against a temporary run store (no browser)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.store import Run, RunStatus, RunStore
from jupyter_mlops.store.types import utcnow
from jupyter_mlops.widgets import RunHistory, format_value, svg_line_plot


def add_run(
    store: RunStore,
    run_id: str,
    *,
    notebook: str = "train.ipynb",
    status: RunStatus = RunStatus.SUCCEEDED,
    tags: tuple[str, ...] = (),
    params: dict[str, tuple[object, str]] | None = None,
    age_s: float = 0.0,
) -> Run:
    now = utcnow() - timedelta(seconds=age_s)
    store.create_run(
        Run(
            id=run_id,
            created_at=now,
            source="cli",
            backend="local",
            notebook_path=notebook,
            notebook_abspath=f"/project/{notebook}",
            kernel_name="python3",
            gpus=0,
            seed=1,
            commit_sha="0" * 40,
            snapshot_ref=f"refs/mlops/runs/{run_id}",
            git_dir="/project/.git",
            worktree="/project",
            notebook_relpath=notebook,
        ),
        params=params or {},
        tags=tags,
    )
    if status is not RunStatus.QUEUED:
        store.transition(run_id, RunStatus.RUNNING, started_at=now)
        if status is not RunStatus.RUNNING:
            store.transition(run_id, status)
    return store.require_run(run_id)


def log(store: RunStore, run_id: str, key: str, values: list[float]) -> None:
    now = time.time()
    store.log_metrics_batch(run_id, [(key, i, v, now) for i, v in enumerate(values)])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    store = RunStore(f"sqlite:///{tmp_path / 'store.db'}")
    add_run(
        store,
        "aaaa00000001",
        tags=("baseline",),
        params={"lr": (0.1, "float")},
        age_s=30,
    )
    log(store, "aaaa00000001", "loss", [1.0 / (i + 1) for i in range(50)])
    log(store, "aaaa00000001", "acc", [0.5, 0.7, 0.9])
    add_run(store, "bbbb00000002", status=RunStatus.FAILED, tags=("sweep",), age_s=20)
    log(store, "bbbb00000002", "val/loss", [3.0, float("nan"), 2.0, 1.0])
    add_run(store, "cccc00000003", status=RunStatus.RUNNING, tags=("sweep",), age_s=10)
    add_run(store, "dddd00000004", notebook="other.ipynb", age_s=5)
    log(store, "dddd00000004", "loss", [float(i % 7) for i in range(5000)])
    yield store
    store.close()


def table_ids(widget: RunHistory) -> list[str]:
    return re.findall(r'data-run-id="([0-9a-f]+)"', widget.table.value)


def polyline_points(svg: str) -> int:
    return sum(len(m.split()) for m in re.findall(r'<polyline points="([^"]*)"', svg))


def test_table_lists_runs_newest_first_with_params_and_metrics(store: RunStore) -> None:
    widget = RunHistory(store=store)
    assert table_ids(widget) == ["dddd00000004", "cccc00000003", "bbbb00000002", "aaaa00000001"]
    assert [r["id"] for r in widget.rows] == table_ids(widget)
    html = widget.table.value
    assert "train.ipynb" in html and "other.ipynb" in html
    assert "lr=0.1" in html
    assert "acc=0.9" in html and "loss=0.02" in html
    assert "val/loss=1" in html
    assert 'data-status="failed"' in html and 'data-status="running"' in html
    assert "4 runs" in widget.summary.value
    first = widget.rows[-1]
    assert first["metrics"] == {"acc": 0.9, "loss": pytest.approx(0.02)}


def test_filters_by_status_tag_notebook_and_limit(store: RunStore) -> None:
    widget = RunHistory(store=store)
    widget.status.value = "failed"
    assert table_ids(widget) == ["bbbb00000002"]
    widget.status.value = "active"
    assert table_ids(widget) == ["cccc00000003"]
    widget.status.value = ""
    widget.tag.value = "sweep"
    assert table_ids(widget) == ["cccc00000003", "bbbb00000002"]
    widget.status.value = "succeeded"
    assert table_ids(widget) == []
    assert "No run matches these filters." in widget.table.value
    assert widget.run_picker.options == () and widget.run_picker.value is None
    assert "No run to plot" in widget.plot.value
    widget.tag.value = ""
    assert len(table_ids(widget)) == 2

    only_train = RunHistory(notebook="train.ipynb", limit=2, store=store)
    assert table_ids(only_train) == ["cccc00000003", "bbbb00000002"]
    assert "raise limit" in only_train.summary.value
    with pytest.raises(ValueError, match="limit"):
        RunHistory(store=store, limit=0)


def test_plot_follows_the_chosen_run_and_key(store: RunStore) -> None:
    widget = RunHistory(store=store)
    # the newest run is chosen first; it logged one key, 5000 points: downsampled
    assert widget.run_picker.value == "dddd00000004"
    assert widget.key_picker.options == ("loss",)
    big = widget.plot.value
    assert big.startswith("<svg") and "loss · dddd0000" in big
    assert "5000 points, downsampled" in big
    assert 2 <= polyline_points(big) <= 500

    widget.run_picker.value = "aaaa00000001"
    assert widget.key_picker.options == ("acc", "loss")
    assert widget.key_picker.value == "loss"  # a key with "loss" is preferred
    loss = widget.plot.value
    assert loss != big and polyline_points(loss) == 50 and "50 points" in loss
    widget.key_picker.value = "acc"
    acc = widget.plot.value
    assert polyline_points(acc) == 3 and acc.count("<circle") == 3
    assert "0.9" in acc and "0.5" in acc  # the y range is labelled

    # NaN breaks the line in two; the choice of run survives a refresh
    widget.run_picker.value = "bbbb00000002"
    assert widget.key_picker.value == "val/loss"
    nan = widget.plot.value
    assert nan.count("<polyline") == 2 and polyline_points(nan) == 3
    widget.refresh()
    assert widget.run_picker.value == "bbbb00000002"

    # a run without metrics
    widget.run_picker.value = "cccc00000003"
    assert widget.key_picker.options == () and "has logged no metric" in widget.plot.value

    # new points show after a refresh
    widget.run_picker.value = "aaaa00000001"
    widget.key_picker.value = "acc"
    store.log_metrics_batch("aaaa00000001", [("acc", 3, 0.95, time.time())])
    widget.refresh()
    assert polyline_points(widget.plot.value) == 4
    assert "acc=0.95" in widget.table.value


def test_reads_the_store_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("JUPYTER_MLOPS_DATA_DIR", str(data))
    monkeypatch.delenv("JUPYTER_MLOPS_DB_URL", raising=False)
    store = RunStore.from_settings(Settings.from_env())
    add_run(store, "eeee00000005")
    store.close()
    widget = RunHistory()
    try:
        assert table_ids(widget) == ["eeee00000005"]
    finally:
        widget.store.close()


def test_svg_plot_and_value_format() -> None:
    empty = svg_line_plot([(0, None), (1, math.nan)], title="t")
    assert "no finite values" in empty and "<polyline" not in empty
    flat = svg_line_plot([(5, 2.0)], title="one <point>")
    assert "one &lt;point&gt;" in flat and flat.count("<circle") == 1
    assert format_value(None) == "NaN" and format_value(math.inf) == "inf"
    assert format_value(1234567.0) == "1.23e+06" and format_value(0.5) == "0.5"
    assert format_value(0.0001234) == "1.23e-04"
