"""Upgrading a store that already holds runs keeps every row (SQLite and PostgreSQL).

SQLite rebuilds tables for most ALTERs; with foreign keys on, dropping the old ``runs``
table would cascade-delete all child rows. This test fills a store at the first
revision and upgrades it to head.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, create_engine, func, select, text

from jupyter_mlops.store import RunStore
from jupyter_mlops.store.engine import SCHEMA_HEAD, current_revision, make_engine, upgrade

CHILD_TABLES = ["run_params", "run_tags", "run_events", "artifacts", "environments", "metrics"]


def insert_first_revision_run(
    conn: Connection, run_id: str, created_at: datetime, cells_done: int = 0
) -> None:
    """A succeeded run row as revision 0001 stores it (the ORM models are at head, so the
    row is written in SQL), with placeholder provenance."""
    conn.execute(
        text(
            "INSERT INTO runs (id, created_at, status, source, backend, notebook_path, "
            "notebook_abspath, kernel_name, gpus, seed, commit_sha, snapshot_ref, git_dir, "
            "worktree, notebook_relpath, dirty, private_repo, cancel_requested, cells_done) "
            "VALUES (:id, :at, 'succeeded', 'cli', 'local', 'a.ipynb', '/a.ipynb', 'python3', "
            "0, 1, 'c', :ref, '/g', '/w', 'a.ipynb', false, false, false, :cells_done)"
        ),
        {
            "id": run_id,
            "at": created_at,
            "ref": f"refs/mlops/runs/{run_id}",
            "cells_done": cells_done,
        },
    )


def fill_at_first_revision(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:
        insert_first_revision_run(conn, "r1", datetime(2026, 1, 1, tzinfo=timezone.utc), 3)
        conn.execute(text("INSERT INTO run_params VALUES ('r1', 'lr', '0.1', 'float')"))
        conn.execute(text("INSERT INTO run_tags VALUES ('r1', 'keep')"))
        conn.execute(
            text(
                "INSERT INTO run_events (run_id, at, kind, status) "
                "VALUES ('r1', '2026-01-01 00:00:00', 'status', 'succeeded')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO artifacts (run_id, name, kind, sha256, size, content_type, "
                "created_at) VALUES ('r1', 'output.ipynb', 'notebook', :sha, 10, 'x', "
                "'2026-01-01 00:00:00')"
            ),
            {"sha": "a" * 64},
        )
        conn.execute(
            text(
                "INSERT INTO environments (run_id, captured_at, data) "
                "VALUES ('r1', '2026-01-01 00:00:00', '{\"python\": {}}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO metrics (run_id, key, step, value, at) "
                "VALUES ('r1', 'loss', 0, 1.5, '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()


def test_upgrade_to_head_keeps_existing_rows(db_url: str) -> None:
    fill_at_first_revision(db_url)
    store = RunStore(db_url)  # opening the store upgrades it
    assert current_revision(store.engine) == SCHEMA_HEAD
    engine = create_engine(db_url)
    with engine.connect() as conn:
        for table in ["runs", *CHILD_TABLES]:
            count = conn.execute(select(func.count()).select_from(text(table))).scalar()
            assert count == 1, f"{table} lost rows in the upgrade"
    run = store.require_run("r1")
    assert [t.tag for t in run.tags] == ["keep"] and run.status == "succeeded"
    series = store.metric_series("r1", "loss")
    assert series["total_points"] == 1 and [tuple(p) for p in series["points"]] == [(0, 1.5)]
    engine.dispose()
