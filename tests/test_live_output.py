"""Live output: what cells print reaches the store while they run, bounded per cell and
per run, with the full text in the ``logs/output.txt`` artifact."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.artifacts import open_artifact_store
from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.runner_live_output import (
    LIVE_OUTPUT_ARTIFACT,
    OutputBudget,
    coalesce,
    output_text,
)
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.models_output import NOTICE_STREAM
from jupyter_mlops.store.output import OutputPiece

from .test_runs import wait_for, wait_until


def output_of(store: RunStore, run_id: str) -> str:
    return "".join(chunk.text for chunk in store.output_since(run_id))


def artifact_text(settings: Settings, store: RunStore, run_id: str) -> str:
    artifact = store.get_artifact(run_id, LIVE_OUTPUT_ARTIFACT)
    assert artifact is not None, "the full output was not stored"
    with open_artifact_store(settings).open(artifact.sha256) as f:
        return f.read().decode("utf-8")


def test_output_reaches_the_store_while_the_cell_still_runs(
    service: JobService, project: Path, tmp_path: Path
) -> None:
    gate, gate2 = tmp_path / "gate", tmp_path / "gate2"
    sub = service.submit(
        RunSpec(
            notebook=str(project / "notebooks/live_output.ipynb"),
            parameters={"gate": str(gate), "gate2": str(gate2)},
        )
    )
    store = service.store
    wait_until(lambda: "first line" in output_of(store, sub.run.id), timeout=120)
    run = store.require_run(sub.run.id)
    assert run.status == "running" and run.cells_done < (run.cells_total or 0)
    assert "second line" not in output_of(store, sub.run.id)  # its cell has not started
    gate.touch()
    wait_until(lambda: "to stderr" in output_of(store, sub.run.id), timeout=60)
    assert store.require_run(sub.run.id).status == "running"
    gate2.touch()
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    chunks = store.output_since(run.id)
    assert [c.seq for c in chunks] == list(range(1, len(chunks) + 1))
    pieces = [(c.stream, c.text) for c in chunks]
    assert pieces == [
        ("stdout", "first line\n"),
        ("stdout", "second line\n"),
        ("stderr", "to stderr\n"),
        ("stdout", "last line\n"),
        ("result", "'the result'\n"),
    ]
    first_cell = chunks[0].cell_index
    assert [c.cell_index for c in chunks] == [first_cell, first_cell + 1, first_cell + 1] + [
        first_cell + 2
    ] * 2
    assert store.output_since(run.id, after=3)[0].text == "last line\n"
    assert artifact_text(service.settings, store, run.id) == "".join(t for _, t in pieces)


def test_a_cell_printing_past_the_cap_is_truncated_with_the_full_text_in_the_artifact(
    service: JobService, project: Path
) -> None:
    run = wait_for(
        service, service.submit(RunSpec(notebook=str(project / "notebooks/big_output.ipynb")))
    )
    assert run.status == "succeeded", run.status_reason
    store = service.store
    chunks = store.output_since(run.id)
    notices = [c for c in chunks if c.stream == NOTICE_STREAM]
    assert len(notices) == 1
    assert "output truncated" in notices[0].text and LIVE_OUTPUT_ARTIFACT in notices[0].text
    big_cell = notices[0].cell_index
    kept = sum(
        len(c.text.encode()) for c in chunks if c.cell_index == big_cell and c is not notices[0]
    )
    assert kept == service.settings.output_cell_max_bytes
    assert chunks[-1].text == "done\n"  # the next cell has a budget of its own
    assert "bad bytes: " in chunks[0].text and "café" in chunks[0].text  # any bytes: text
    full = artifact_text(service.settings, store, run.id)
    assert "x" * (5 * 1024 * 1024) + "\n" in full and full.endswith("done\n")


class TestRunCap:
    """A run whose whole output passes ``output_run_max_bytes``."""

    @pytest.fixture
    def service_settings(self, settings: Settings) -> Settings:
        return replace(settings, output_run_max_bytes=4000)

    def test_the_run_cap_stops_storing_output_of_later_cells(
        self, service: JobService, project: Path
    ) -> None:
        run = wait_for(
            service,
            service.submit(RunSpec(notebook=str(project / "notebooks/big_output.ipynb"))),
        )
        assert run.status == "succeeded", run.status_reason
        chunks = service.store.output_since(run.id)
        assert chunks[-1].stream == NOTICE_STREAM
        assert "run's output passed 4000" in chunks[-1].text
        assert sum(len(c.text.encode()) for c in chunks[:-1]) == 4000
        assert "done" not in output_of(service.store, run.id)
        assert artifact_text(service.settings, service.store, run.id).endswith("done\n")


def test_output_text_of_each_kind_of_output() -> None:
    assert output_text({"output_type": "stream", "name": "stderr", "text": "e\n"}) == (
        "stderr",
        "e\n",
    )
    assert output_text({"output_type": "execute_result", "data": {"text/plain": "42"}}) == (
        "result",
        "42\n",
    )
    assert output_text({"output_type": "display_data", "data": {"image/png": "..."}}) == (
        "result",
        "[image/png]\n",
    )
    error = {"output_type": "error", "traceback": ["\x1b[31mValueError\x1b[0m: no"]}
    assert output_text(error) == ("error", "ValueError: no\n")
    assert output_text({"output_type": "update_display_data"}) is None


def test_budget_and_coalescing_keep_order_and_bounds() -> None:
    budget = OutputBudget(cell_max=10, run_max=15)
    assert budget.admit(OutputPiece(1, "stdout", "12345")) == [OutputPiece(1, "stdout", "12345")]
    kept = budget.admit(OutputPiece(1, "stdout", "6789012"))
    assert kept[0] == OutputPiece(1, "stdout", "67890") and kept[1].stream == NOTICE_STREAM
    assert budget.admit(OutputPiece(1, "stdout", "more")) == []  # that cell is full
    rest = budget.admit(OutputPiece(2, "stdout", "abcdefgh"))
    assert rest[0] == OutputPiece(2, "stdout", "abcde") and "run's output" in rest[1].text
    assert budget.admit(OutputPiece(3, "stdout", "x")) == []  # the run is full
    assert coalesce(
        [
            OutputPiece(1, "stdout", "a"),
            OutputPiece(1, "stdout", "b"),
            OutputPiece(1, "stderr", "c"),
        ]
    ) == [OutputPiece(1, "stdout", "ab"), OutputPiece(1, "stderr", "c")]


def test_a_printed_secret_parameter_is_redacted_in_the_store_and_the_artifact(
    service: JobService, project: Path
) -> None:
    secret = "sk-live-" + "Wh1sper" * 4
    notebook = project / "notebooks/prints_secret.ipynb"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('api_key = ""', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell('print("the key is", api_key)'),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, notebook)
    run = wait_for(
        service,
        service.submit(RunSpec(notebook=str(notebook), raw_parameters={"api_key": secret})),
    )
    assert run.status == "succeeded", run.status_reason
    assert output_of(service.store, run.id) == "the key is ***\n"
    assert artifact_text(service.settings, service.store, run.id) == "the key is ***\n"
