"""The pipeline store on SQLite and PostgreSQL: compare-and-set step moves, attempts, the
step cache lookup and the run leases that make advancing exactly-once."""

from __future__ import annotations

from datetime import timedelta

from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.models_pipelines import PipelineRun, PipelineStep, PipelineStepAttempt
from jupyter_mlops.store.pipelines import PipelineStore
from jupyter_mlops.store.types import utcnow

from .conftest import make_run


def _pipeline(store: PipelineStore, pid: str = "pl-1") -> PipelineRun:
    run = PipelineRun(
        id=pid,
        name="demo",
        pipeline_path="pipeline.yaml",
        status="running",
        snapshot={"commit": "c" * 40},
        spec={"steps": {}},
        overrides={},
        no_cache=False,
    )
    steps = [
        PipelineStep(name="a", position=0, needs=[], status="pending", attempt=0),
        PipelineStep(name="b", position=1, needs=["a"], status="pending", attempt=0),
    ]
    return store.create(run, steps)


def test_steps_move_only_from_the_expected_status(db_url: str) -> None:
    runs = RunStore(db_url)
    store = PipelineStore(runs)
    _pipeline(store)
    first = PipelineStepAttempt(attempt=1, status="submitting", run_id="r1", cache_key="k1")
    assert store.start_attempt("pl-1", "a", ["pending"], first)
    second = PipelineStepAttempt(attempt=1, status="submitting", run_id="r2", cache_key="k1")
    assert not store.start_attempt("pl-1", "a", ["pending"], second)  # claimed once only
    assert [(a.step, a.run_id) for a in store.attempts("pl-1")] == [("a", "r1")]
    assert store.move_step("pl-1", "a", ["submitting"], status="running")
    assert not store.move_step("pl-1", "a", ["submitting"], status="running")
    steps = {s.name: s for s in store.steps("pl-1")}
    assert (steps["a"].status, steps["a"].run_id, steps["a"].attempt) == ("running", "r1", 1)
    assert steps["b"].needs == ["a"] and steps["b"].status == "pending"
    assert store.resolve_id("pl-") == "pl-1"
    runs.close()


def test_the_cache_serves_only_succeeded_runs(db_url: str) -> None:
    runs = RunStore(db_url)
    store = PipelineStore(runs)
    _pipeline(store)
    runs.create_run(make_run("r1"), params={}, tags=[])
    attempt = PipelineStepAttempt(attempt=1, status="running", run_id="r1", cache_key="key")
    store.start_attempt("pl-1", "a", ["pending"], attempt)
    assert store.cached_run("key") is None  # still queued
    runs.transition("r1", RunStatus.FAILED, reason="x")
    assert store.cached_run("key") is None
    runs.create_run(make_run("r2"), params={}, tags=[])
    attempt = PipelineStepAttempt(attempt=2, status="running", run_id="r2", cache_key="key")
    store.start_attempt("pl-1", "a", ["running"], attempt)
    runs.transition("r2", RunStatus.STARTING)
    runs.transition("r2", RunStatus.RUNNING)
    runs.transition("r2", RunStatus.SUCCEEDED)
    assert store.cached_run("key") == "r2"
    assert store.cached_run("other") is None
    assert store.executed_by("r2").step == "a"  # type: ignore[union-attr]
    runs.close()


def test_one_lease_holder_at_a_time_until_it_expires(db_url: str) -> None:
    runs = RunStore(db_url)
    store = PipelineStore(runs)
    _pipeline(store)
    now = utcnow()
    assert store.acquire_lease("pl-1", "one", ttl=10, now=now)
    assert not store.acquire_lease("pl-1", "two", ttl=10, now=now + timedelta(seconds=5))
    assert store.acquire_lease("pl-1", "one", ttl=10, now=now + timedelta(seconds=5))  # renew
    assert store.acquire_lease("pl-1", "two", ttl=10, now=now + timedelta(seconds=16))
    assert not store.acquire_lease("pl-1", "one", ttl=10, now=now + timedelta(seconds=17))
    store.release_lease("pl-1", "one")  # not its lease: nothing happens
    assert not store.acquire_lease("pl-1", "one", ttl=10, now=now + timedelta(seconds=17))
    store.release_lease("pl-1", "two")
    assert store.acquire_lease("pl-1", "one", ttl=10, now=now + timedelta(seconds=17))
    assert not store.acquire_lease("pl-missing", "one", ttl=10)
    runs.close()
