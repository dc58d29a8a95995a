"""The server-sent event stream of run changes (``GET /mlops/api/events``).

``run`` events carry a run summary whenever a run's status or progress changes,
``run_deleted`` events ``{"id"}``; a client reconnecting with ``Last-Event-ID`` gets what
it missed (:class:`~jupyter_mlops.server.events.EventHub` keeps the order and replays).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import tornado.web
from jupyter_server.auth.decorator import authorized
from tornado.iostream import StreamClosedError

from ..finite_json import dumps_json
from .base import MLOpsHandler
from .events import StreamEvent
from .spec import BAD_REQUEST, FORBIDDEN, PathItems, query


def format_event(event: StreamEvent) -> str:
    lines = [f"event: {event.event}"]
    if event.id is not None:
        lines.append(f"id: {event.id}")
    lines.append(f"data: {dumps_json(event.data, default=str)}")
    return "\n".join(lines) + "\n\n"


class EventsHandler(MLOpsHandler):
    """Server-sent events: ``run`` (a run summary) whenever a run's status or progress
    changes, ``run_deleted`` (``{"id"}``), and a keepalive comment every ``keepalive`` s."""

    keepalive: ClassVar[float] = 15.0
    retry_ms: ClassVar[int] = 2000
    _track_activity = False  # an open stream is not user activity (idle culling)
    _subscriber: Any = None
    _closed = False

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        last_id_text = self.request.headers.get("Last-Event-ID") or self.get_argument(
            "last_event_id", ""
        )
        try:
            last_id = int(last_id_text) if last_id_text else None
        except ValueError:
            raise self.fail(400, "Last-Event-ID must be an integer event id") from None
        hub = self.mlops.events
        subscriber, position = await hub.subscribe()
        self._subscriber = subscriber
        try:
            self.set_header("Content-Type", "text/event-stream; charset=utf-8")
            self.set_header("Cache-Control", "no-cache")
            self.set_header("X-Accel-Buffering", "no")
            self.write(f"retry: {self.retry_ms}\n: connected at event {position}\n\n")
            await self.flush()
            if last_id is not None:
                for event in await hub.replay(last_id, position):
                    self.write(format_event(event))
                await self.flush()
            while True:
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), self.keepalive)
                except asyncio.TimeoutError:
                    self.write(": keepalive\n\n")
                    await self.flush()
                    continue
                if event is None:
                    break
                self.write(format_event(event))
                while not subscriber.queue.empty():  # send what piled up in one flush
                    event = subscriber.queue.get_nowait()
                    if event is None:
                        break
                    self.write(format_event(event))
                await self.flush()
                if event is None:
                    break
        except StreamClosedError:
            return
        finally:
            hub.unsubscribe(subscriber)
        if not self._closed:
            self.finish(set_content_type="text/event-stream; charset=utf-8")

    def on_connection_close(self) -> None:
        self._closed = True
        if self._subscriber is not None:
            self._subscriber.close()
        super().on_connection_close()


PATHS: PathItems = {
    "/events": {
        "get": {
            "operationId": "streamEvents",
            "summary": "Server-sent events of run changes",
            "description": "A `text/event-stream` that stays open. Events:\n\n"
            "* `run` (with `id`): data is a `RunSummary`, sent whenever a run's status or "
            "cell\n  progress changes. The id is the newest change it reflects; reconnecting "
            "with\n  `Last-Event-ID` replays the runs changed since.\n"
            "* `run_deleted`: data is `RunDeleted`.\n"
            "* `output`: data is `RunOutputNotice`: the run has new output up to `seq`\n"
            "  (fetch it from `/runs/{run_id}/output?after=...`).\n\n"
            "A comment line (`: keepalive`) is sent every 15 s of silence.\n",
            "parameters": [
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "description": "Resume after this event id (EventSource sends it on "
                    "reconnect).",
                    "schema": {"type": "integer"},
                },
                query(
                    "last_event_id",
                    {"type": "integer"},
                    "The same as the `Last-Event-ID` header, for clients that cannot set it.",
                ),
            ],
            "responses": {
                "200": {
                    "description": "The event stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
            },
        },
    },
}
