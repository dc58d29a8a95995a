"""Resume, retries and orchestrators that die: a failed step then ``resume`` re-runs only
it (and what it blocked); ``retries`` records each attempt; a killed ``--wait`` neither
loses nor duplicates a step, because another process takes its lease over."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jupyter_mlops.jobs import JobService
from jupyter_mlops.pipelines.orchestrator import PipelineAdvancer
from jupyter_mlops.pipelines.report import pipeline_detail
from jupyter_mlops.pipelines.steps import start_pipeline
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.models_pipelines import PipelineStepAttempt
from jupyter_mlops.store.pipelines import PipelineStore

from .conftest import init_repo, mlops

HERE = Path(__file__).parent / "pipelines"


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    shutil.copytree(HERE, root)
    for name, text in files.items():
        (root / name).write_text(text)
    init_repo(root)
    return root


def _show(pipeline_id: str, env: dict[str, str], cwd: Path) -> dict:
    result = mlops("pipeline", "show", pipeline_id, "--json", env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _by_name(detail: dict) -> dict[str, dict]:
    return {s["name"]: s for s in detail["steps"]}


def _runs_of(store: RunStore, pipeline_id: str) -> list[str]:
    """The step runs of a pipeline run, as a user finds them in the runs table."""
    page = store.query_runs(filter=f"tags.pipeline = '{pipeline_id}'", order_by="", limit=100)
    return [r.id for r in page.runs]


def test_a_failed_step_then_resume_reruns_only_it(
    tmp_path: Path, env: dict[str, str], data_dir: Path
) -> None:
    marker = tmp_path / "fail-now"
    marker.write_text("x")
    root = _repo(
        tmp_path,
        {
            "resume.yaml": f"""
steps:
  first:
    notebook: sleepy.ipynb
    parameters: {{label: one}}
  flaky:
    notebook: flaky.ipynb
    needs: [first]
    parameters: {{marker: "{marker}"}}
  last:
    notebook: sleepy.ipynb
    parameters: {{label: "${{steps.flaky.run_id}}"}}
"""
        },
    )
    failed = mlops("pipeline", "run", "resume.yaml", "--wait", "--json", env=env, cwd=root)
    assert failed.returncode == 1, failed.stderr
    before = json.loads(failed.stdout)
    steps = _by_name(before)
    assert before["status"] == "failed" and "flaky" in before["status_reason"]
    assert [steps[n]["status"] for n in ("first", "flaky", "last")] == [
        "succeeded",
        "failed",
        "skipped",
    ]
    assert "marker present" in steps["flaky"]["reason"] or "failed" in steps["flaky"]["reason"]

    marker.unlink()
    resumed = mlops("pipeline", "resume", before["id"], "--wait", env=env, cwd=root)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: flaky, last" in resumed.stderr
    after = _by_name(_show(before["id"], env, root))
    assert after["first"]["run_id"] == steps["first"]["run_id"]
    assert len(after["first"]["attempts"]) == 1  # not run again
    assert [a["status"] for a in after["flaky"]["attempts"]] == ["failed", "succeeded"]
    assert after["flaky"]["run_id"] != steps["flaky"]["run_id"]
    assert after["last"]["status"] == "succeeded"
    assert _show(before["id"], env, root)["status"] == "succeeded"
    store = RunStore(f"sqlite:///{data_dir / 'mlops.db'}")
    try:
        assert len(_runs_of(store, before["id"])) == 4  # first, flaky twice, last
    finally:
        store.close()


def test_retries_retry_a_failed_step_recording_each_attempt(
    tmp_path: Path, service: JobService
) -> None:
    marker = tmp_path / "fail-once"
    marker.write_text("x")
    root = _repo(
        tmp_path,
        {
            "retry.yaml": f"""
steps:
  flaky:
    notebook: flaky.ipynb
    retries: 2
    parameters: {{marker: "{marker}", remove: true}}
"""
        },
    )
    run = start_pipeline(service, root / "retry.yaml")
    advancer = PipelineAdvancer(service)
    done = advancer.advance(run.id, wait=True)
    detail = pipeline_detail(advancer.store, done)
    assert done.status == "succeeded", detail
    attempts = detail["steps"][0]["attempts"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "failed"), (2, "succeeded")]
    assert attempts[0]["run_id"] != attempts[1]["run_id"]
    assert service.store.require_run(attempts[0]["run_id"]).status == "failed"


def test_a_killed_orchestrator_neither_loses_nor_duplicates_a_step(
    tmp_path: Path, env: dict[str, str], data_dir: Path
) -> None:
    root = _repo(
        tmp_path,
        {
            "chain.yaml": """
steps:
  a:
    notebook: sleepy.ipynb
    parameters: {seconds: 6, label: a}
  b:
    notebook: sleepy.ipynb
    parameters: {label: "${steps.a.run_id}"}
  c:
    notebook: sleepy.ipynb
    parameters: {label: "${steps.b.run_id}"}
