"""A run's live output (the ``run_output`` table): appended by the runner in batches, read
from a cursor by the REST API and ``jupyter mlops logs``, polled by the event stream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import func, insert, select

from .base import StoreBase
from .models_output import RunOutputChunk
from .types import utcnow

OUTPUT_PAGE_LIMIT = 1000
"""Most chunks one read returns (the caller asks again from the last ``seq``)."""


class OutputPiece(NamedTuple):
    """One piece of output to append: the cell that wrote it, its stream and its text."""

    cell_index: int | None
    stream: str
    text: str


class OutputStore(StoreBase):
    """Live run output (a part of :class:`~jupyter_mlops.store.RunStore`)."""

    def append_output(self, run_id: str, pieces: Sequence[OutputPiece]) -> int:
        """Append ``pieces`` in order, numbered after the run's last chunk, in one
        transaction; returns the last ``seq`` written (0 when nothing was)."""
        if not pieces:
            return 0
        now = utcnow()
        with self.writing() as session:
            last = session.scalar(
                select(func.max(RunOutputChunk.seq)).where(RunOutputChunk.run_id == run_id)
            )
            first = (last or 0) + 1
            rows = [
                {
                    "run_id": run_id,
                    "seq": first + offset,
                    "at": now,
                    "cell_index": piece.cell_index,
                    "stream": piece.stream,
                    "text": piece.text,
                }
                for offset, piece in enumerate(pieces)
            ]
            session.execute(insert(RunOutputChunk), rows)  # one executemany, no ORM objects
            return first + len(rows) - 1

    def output_since(
        self, run_id: str, after: int = 0, limit: int = OUTPUT_PAGE_LIMIT
    ) -> list[RunOutputChunk]:
        """The run's chunks with ``seq > after``, oldest first, at most ``limit``."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(RunOutputChunk)
                    .where(RunOutputChunk.run_id == run_id, RunOutputChunk.seq > after)
                    .order_by(RunOutputChunk.seq)
                    .limit(max(1, min(limit, OUTPUT_PAGE_LIMIT)))
                ).all()
            )

    def latest_output_id(self) -> int:
        """The newest ``run_output.id`` now (where a new event stream starts)."""
        with self.reading() as session:
            return session.scalar(select(func.max(RunOutputChunk.id))) or 0

    def output_changes(self, since_id: int) -> tuple[int, dict[str, int]]:
        """Runs with chunks newer than ``since_id``: the new position and, per run, its
        newest ``seq`` (one grouped query on the primary key)."""
        with self.reading() as session:
            rows = session.execute(
                select(
                    RunOutputChunk.run_id,
                    func.max(RunOutputChunk.seq),
                    func.max(RunOutputChunk.id),
                )
                .where(RunOutputChunk.id > since_id)
                .group_by(RunOutputChunk.run_id)
            ).all()
        if not rows:
            return since_id, {}
        return max(row[2] for row in rows), {row[0]: row[1] for row in rows}
