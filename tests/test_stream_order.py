"""Points of a monitored stream become visible in id order, so a metric trigger that reads
"after the last id I saw" never steps over one (PostgreSQL: SQLite's writers are serial).

Two appends race on a real server: the first is held between its INSERT and its commit
(the one hook here: a pause no real process can be made to take at that instant), the
second must wait for it instead of committing a higher id first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from jupyter_mlops.store import RunStore
from jupyter_mlops.store.triggers import TriggerStore

from .postgres import fresh_pg_database
from .test_runs import wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(postgres_server: str) -> Iterator[RunStore]:
    store = RunStore(fresh_pg_database(postgres_server))
    yield store
    store.close()


def waiting_for_advisory_lock(store: RunStore) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
        )


def test_a_later_append_waits_for_an_earlier_uncommitted_one(pg_store: RunStore) -> None:
    streams = TriggerStore(pg_store)
    inserted, release = threading.Event(), threading.Event()
    held: list[threading.Thread] = []

    def pause_after_insert(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread() in held and statement.startswith("INSERT INTO stream_"):
            inserted.set()
            release.wait(timeout=300)

    event.listen(pg_store.engine, "after_cursor_execute", pause_after_insert)
    first = threading.Thread(target=streams.push_points, args=("prod", [("acc", 0.5, 1)]))
    second = threading.Thread(target=streams.push_points, args=("prod", [("acc", 0.9, 2)]))
    held.append(first)
    try:
        first.start()
        assert inserted.wait(timeout=120), "the first append never reached its INSERT"
        second.start()
        wait_until(lambda: waiting_for_advisory_lock(pg_store) == 1, timeout=120)  # 2nd waits
        # neither is visible: the first has not committed, the second has not inserted
        assert streams.points_after("prod", "acc", 0) == []
    finally:
        release.set()
        first.join(timeout=120)
        second.join(timeout=120)
        event.remove(pg_store.engine, "after_cursor_execute", pause_after_insert)
    points = streams.points_after("prod", "acc", 0)
    assert [(p.value, p.step) for p in points] == [(0.5, 1), (0.9, 2)]
    assert points[0].id < points[1].id
