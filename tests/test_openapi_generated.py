"""``openapi.yaml`` is generated from the models and the handlers' paths: CI fails when the
committed file is stale (``python -m jupyter_mlops.server.openapi`` rewrites it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.server import openapi


def test_the_committed_openapi_yaml_is_the_generated_one(capsys: pytest.CaptureFixture) -> None:
    status = openapi.main(["--check"])
    assert status == 0, capsys.readouterr().out[-4000:]


def test_check_mode_shows_the_difference_and_fails(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.yaml"
    stale.write_text(openapi.SPEC_FILE.read_text().replace("RunSummary", "RunSumary", 1))
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.server.openapi", "--check", "--output", str(stale)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "-" in result.stdout and "RunSumary" in result.stdout and "stale" in result.stderr
    assert openapi.main(["--output", str(stale)]) == 0
    assert openapi.main(["--check", "--output", str(stale)]) == 0
    assert stale.read_text() == openapi.SPEC_FILE.read_text()


def test_components_keep_the_names_clients_import() -> None:
    schemas = openapi.build_document()["components"]["schemas"]
    assert {
        "Error",
        "RunStatus",
        "SubmitRequest",
        "RunSummary",
        "RunListItem",
        "RunPage",
        "RunDetail",
        "Artifact",
        "RunEvent",
        "MetricKey",
        "RunMetrics",
        "MetricSeries",
        "MetricSeriesSet",
        "NotebookParameters",
        "Kernels",
        "SnapshotDiff",
        "Schedule",
        "ScheduleRequest",
        "ScheduleChanges",
        "ScheduleDetail",
        "ScheduleList",
        "CatchupPolicy",
        "ConcurrencyPolicy",
        "CronPreview",
    } <= set(schemas)
    assert schemas["SubmitRequest"]["additionalProperties"] is False
