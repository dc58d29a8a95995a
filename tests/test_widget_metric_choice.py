"""The RunHistory widget shows a curve first: a metric with more than one point before a
single final value, whatever the keys are called."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.store import RunStore
from jupyter_mlops.widgets import RunHistory, default_metric

from .test_widgets import add_run, log


@pytest.fixture
def history_store(tmp_path: Path) -> Iterator[RunStore]:
    store = RunStore(f"sqlite:///{tmp_path / 'store.db'}")
    add_run(store, "aaaa00000001", age_s=20)
    log(store, "aaaa00000001", "final/loss", [0.3])  # one point: a value, not a curve
    log(store, "aaaa00000001", "accuracy", [0.5, 0.7, 0.8])
    add_run(store, "bbbb00000002", age_s=10)
    log(store, "bbbb00000002", "a_single", [1.0])
    log(store, "bbbb00000002", "train/loss", [1.0, 0.5])
    log(store, "bbbb00000002", "lr", [0.1, 0.05])
    add_run(store, "cccc00000003")
    log(store, "cccc00000003", "only", [2.0])
    yield store
    store.close()


def test_the_plot_starts_on_a_metric_with_more_than_one_point(
    history_store: RunStore,
) -> None:
    widget = RunHistory(store=history_store)
    assert widget.run_picker.value == "cccc00000003"
    assert widget.key_picker.value == "only"  # nothing better: the single value
    widget.key_picker.value = None
    widget.run_picker.value = "aaaa00000001"
    assert widget.key_picker.value == "accuracy"  # not the one-point "final/loss"
    assert "3 points" in widget.plot.value
    widget.key_picker.value = None
    widget.run_picker.value = "bbbb00000002"
    assert widget.key_picker.value == "train/loss"  # among curves, a loss first


def test_default_metric_of_no_metrics_is_none() -> None:
    assert default_metric([]) is None