"""
        },
    )
    env = {**env, "JUPYTER_MLOPS_PIPELINE_LEASE_TTL": "2"}
    orchestrator = subprocess.Popen(
        ["jupyter", "mlops", "pipeline", "run", "chain.yaml", "--wait"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = RunStore(f"sqlite:///{data_dir / 'mlops.db'}")
    pipelines = PipelineStore(store)
    try:
        deadline = time.monotonic() + 180
        step_a = None
        while time.monotonic() < deadline:
            listed = pipelines.list()
            if listed:
                step_a = next(s for s in pipelines.steps(listed[0].id) if s.name == "a")
                run = store.get_run(step_a.run_id) if step_a.run_id else None
                if run is not None and run.status == "running":
                    break
            assert orchestrator.poll() is None, orchestrator.communicate()
            time.sleep(0.1)
        else:
            pytest.fail("step a never started")
        os.kill(orchestrator.pid, signal.SIGKILL)  # mid-pipeline: a runs, b and c wait
        orchestrator.wait(timeout=30)
        pipeline_id = listed[0].id
        assert pipelines.require(pipeline_id).status == "running"

        took_over = mlops("pipeline", "resume", pipeline_id, "--wait", "--json", env=env, cwd=root)
        assert took_over.returncode == 0, took_over.stderr
        detail = json.loads(took_over.stdout)
        steps = _by_name(detail)
        assert detail["status"] == "succeeded"
        assert steps["a"]["run_id"] == step_a.run_id  # adopted, not run again
        for name in "abc":
            assert [a["status"] for a in steps[name]["attempts"]] == ["succeeded"], steps[name]
        assert sorted(_runs_of(store, pipeline_id)) == sorted(s["run_id"] for s in steps.values())
    finally:
        if orchestrator.poll() is None:
            orchestrator.kill()
        store.close()


def test_a_step_claimed_by_a_dead_holder_is_submitted_once_under_its_id(
    tmp_path: Path, service: JobService
) -> None:
    """The window between claiming a step (its run id recorded) and creating its run: a
    holder killed there leaves a step 'submitting'; the next holder creates exactly that
    run. (The kill cannot be timed into that window from outside, so the test writes the
    state such a holder leaves.)"""
    root = _repo(tmp_path, {"one.yaml": "steps:\n  only:\n    notebook: sleepy.ipynb\n"})
    run = start_pipeline(service, root / "one.yaml")
    store = PipelineStore(service.store)
    assert store.acquire_lease(run.id, "dead-holder", ttl=0.0)
    claimed = PipelineStepAttempt(
        attempt=1, status="submitting", run_id="deadbeef0001", cache_key="k"
    )
    assert store.start_attempt(run.id, "only", ["pending"], claimed)
    done = PipelineAdvancer(service).advance(run.id, wait=True)
    assert done.status == "succeeded"
    steps = store.steps(run.id)
    assert steps[0].run_id == "deadbeef0001" and steps[0].attempt == 1
    assert service.store.require_run("deadbeef0001").status == "succeeded"
    assert _runs_of(service.store, run.id) == ["deadbeef0001"]


def test_the_scheduler_process_advances_a_pipeline_nobody_waits_for(
    tmp_path: Path, env: dict[str, str], data_dir: Path
) -> None:
    """``pipeline run`` without ``--wait`` starts the ready steps and exits; a
    ``jupyter mlops scheduler`` process finishes the pipeline. A re-run serves ``a`` from
    the cache and runs ``b`` again (``cache: false``)."""
    root = _repo(
        tmp_path,
        {
            "two.yaml": """
steps:
  a:
    notebook: sleepy.ipynb
    parameters: {label: a}
  b:
    notebook: sleepy.ipynb
    cache: false
    parameters: {label: "${steps.a.run_id}"}
"""
        },
    )
    started = mlops("pipeline", "run", "two.yaml", env=env, cwd=root)
    assert started.returncode == 0, started.stderr
    pipeline_id = started.stdout.strip()
    scheduler = subprocess.Popen(
        ["jupyter", "mlops", "scheduler"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while _show(pipeline_id, env, root)["status"] == "running":
            assert time.monotonic() < deadline, "the scheduler did not finish the pipeline"
            assert scheduler.poll() is None
            time.sleep(1)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(timeout=60)
    first = _by_name(_show(pipeline_id, env, root))
    assert [first[n]["status"] for n in "ab"] == ["succeeded", "succeeded"]

    again = mlops("pipeline", "run", "two.yaml", "--wait", "--json", env=env, cwd=root)
    assert again.returncode == 0, again.stderr
    second = _by_name(json.loads(again.stdout))
    assert second["a"]["cached"] and second["a"]["run_id"] == first["a"]["run_id"]
    assert second["b"]["status"] == "succeeded" and not second["b"]["cached"]
    assert second["b"]["run_id"] != first["b"]["run_id"]
