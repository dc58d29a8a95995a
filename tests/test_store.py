"""The run store, on SQLite and on a real PostgreSQL server (``db_url`` is parametrized)."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from jupyter_mlops.store import Artifact, RunNotFound, RunStatus, RunStore
from jupyter_mlops.store.engine import SCHEMA_HEAD, current_revision, upgrade
from jupyter_mlops.store.types import utcnow

from .conftest import make_run


@pytest.fixture
def store(db_url: str):
    s = RunStore(db_url)
    yield s
    s.close()


def test_schema_is_at_head_and_matches_models(store: RunStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from jupyter_mlops.store.engine import MIGRATIONS_DIR
    from jupyter_mlops.store.models import Base

    assert current_revision(store.engine) == SCHEMA_HEAD
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_upgrade_is_idempotent(store: RunStore) -> None:
    upgrade(store.engine)
    upgrade(store.engine)
    assert current_revision(store.engine) == SCHEMA_HEAD


def test_create_and_read_run_roundtrip(store: RunStore) -> None:
    before = utcnow()
    created = store.create_run(
        make_run("r1"),
        params={"lr": (0.01, "float"), "layers": ([64, 32], "list")},
        tags=["exp", "exp", "baseline"],
    )
    assert created.status == "queued"
    run = store.require_run("r1")
    assert {p.name: p.value_json for p in run.params} == {"layers": "[64, 32]", "lr": "0.01"}
    assert [t.tag for t in run.tags] == ["baseline", "exp"]
    assert run.created_at.tzinfo is not None
    assert run.created_at.utcoffset() == timedelta(0)  # read back as UTC, on both stores
    assert before <= run.created_at <= utcnow()
    events = store.events("r1")
    assert [(e.kind, e.status) for e in events] == [("status", "queued")]


def test_missing_run_and_prefix_resolution(store: RunStore) -> None:
    store.create_run(make_run("abc123"))
    store.create_run(make_run("abd456"))
    assert store.resolve_run_id("abc") == "abc123"
    with pytest.raises(LookupError, match="ambiguous"):
        store.resolve_run_id("ab")
    with pytest.raises(RunNotFound, match="zzz"):
        store.require_run("zzz")
    with pytest.raises(RunNotFound):
        store.resolve_run_id("f00")


def test_terminal_status_is_final(store: RunStore) -> None:
    store.create_run(make_run("r1"))
    assert store.transition("r1", RunStatus.STARTING, allowed_from=[RunStatus.QUEUED])
    assert store.transition("r1", RunStatus.RUNNING)
    assert store.transition("r1", RunStatus.SUCCEEDED)
    assert not store.transition("r1", RunStatus.LOST, reason="late reconciler")
    assert not store.transition("r1", RunStatus.FAILED)
    run = store.require_run("r1")
    assert run.status == "succeeded"
    assert run.finished_at is not None and run.finished_at >= run.created_at
    assert [e.status for e in store.events("r1")] == ["queued", "starting", "running", "succeeded"]


def test_racing_terminal_transitions_record_exactly_one(store: RunStore) -> None:
    store.create_run(make_run("race"))
    store.transition("race", RunStatus.RUNNING)
    results: list[tuple[RunStatus, bool]] = []
    barrier = threading.Barrier(4)

    def attempt(status: RunStatus) -> None:
        barrier.wait()
        results.append((status, store.transition("race", status)))

    statuses = [RunStatus.SUCCEEDED, RunStatus.CANCELLED, RunStatus.LOST, RunStatus.TIMED_OUT]
    threads = [threading.Thread(target=attempt, args=(s,)) for s in statuses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [s for s, ok in results if ok]
    assert len(winners) == 1
    assert store.require_run("race").status == winners[0].value
    terminal_events = [e for e in store.events("race") if e.status in {s.value for s in statuses}]
    assert len(terminal_events) == 1


def test_list_runs_newest_first_with_cursor_and_filters(store: RunStore) -> None:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(7):
        store.create_run(
            make_run(f"run{i:02d}", created_at=base + timedelta(minutes=i)),
            tags=["even"] if i % 2 == 0 else [],
        )
    store.transition("run03", RunStatus.FAILED)
    page = store.list_runs(limit=3)
    assert [r.id for r in page.runs] == ["run06", "run05", "run04"]
    page2 = store.list_runs(limit=3, cursor=page.next_cursor)
    assert [r.id for r in page2.runs] == ["run03", "run02", "run01"]
    page3 = store.list_runs(limit=3, cursor=page2.next_cursor)
    assert [r.id for r in page3.runs] == ["run00"] and page3.next_cursor is None
    assert [r.id for r in store.list_runs(status=["failed"]).runs] == ["run03"]
    assert [r.id for r in store.list_runs(tag="even").runs] == ["run06", "run04", "run02", "run00"]
    assert store.list_runs(notebook="other.ipynb").runs == []
    with pytest.raises(ValueError, match="cursor"):
        store.list_runs(cursor="garbage")


def test_progress_artifacts_environment_and_delete_cascade(store: RunStore) -> None:
    store.create_run(make_run("r1"), params={"a": (1, "int")}, tags=["t"])
    store.record_progress(
        "r1",
        cells_done=2,
        current_cell=2,
        cell_events=[
            {"at": utcnow(), "cell_index": 0, "duration_s": 0.1, "status": "ok"},
            {"at": utcnow(), "cell_index": 1, "duration_s": 0.2, "status": "ok"},
        ],
    )
    run = store.require_run("r1")
    assert (run.cells_done, run.current_cell) == (2, 2)
    assert [e.cell_index for e in store.events("r1", kind="cell")] == [0, 1]
    for digit, size in (("b", 10), ("c", 11)):  # the same name again replaces, it does not add
        store.add_artifact(
            Artifact(
                run_id="r1",
                name="output.ipynb",
                kind="notebook",
                sha256=digit * 64,
                size=size,
                content_type="application/x-ipynb+json",
                created_at=utcnow(),
            )
        )
    assert [(a.name, a.sha256[0]) for a in store.artifacts("r1")] == [("output.ipynb", "c")]
    store.set_environment("r1", {"python": {"version": "3.11"}, "packages": {"x": "1"}})
    assert store.environment("r1") == {"python": {"version": "3.11"}, "packages": {"x": "1"}}
    store.delete_run("r1")
    assert store.get_run("r1") is None
    assert store.artifacts("r1") == [] and store.events("r1") == []
    assert store.environment("r1") is None
    with pytest.raises(RunNotFound):
        store.delete_run("r1")


def test_reproduced_from_survives_deleting_the_original(store: RunStore) -> None:
    store.create_run(make_run("orig"))
    store.create_run(make_run("copy", reproduced_from="orig"))
    store.transition("orig", RunStatus.SUCCEEDED)
    store.delete_run("orig")
    assert store.require_run("copy").reproduced_from is None


def test_naive_datetimes_are_refused(store: RunStore) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises((ValueError, StatementError), match="naive"):
        store.create_run(make_run("naive", created_at=datetime(2026, 1, 1)))
    assert store.get_run("naive") is None


def test_stale_runs_by_heartbeat(store: RunStore) -> None:
    store.create_run(make_run("old"))
    store.transition("old", RunStatus.RUNNING)
    store.update_run("old", heartbeat_at=utcnow() - timedelta(minutes=5))
    store.create_run(make_run("fresh"))
    store.transition("fresh", RunStatus.RUNNING)
    assert [r.id for r in store.stale_runs(lost_after=60)] == ["old"]


def test_sqlite_pragmas(tmp_path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 60000


def _hammer(url: str, worker: int, count: int) -> None:
    store = RunStore(url)
    for i in range(count):
        run_id = f"w{worker}n{i}"
        store.create_run(make_run(run_id))
        store.transition(run_id, RunStatus.RUNNING)
        store.heartbeat(run_id)
        store.record_progress(run_id, cells_done=1, current_cell=None)
        store.transition(run_id, RunStatus.SUCCEEDED)
    store.close()


def test_concurrent_processes_open_migrate_and_write(db_url: str) -> None:
    """Four processes open a brand-new store at once (migration race) and write."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(db_url, w, 15)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = RunStore(db_url)
    assert store.count_runs() == 60
    assert {r.status for r in store.list_runs(limit=100).runs} == {"succeeded"}
