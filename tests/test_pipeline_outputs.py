"""References resolved against an upstream run: an artifact is materialized as a local
file (content-addressed), a model becomes a ``runs:/RUN_ID/NAME`` URI that ``load_model``
accepts, and a missing output fails the step with a message naming what exists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from jupyter_mlops.artifacts import artifact_row, open_artifact_store
from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.pipelines.orchestrator import PipelineAdvancer
from jupyter_mlops.pipelines.outputs import StepInputError, resolve_parameters
from jupyter_mlops.pipelines.report import pipeline_detail
from jupyter_mlops.pipelines.steps import start_pipeline
from jupyter_mlops.store import RunStore
from jupyter_mlops.tracking import load_model

from .conftest import init_repo, make_run


def _logged(store: RunStore, settings: Settings, run_id: str, path: Path, kind: str) -> str:
    sha, size = open_artifact_store(settings).put_file(path)
    store.add_artifact(artifact_row(run_id, path.name, kind, sha, size))
    return sha


def test_artifacts_models_and_run_ids_resolve(
    tmp_path: Path, settings: Settings, store: RunStore
) -> None:
    store.create_run(make_run("abc123"), params={}, tags=[])
    points = tmp_path / "points.csv"
    points.write_text("x\n1\n2\n")
    weights = tmp_path / "regressor"
    torch.save({"w": torch.tensor([1.5, 2.5])}, weights)
    points_sha = _logged(store, settings, "abc123", points, "file")
    model_sha = _logged(store, settings, "abc123", weights, "model")

    values = {
        "data": "${steps.train.artifacts.points}",  # the stem of points.csv
        "model": "${steps.train.models.regressor}",
        "note": "from ${steps.train.run_id}",
        "plain": 3,
    }
    resolved = resolve_parameters(store, settings, values, {"train": "abc123"})
    data = Path(resolved.parameters["data"])
    assert data.read_text() == "x\n1\n2\n" and data.name == "points.csv"
    assert points_sha in str(data)  # content-addressed: same bytes, same path
    assert resolved.parameters["model"] == "runs:/abc123/regressor"
    assert resolved.parameters["note"] == "from abc123" and resolved.parameters["plain"] == 3
    assert resolved.inputs == {
        "steps.train.artifacts.points": points_sha,
        "steps.train.models.regressor": model_sha,
    }
    state = load_model(resolved.parameters["model"], settings=settings)
    assert torch.equal(state["w"], torch.tensor([1.5, 2.5]))
    again = resolve_parameters(store, settings, values, {"train": "abc123"})
    assert again.parameters == resolved.parameters


def test_a_missing_output_names_what_the_run_has(settings: Settings, store: RunStore) -> None:
    store.create_run(make_run("abc123"), params={}, tags=[])
    with pytest.raises(StepInputError, match=r"no artifact named 'points' \(it has: none\)"):
        resolve_parameters(store, settings, {"p": "${steps.a.artifacts.points}"}, {"a": "abc123"})
    with pytest.raises(StepInputError, match=r"logged no metric 'loss' \(it has: none\)"):
        resolve_parameters(store, settings, {"m": "${steps.a.metrics.loss}"}, {"a": "abc123"})


def test_a_step_whose_upstream_lacks_the_output_fails_with_why(
    tmp_path: Path, service: JobService
) -> None:
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "pipelines", root)
    (root / "missing.yaml").write_text(
        "steps:\n"
        "  prepare:\n    notebook: prepare.ipynb\n"
        "  train:\n    notebook: train.ipynb\n"
        "    parameters: {points: '${steps.prepare.artifacts.nope}'}\n"
        "  evaluate:\n    notebook: evaluate.ipynb\n"
        "    parameters: {trained_by: '${steps.train.run_id}'}\n"
    )
    init_repo(root)
    run = start_pipeline(service, root / "missing.yaml")
    advancer = PipelineAdvancer(service)
    detail = pipeline_detail(advancer.store, advancer.advance(run.id, wait=True))
    steps = {s["name"]: s for s in detail["steps"]}
    assert detail["status"] == "failed"
    assert steps["prepare"]["status"] == "succeeded"
    assert steps["train"]["status"] == "failed" and steps["train"]["run_id"] is None
    assert "no artifact named 'nope' (it has: " in steps["train"]["reason"]
    assert "points" in steps["train"]["reason"]
    assert steps["evaluate"]["status"] == "skipped"
    assert "upstream train" in steps["evaluate"]["reason"]
