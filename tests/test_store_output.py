"""The store's live output part, on SQLite and PostgreSQL: order, cursors, the positions
the event stream polls from, and deletion with the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_mlops.store import RunStore
from jupyter_mlops.store.output import OutputPiece

from .conftest import make_run


@pytest.fixture
def store(db_url: str) -> Iterator[RunStore]:
    s = RunStore(db_url)
    for run_id in ("r1", "r2"):
        s.create_run(make_run(run_id))
    yield s
    s.close()


def test_chunks_are_numbered_per_run_and_read_from_a_cursor(store: RunStore) -> None:
    assert store.append_output("r1", []) == 0
    assert (
        store.append_output("r1", [OutputPiece(1, "stdout", "a"), OutputPiece(1, "stderr", "b")])
        == 2
    )
    assert store.append_output("r2", [OutputPiece(None, "notice", "n")]) == 1
    assert store.append_output("r1", [OutputPiece(2, "result", "c")]) == 3
    chunks = store.output_since("r1")
    assert [(c.seq, c.cell_index, c.stream, c.text) for c in chunks] == [
        (1, 1, "stdout", "a"),
        (2, 1, "stderr", "b"),
        (3, 2, "result", "c"),
    ]
    assert [c.text for c in store.output_since("r1", after=1, limit=1)] == ["b"]
    assert store.output_since("r1", after=3) == []


def test_output_changes_name_each_run_with_new_output_once(store: RunStore) -> None:
    start = store.latest_output_id()
    assert store.output_changes(start) == (start, {})
    store.append_output("r1", [OutputPiece(1, "stdout", "a")])
    store.append_output("r2", [OutputPiece(1, "stdout", "x")])
    store.append_output("r1", [OutputPiece(1, "stdout", "b")])
    position, newest = store.output_changes(start)
    assert newest == {"r1": 2, "r2": 1}
    assert position == store.latest_output_id()
    assert store.output_changes(position) == (position, {})


def test_deleting_a_run_deletes_its_output_and_ids_are_not_reused(store: RunStore) -> None:
    store.append_output("r2", [OutputPiece(1, "stdout", "x")])
    store.append_output("r1", [OutputPiece(1, "stdout", "newest")])
    position = store.latest_output_id()
    store.delete_run("r1")  # the newest rows go
    assert store.output_since("r1") == []
    store.append_output("r2", [OutputPiece(1, "stdout", "after")])
    assert store.output_changes(position)[1] == {"r2": 2}  # not missed after the deletion
