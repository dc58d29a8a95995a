"""Live run updates for the server-sent event stream (``GET /mlops/api/events``).

One :class:`EventHub` per server polls the store for new ``run_events`` rows (status
changes and cell progress, written by runners in other processes) and fans the changed
runs' summaries out to every connected client through bounded asyncio queues. The poll
(:meth:`RunStore.changed_runs`, one indexed query ``WHERE id > last_id``) runs every
``interval`` seconds in a thread, and only while at least one client is connected; with
no client nothing runs.

The event id of each ``run`` event is the newest ``run_events.id`` it reflects, so a
client that reconnects with ``Last-Event-ID`` gets the runs it missed replayed.

The same poll announces new live output (``output`` events ``{"run_id", "seq"}``, from
``run_output`` rows newer than the last seen); the text itself is fetched from
``GET /runs/{id}/output?after=SEQ``, so the stream stays small however much a run prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..serialize import run_summary
from ..store import RunStore
from ..store.events import ChangedRun, EventPosition

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


def _stream_events(changes: Iterable[ChangedRun]) -> list[StreamEvent]:
    return [StreamEvent("run", run_summary(run), event_id) for run, event_id in changes]


def changed_runs(store: RunStore, since: EventPosition) -> tuple[EventPosition, list[StreamEvent]]:
    """``run`` events for the runs changed since ``since`` (oldest change first), and the
    new position (see :meth:`RunStore.changed_runs`)."""
    position, changes = store.changed_runs(since)
    return position, _stream_events(changes)


def output_events(store: RunStore, since_id: int) -> tuple[int, list[StreamEvent]]:
    """``output`` events for the runs with output newer than ``since_id``, and the new
    position."""
    position, newest = store.output_changes(since_id)
    return position, [
        StreamEvent("output", {"run_id": run_id, "seq": seq}) for run_id, seq in newest.items()
    ]


def replay(store: RunStore, after: int, upto: int) -> list[StreamEvent]:
    """Runs with events in ``(after, upto]``: what a client resuming at ``after`` missed."""
    return _stream_events(store.runs_changed_between(after, upto))


class EventHub:
    """The shared poller and the set of connected clients of one server."""

    def __init__(self, store: RunStore, *, interval: float = 0.5) -> None:
        self.store = store
        self.interval = interval
        self.position = EventPosition()
        self.output_position = 0
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
                self.position = await asyncio.to_thread(self.store.latest_event_position)
                self.output_position = await asyncio.to_thread(self.store.latest_output_id)
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
                await self._poll_output()
        finally:
            self._task = None

    async def _poll_output(self) -> None:
        try:
            position, events = await asyncio.to_thread(
                output_events, self.store, self.output_position
            )
        except Exception:  # as above: the next poll tries again
            log.exception("jupyter-mlops: polling run output failed")
            return
        self.output_position = position
        self.publish(events)

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
