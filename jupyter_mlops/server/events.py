"""Live run updates for the server-sent event stream (``GET /mlops/api/events``).

One :class:`EventHub` per server polls the store for new ``run_events`` rows (status
changes and cell progress, written by runners in other processes) and fans the changed
runs' summaries out to every connected client through bounded asyncio queues. The poll
is one indexed query (``WHERE id > last_id``) every ``interval`` seconds, run in a
thread, and only while at least one client is connected; with no client nothing runs.

The event id of each ``run`` event is the newest ``run_events.id`` it reflects, so a
client that reconnects with ``Last-Event-ID`` gets the runs it missed replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..serialize import run_summary
from ..store import Run, RunEvent, RunStore
from ..store.types import utcnow

log = logging.getLogger("jupyter_mlops.server.events")

QUEUE_SIZE = 1000
"""Events a slow client may fall behind before it is disconnected (it then reconnects
with ``Last-Event-ID`` and gets the missed runs replayed)."""


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event: ``event`` name, JSON ``data`` and an optional ``id``."""

    event: str
    data: dict[str, Any]
    id: int | None = None


@dataclass(eq=False)
class Subscriber:
    queue: asyncio.Queue[StreamEvent | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    overflowed: bool = False

    def offer(self, event: StreamEvent) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        """Wake the reader with the end-of-stream marker, even when the queue is full."""
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self.queue.get_nowait()


@dataclass(frozen=True)
class Position:
    """The newest ``run_events`` row seen: its id, and its run to notice the id's reuse."""

    id: int = 0
    run_id: str | None = None
    at: datetime | None = None


def _position(session: Session, event_id: int | None) -> Position:
    row = session.get(RunEvent, event_id) if event_id else None
    return Position(row.id, row.run_id, row.at) if row is not None else Position()


def latest_position(store: RunStore) -> Position:
    with store.reading() as session:
        return _position(session, session.scalar(select(func.max(RunEvent.id))))


def _run_events(store: RunStore, session: Session, newest: dict[str, int]) -> list[StreamEvent]:
    runs = session.scalars(
        select(Run)
        .where(Run.id.in_(list(newest)))
        .options(selectinload(Run.params), selectinload(Run.tags))
    ).all()
    store.annotate_queue_positions(runs)
    return sorted(
        (StreamEvent("run", run_summary(run), newest[run.id]) for run in runs),
        key=lambda e: e.id or 0,
    )


def changed_runs(store: RunStore, since: Position) -> tuple[Position, list[StreamEvent]]:
    """``run`` events for the runs with ``run_events`` newer than ``since`` (oldest change
    first), and the new position.

    Normally "newer" is ``id > since.id``. SQLite reuses the ids of the newest rows when
    they are deleted (deleting the run with the latest events), so when the row at
    ``since`` is gone or belongs to another run, new events may carry ids at or below it;
    then every run with an event from ``since.at`` on (minus a second of clock slack) is
    sent again: a few repeated summaries, never a missed one.
    """
    with store.reading() as session:
        intact = since.id == 0 or _position(session, since.id) == since
        if intact:
            newer = RunEvent.id > since.id
        else:
            newer = RunEvent.at >= (since.at or utcnow()) - timedelta(seconds=1)
        newest = dict(
            session.execute(
                select(RunEvent.run_id, func.max(RunEvent.id))
                .where(newer)
                .group_by(RunEvent.run_id)
            )
            .tuples()
            .all()
        )
        if not newest and intact:
            return since, []
        latest = session.scalar(select(func.max(RunEvent.id)))
        position = _position(session, latest)
        return position, _run_events(store, session, newest) if newest else []


def replay(store: RunStore, after: int, upto: int) -> list[StreamEvent]:
    """Runs with events in ``(after, upto]``: what a client resuming at ``after`` missed."""
    with store.reading() as session:
        newest = dict(
            session.execute(
                select(RunEvent.run_id, func.max(RunEvent.id))
                .where(RunEvent.id > after, RunEvent.id <= upto)
                .group_by(RunEvent.run_id)
            )
            .tuples()
            .all()
        )
        return _run_events(store, session, newest) if newest else []


class EventHub:
    """The shared poller and the set of connected clients of one server."""

    def __init__(self, store: RunStore, *, interval: float = 0.5) -> None:
        self.store = store
        self.interval = interval
        self.position = Position()
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._start_lock: asyncio.Lock | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def subscribe(self) -> tuple[Subscriber, int]:
        """Register a client; returns it and the event id from which it receives live
        events (everything after it is delivered; earlier changes are not)."""
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._task is None or self._task.done():
                # Fix the starting point before the client is told the stream is open,
                # so a run submitted right after connecting is never missed.
                self.position = await asyncio.to_thread(latest_position, self.store)
                self._task = asyncio.create_task(self._poll(), name="mlops-event-poller")
            subscriber = Subscriber()
            self._subscribers.add(subscriber)
            return subscriber, self.position.id

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish(self, events: Iterable[StreamEvent]) -> None:
        """Hand events to every client (also used for in-process news, e.g. deletions)."""
        for event in events:
            for subscriber in list(self._subscribers):
                subscriber.offer(event)

    async def replay(self, after: int, upto: int) -> list[StreamEvent]:
        """Runs changed in ``(after, upto]``: what a reconnecting client missed."""
        if after >= upto:
            return []
        return await asyncio.to_thread(replay, self.store, after, upto)

    async def _poll(self) -> None:
        try:
            while self._subscribers:
                await asyncio.sleep(self.interval)
                if not self._subscribers:
                    break
                try:
                    position, events = await asyncio.to_thread(
                        changed_runs, self.store, self.position
                    )
                except Exception:  # the store may be briefly unavailable; try again
                    log.exception("jupyter-mlops: polling run events failed")
                    continue
                self.position = position
                self.publish(events)
        finally:
            self._task = None

    async def stop(self) -> None:
        """End every stream and the poller (server shutdown)."""
        for subscriber in list(self._subscribers):
            subscriber.close()
        self._subscribers.clear()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
