"""On-data, on-drift and on-metric triggers across three real scheduler processes.

Three ``jupyter mlops scheduler`` processes watch the same triggers in one store (a SQLite
file, a PostgreSQL database); every one sees each new data version, drift or metric
crossing, and the trigger's compare-and-set lets exactly one of them fire it. The tests
check the store: one event, one run, the run saying what fired it; a scheduler killed
mid-way loses and duplicates nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.store import Run, RunStore
from jupyter_mlops.store.triggers import EventRecord, TriggerStore
from jupyter_mlops.tracking.streams import push_to_stream

from .conftest import mlops, mlops_line
from .scheduler_processes import all_ended, kill_scheduler, schedulers, trigger_runs, wait_for
from .test_triggers_data import sample, train_notebook, write_csv


def add_trigger(line: str, env: dict[str, str]) -> str:
    """``jupyter mlops trigger add LINE``; the new trigger's id."""
    added = mlops_line(f"trigger add {line}", env=env)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip()


def fired_by(store: RunStore, run: Run) -> str:
    """The one note that says why ``run`` fired (the run detail's ``fired_by``)."""
    (note,) = [e.message or "" for e in store.events(run.id, kind="trigger")]
    return note


def events_by_key(store: RunStore, trigger_id: str) -> dict[str, EventRecord]:
    return {e.key: e for e in TriggerStore(store).events_of(trigger_id)}


def test_one_data_version_is_one_run(shared_store_env: dict[str, str], project: Path) -> None:
    env = shared_store_env
    data = project / "live.csv"
    first = write_csv(data, sample(200, 0.0, 1))
    trigger_id = add_trigger(f"{project}/notebooks/trivial.ipynb --on-data {data}", env)
    store = RunStore(env["JUPYTER_MLOPS_DB_URL"])
    try:
        with schedulers(env, 3) as procs:
            second = write_csv(data, sample(200, 0.0, 2))
            assert len(wait_for(lambda: all_ended(store), "the second version's run")) == 1
            kill_scheduler(procs[0])  # one scheduler dies; the others carry on
            third = write_csv(data, sample(200, 0.0, 3))
            runs = wait_for(lambda: all_ended(store, 2), "the third version's run")
        assert len(runs) == 2 and all(r.status == "succeeded" for r in runs)
        events = events_by_key(store, trigger_id)
        assert sorted(events) == sorted([f"sha256:{second}#1", f"sha256:{third}#2"])
        for change, (old, new) in enumerate(((first, second), (second, third)), 1):
            event = events[f"sha256:{new}#{change}"]
            assert event.state == "done"
            assert event.details == {"uri": str(data), "old_sha256": old, "new_sha256": new}
            note = fired_by(store, store.require_run(event.run_id))
            assert old[:12] in note and new[:12] in note
        assert {e.run_id for e in events.values()} == {r.id for r in runs}
    finally:
        store.close()


def test_drift_below_fires_nothing_above_fires_once(
    shared_store_env: dict[str, str], project: Path
) -> None:
    pytest.importorskip("torch")
    env = shared_store_env
    write_csv(project / "notebooks" / "train.csv", sample(2000, 0.0, 1))
    trained = mlops("run", str(train_notebook(project)), "--wait", "--no-progress", env=env)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    store = RunStore(env["JUPYTER_MLOPS_DB_URL"])
    try:
        store.move_alias("churn", "production", 1, expected=None, actor="test")
        live = project / "live.csv"
        write_csv(live, sample(2000, 0.0, 2))
        trigger_id = add_trigger(
            f"{project}/notebooks/trivial.ipynb --on-drift {live} "
            "--reference models:/churn@production",
            env,
        )
        with schedulers(env, 3):
            calm = write_csv(live, sample(2000, 0.05, 3))  # new bytes, the same distribution
            (seen,) = wait_for(
                lambda: list(events_by_key(store, trigger_id).values()), "the calm version"
            )
            assert seen.key == f"sha256:{calm}#1" and seen.state == "skipped"
            assert seen.run_id is None and "no column drifted" in (seen.reason or "")
            assert trigger_runs(store) == []
            shifted = write_csv(live, sample(2000, 1.5, 4))  # 1.5 standard deviations away
            (run,) = wait_for(lambda: all_ended(store), "the drifted version's run")
        assert run.status == "succeeded", run.status_reason
        events = events_by_key(store, trigger_id)
        assert sorted(events) == sorted([f"sha256:{calm}#1", f"sha256:{shifted}#2"])
        fired = events[f"sha256:{shifted}#2"]
        assert fired.state == "done" and fired.run_id == run.id
        figures = {d["column"]: d for d in fired.details["drift"]}
        assert figures["x"]["flagged"] is True and figures["x"]["psi"] > 0.2
        assert figures["label"]["flagged"] is False
        assert "drift in x" in fired_by(store, run)
        assert len(trigger_runs(store)) == 1
    finally:
        store.close()


def test_one_metric_crossing_is_one_run_until_it_recovers(
    shared_store_env: dict[str, str], project: Path
) -> None:
    env = shared_store_env
    trigger_id = add_trigger(
        f'{project}/notebooks/trivial.ipynb --on-metric "prod/accuracy < 0.9" '
        "--stream churn-prod --for 2",
        env,
    )
    store = RunStore(env["JUPYTER_MLOPS_DB_URL"])
    triggers = TriggerStore(store)

    def push(*values: float) -> None:
        """Log ``values`` one point at a time; return once a watcher has read them all."""
        for value in values:
            push_to_stream(store, "churn-prod", {"prod/accuracy": value})
        last = triggers.last_point_id("churn-prod", "prod/accuracy")
        wait_for(
            lambda: triggers.require(trigger_id).state.get("last_point") == last,
            f"the watchers to read point {last}",
        )

    try:
        with schedulers(env, 3) as procs:
            push(0.95, 0.85, 0.80)  # two in a row below 0.9: a crossing
            (first,) = wait_for(lambda: all_ended(store), "the crossing's run")
            kill_scheduler(procs[0])
            push(0.70, 0.60)  # still below: the same crossing
            assert len(triggers.events_of(trigger_id)) == 1
            push(0.95, 0.85, 0.80)  # recovered, then a new crossing
            runs = wait_for(lambda: all_ended(store, 2), "the second crossing's run")
        assert len(runs) == 2 and all(r.status == "succeeded" for r in runs)
        events = triggers.events_of(trigger_id)
        assert len(events) == 2 and all(e.state == "done" for e in events)
        assert [e.details["values"] for e in events] == [[0.85, 0.8], [0.85, 0.8]]
        assert {e.run_id for e in events} == {r.id for r in runs}
        assert all("prod/accuracy < 0.9" in fired_by(store, r) for r in runs)
        assert first.id in {r.id for r in runs}
    finally:
        store.close()
