"""The ``run_events`` table read two ways: one run's history, and what changed since a
position (the queries behind the server-sent event stream, :mod:`jupyter_mlops.server.events`).

A poll is one indexed query (``WHERE id > last_id``). The position remembers the run and
time of the newest row seen as well as its id, because SQLite reuses the ids of the
newest rows when they are deleted (deleting the run with the latest events).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .models import Run, RunEvent
from .queue import SlotQueue
from .types import utcnow

WARNING_EVENT = "warning"
"""The ``run_events.kind`` of a run's warnings (beside ``status`` and ``cell``)."""

ChangedRun = tuple[Run, int]
"""A run with the newest ``run_events.id`` of it that a change reflects."""


@dataclass(frozen=True)
class EventPosition:
    """The newest ``run_events`` row seen: its id, and its run to notice the id's reuse."""

    id: int = 0
    run_id: str | None = None
    at: datetime | None = None


def _position(session: Session, event_id: int | None) -> EventPosition:
    row = session.get(RunEvent, event_id) if event_id else None
    return EventPosition(row.id, row.run_id, row.at) if row is not None else EventPosition()


class EventQueries(SlotQueue):
    """Run events (a part of :class:`~jupyter_mlops.store.RunStore`)."""

    def events(self, run_id: str, *, kind: str | None = None) -> list[RunEvent]:
        query = select(RunEvent).where(RunEvent.run_id == run_id)
        if kind:
            query = query.where(RunEvent.kind == kind)
        with self.reading() as session:
            return list(session.scalars(query.order_by(RunEvent.id)).all())

    def add_warning(self, run_id: str, message: str) -> None:
        """Something the run could not do that its status does not show (an artifact not
        written, a kernel start retried): a ``warning`` event, listed with the run."""
        with self.writing() as session:
            session.add(RunEvent(run_id=run_id, at=utcnow(), kind=WARNING_EVENT, message=message))

    def warnings(self, run_id: str) -> list[str]:
        """The run's warnings, oldest first."""
        return [e.message or "" for e in self.events(run_id, kind=WARNING_EVENT)]

    def latest_event_position(self) -> EventPosition:
        """The newest ``run_events`` row now (where a new stream starts)."""
        with self.reading() as session:
            return _position(session, session.scalar(select(func.max(RunEvent.id))))

    def _changed(self, session: Session, newest: dict[str, int]) -> list[ChangedRun]:
        """The runs of ``newest`` ({run id: newest event id}), with queue positions, oldest
        change first."""
        if not newest:
            return []
        runs = session.scalars(
            select(Run)
            .where(Run.id.in_(list(newest)))
            .options(selectinload(Run.params), selectinload(Run.tags))
        ).all()
        self.annotate_queue_positions(runs)
        return sorted(((run, newest[run.id]) for run in runs), key=lambda change: change[1])

    @staticmethod
    def _newest_per_run(session: Session, *where: Any) -> dict[str, int]:
        return dict(
            session.execute(
                select(RunEvent.run_id, func.max(RunEvent.id))
                .where(*where)
                .group_by(RunEvent.run_id)
            )
            .tuples()
            .all()
        )

    def changed_runs(self, since: EventPosition) -> tuple[EventPosition, list[ChangedRun]]:
        """The runs with ``run_events`` newer than ``since`` (oldest change first), and the
        new position.

        Normally "newer" is ``id > since.id``. SQLite reuses the ids of the newest rows when
        they are deleted (deleting the run with the latest events), so when the row at
        ``since`` is gone or belongs to another run, new events may carry ids at or below it;
        then every run with an event from ``since.at`` on (minus a second of clock slack) is
        returned again: a few repeated runs, never a missed one.
        """
        with self.reading() as session:
            intact = since.id == 0 or _position(session, since.id) == since
            if intact:
                newer = RunEvent.id > since.id
            else:
                newer = RunEvent.at >= (since.at or utcnow()) - timedelta(seconds=1)
            newest = self._newest_per_run(session, newer)
            if not newest and intact:
                return since, []
            latest = session.scalar(select(func.max(RunEvent.id)))
            return _position(session, latest), self._changed(session, newest)

    def runs_changed_between(self, after: int, upto: int) -> list[ChangedRun]:
        """Runs with events in ``(after, upto]``: what a client resuming at ``after`` missed."""
        with self.reading() as session:
            newest = self._newest_per_run(session, RunEvent.id > after, RunEvent.id <= upto)
            return self._changed(session, newest)
