"""``jupyter mlops runs --filter ... --order-by ...``: the run search language on the CLI,
in a new process as a user types it; a mistake is one line with its column, exit 2."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.store import RunStore

from .conftest import make_run, mlops
from .test_cli_errors import assert_usage_error


@pytest.fixture
def stored(data_dir: Path) -> None:
    store = RunStore.from_settings(Settings(data_dir=data_dir))
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [
        ("c1", 60, 0.3, "failed"),
        ("c2", 60, 0.1, "succeeded"),
        ("c3", 10, 0.2, "succeeded"),
        ("c4", 60, None, "failed"),
    ]
    for index, (run_id, steps, loss, status) in enumerate(rows):
        created = base + timedelta(minutes=index)
        store.create_run(
            make_run(run_id, created_at=created),
            params={"steps": (steps, "int")},
            tags=["team=nlp"],
        )
        store.update_run(run_id, status=status, started_at=created, finished_at=created)
        if loss is not None:
            store.log_metrics_batch(run_id, [("train/loss", 1, loss, created)])
    store.close()


def test_filter_and_order_by_print_the_runs_in_order(env: dict[str, str], stored: None) -> None:
    result = mlops(
        "runs",
        "--filter",
        "params.steps = 60",
        "--order-by",
        "metrics.train/loss ASC",
        "--json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["c2", "c1", "c4"]  # no train/loss: last
    assert rows[0]["metrics"] == {"train/loss": 0.1}
    assert rows[2]["metrics"] == {}
    text = mlops("runs", "--filter", "status = 'failed' and tags.team = 'nlp'", env=env)
    assert text.returncode == 0, text.stderr
    assert [line.split()[0] for line in text.stdout.splitlines()[1:]] == ["c4", "c1"]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["--filter", "params.steps = 60 and metrics.train/loss <"],
            ["--filter", "expected a value", "after '<' at the end (column 43)"],
        ),
        (["--filter", "status = 'done'"], ["--filter", "unknown status 'done' at column 10"]),
        (
            ["--order-by", "metrics.loss sideways"],
            ["--order-by", "expected ASC or DESC", "column 14"],
        ),
        (
            ["--filter", "status = 'failed'", "--status", "failed"],
            ["cannot be combined with --status"],
        ),
    ],
)
def test_a_bad_search_exits_2_with_the_column(
    env: dict[str, str], stored: None, args: list[str], needles: list[str]
) -> None:
    assert_usage_error(mlops("runs", *args, env=env), *needles)
