"""REST handlers for event triggers under ``/mlops/api/triggers``.

* ``GET    /mlops/api/triggers``          list (what each watches, its last run)
* ``POST   /mlops/api/triggers``          create (201); validated before anything is written
* ``GET    /mlops/api/triggers/{id}``     one, with its newest events and their runs
* ``PATCH  /mlops/api/triggers/{id}``     pause (``{"active": false}``) or resume
* ``DELETE /mlops/api/triggers/{id}``     delete (204; its runs are kept)
* ``GET    /mlops/api/runs/{id}/trigger`` the trigger and event that fired a run (404: none)

Authenticated and authorized like the rest (creating and resuming, which decide what code
runs, need ``execute``); errors are JSON: 400 invalid input, 403 outside the root, 404
unknown trigger or notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..scheduling.trigger_service import TriggerService, TriggerSpec
from ..store.triggers import TriggerNotFound
from .base import APIError, MLOpsHandler
from .models import TriggerChanges, TriggerDetail, TriggerList, TriggerRequest
from .spec import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    RUN_ID,
    PathItems,
    json_body,
    json_response,
    location,
)
from .target_checks import require_existing_target

T = TypeVar("T")
TRIGGER_ID = {
    "name": "trigger_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{1,32}$"},
}


class TriggerAPIHandler(MLOpsHandler):
    @property
    def service(self) -> TriggerService:
        return self.settings["mlops_triggers"]

    async def blocking(self, fn: Callable[..., T], *args: Any, value_errors: bool = False) -> T:
        try:
            return await super().blocking(fn, *args, value_errors=value_errors)
        except TriggerNotFound as err:
            raise APIError(404, str(err.args[0])) from None


class TriggersHandler(TriggerAPIHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.send_json({"triggers": await self.blocking(self.service.list)})

    @tornado.web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        try:
            fields = TriggerRequest.parse(self.json_body()).spec_fields()
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        fields["notebook"] = self.notebook_arg(fields["notebook"], "notebook")
        if not fields.get("on_commit") and not fields.get("branch"):
            await self.blocking(require_existing_target, self, fields["notebook"])
        service = self.service
        trigger = await self.blocking(service.create, TriggerSpec(**fields), value_errors=True)
        from jupyter_server.utils import url_path_join

        self.set_header(
            "Location", url_path_join(self.base_url, "mlops", "api", "triggers", trigger.id)
        )
        self.send_json(await self.blocking(service.detail, trigger.id), status=201)


class TriggerHandler(TriggerAPIHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, trigger_id: str) -> None:
        self.send_json(await self.blocking(self.service.detail, trigger_id))

    @tornado.web.authenticated
    @authorized("execute")
    async def patch(self, trigger_id: str) -> None:
        try:
            changes = TriggerChanges.parse(self.json_body())
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        change = self.service.resume if changes.active else self.service.pause
        await self.blocking(change, trigger_id)
        self.send_json(await self.blocking(self.service.detail, trigger_id))

    @tornado.web.authenticated
    @authorized
    async def delete(self, trigger_id: str) -> None:
        await self.blocking(self.service.delete, trigger_id)
        self.set_status(204)
        self.finish()


class RunTriggerHandler(TriggerAPIHandler):
    """Why a run exists, when a trigger fired it."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        from ..scheduling.trigger_service import trigger_dict

        found = await self.blocking(self.service.triggers.event_of_run, run_id)
        if found is None:
            raise self.fail(404, f"run {run_id} was not fired by a trigger")
        trigger, event = found
        view = trigger_dict(trigger)
        view["events"] = [
            {
                "key": event.key,
                "state": event.state,
                "run_id": event.run_id,
                "run_status": None,
                "claimed_at": event.claimed_at.isoformat(),
                "details": event.details,
                "reason": event.reason,
            }
        ]
        self.send_json(view)


def trigger_routes() -> list[tuple[str, type[MLOpsHandler]]]:
    """(path under ``/mlops/api/``, handler); before the catch-all 404."""
    one = r"triggers/(?P<trigger_id>[0-9a-f]{1,32})"
    return [
        ("triggers", TriggersHandler),
        (one, TriggerHandler),
        (r"runs/(?P<run_id>[0-9a-f]{1,32})/trigger", RunTriggerHandler),
    ]


PATHS: PathItems = {
    "/triggers": {
        "get": {
            "operationId": "listTriggers",
            "summary": "Every trigger: what it watches, its last event and run",
            "responses": {
                "200": json_response("The triggers, oldest first", TriggerList),
                "403": FORBIDDEN,
            },
        },
        "post": {
            "operationId": "createTrigger",
            "summary": "Run a notebook on a commit, new data, drift or a production metric",
            "description": "Validates everything before writing anything (a branch that does "
            "not exist, an unreadable dataset, a condition that cannot be read: 400). The "
            "trigger starts from what exists now and fires for what comes after, each event "
            "once however many schedulers share the store. Needs `execute`.",
            "requestBody": json_body(TriggerRequest),
            "responses": {
                "201": json_response(
                    "The trigger was created", TriggerDetail, headers=location("trigger")
                ),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/triggers/{trigger_id}": {
        "parameters": [TRIGGER_ID],
        "get": {
            "operationId": "getTrigger",
            "summary": "One trigger and its newest events (what fired, which run)",
            "responses": {
                "200": json_response("The trigger", TriggerDetail),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
        "patch": {
            "operationId": "updateTrigger",
            "summary": 'Pause (`{"active": false}`) or resume a trigger',
            "requestBody": json_body(TriggerChanges),
            "responses": {
                "200": json_response("The trigger as it is now", TriggerDetail),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
        "delete": {
            "operationId": "deleteTrigger",
            "summary": "Delete a trigger (its runs are kept)",
            "responses": {"204": {"description": "Deleted"}, "403": FORBIDDEN, "404": NOT_FOUND},
        },
    },
    "/runs/{run_id}/trigger": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "getRunTrigger",
            "summary": "The trigger and the event (commit, hashes, figures) that fired a run",
            "responses": {
                "200": json_response("The trigger, with that one event", TriggerDetail),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
