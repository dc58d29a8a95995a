"""Pipelines end to end, with real runs: an artifact and a metric go downstream, an
unchanged re-run comes entirely from the step cache, and a changed parameter re-runs its
step and the steps after it only."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.pipelines.orchestrator import PipelineAdvancer
from jupyter_mlops.pipelines.report import pipeline_detail
from jupyter_mlops.pipelines.steps import start_pipeline
from jupyter_mlops.store import RunStore

from .conftest import init_repo, stop_active_runs

HERE = Path(__file__).parent / "pipelines"


@dataclass
class Project:
    root: Path
    jobs: JobService
    advancer: PipelineAdvancer

    def run(self, overrides: dict[str, str] | None = None, **options: object) -> dict:
        run = start_pipeline(self.jobs, self.root / "pipeline.yaml", overrides or {}, **options)
        done = self.advancer.advance(run.id, wait=True)
        return pipeline_detail(self.advancer.store, done)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    base = tmp_path_factory.mktemp("pipelines")
    root = base / "project"
    shutil.copytree(HERE, root)
    init_repo(root)
    settings = Settings(data_dir=base / "data", heartbeat_interval=0.5, lost_after=30.0)
    store = RunStore.from_settings(settings)
    jobs = JobService(settings, store)
    yield Project(root, jobs, PipelineAdvancer(jobs))
    stop_active_runs(store)
    store.close()


@pytest.fixture(scope="module")
def first(project: Project) -> dict:
    return project.run()


def _steps(detail: dict) -> dict[str, dict]:
    return {s["name"]: s for s in detail["steps"]}


def test_three_steps_pass_an_artifact_and_a_metric_downstream(
    project: Project, first: dict
) -> None:
    store = project.jobs.store
    steps = _steps(first)
    assert first["status"] == "succeeded", first
    assert [s["status"] for s in first["steps"]] == ["succeeded"] * 3
    assert not any(s["cached"] for s in first["steps"])
    prepare, train, evaluate = (store.require_run(steps[n]["run_id"]) for n in steps)
    params = {r.id: {p.name: p.value_json for p in r.params} for r in (train, evaluate)}
    points = Path(params[train.id]["points"].strip('"'))
    assert points.read_text() == "x\n0\n1\n2\n3\n4\n"  # prepare's artifact, materialized
    assert store.get_artifact(prepare.id, "points").sha256 in str(points)
    mse = store.latest_metrics(train.id)["train/mse"]
    assert mse == pytest.approx(0.5 * 2.0)
    assert float(params[evaluate.id]["mse"]) == mse
    assert params[evaluate.id]["trained_by"] == f'"{train.id}"'
    assert store.latest_metrics(evaluate.id)["eval/score"] == pytest.approx(2 * mse)
    # ordinary runs, linked to the pipeline, all at the pipeline's one commit
    for run in (prepare, train, evaluate):
        tags = {t.tag for t in run.tags}
        assert f"pipeline={first['id']}" in tags and any(
            t.startswith("pipeline-step=") for t in tags
        )
        assert run.commit_sha == first["commit"] and run.source == "pipeline"
    assert prepare.finished_at <= train.started_at and train.finished_at <= evaluate.started_at


def test_an_unchanged_rerun_is_served_entirely_from_the_cache(
    project: Project, first: dict
) -> None:
    before = project.jobs.store.count_runs()
    again = project.run()
    assert again["status"] == "succeeded"
    assert project.jobs.store.count_runs() == before  # no kernel, no run
    for name, step in _steps(again).items():
        assert step["status"] == "cached" and step["cached"]
        assert step["run_id"] == _steps(first)[name]["run_id"]
        assert step["cached_from"] == {
            "run_id": _steps(first)[name]["run_id"],
            "pipeline_id": first["id"],
            "step": name,
        }


def test_a_changed_parameter_reruns_its_step_and_its_dependents_only(
    project: Project, first: dict
) -> None:
    changed = project.run({"train.lr": "0.25"})
    steps = _steps(changed)
    assert changed["status"] == "succeeded"
    assert (
        steps["prepare"]["cached"]
        and steps["prepare"]["run_id"] == _steps(first)["prepare"]["run_id"]
    )
    for name in ("train", "evaluate"):
        assert steps[name]["status"] == "succeeded" and not steps[name]["cached"]
        assert steps[name]["run_id"] != _steps(first)[name]["run_id"]
    store = project.jobs.store
    assert store.latest_metrics(steps["train"]["run_id"])["train/mse"] == pytest.approx(0.5)
    assert store.latest_metrics(steps["evaluate"]["run_id"])["eval/score"] == pytest.approx(1.0)


def test_no_cache_runs_every_step_again(project: Project, first: dict) -> None:
    fresh = project.run(no_cache=True)
    assert fresh["status"] == "succeeded" and fresh["no_cache"]
    for name, step in _steps(fresh).items():
        assert not step["cached"] and step["run_id"] != _steps(first)[name]["run_id"]
