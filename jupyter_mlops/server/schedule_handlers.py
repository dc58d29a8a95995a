"""REST handlers for cron schedules under ``/mlops/api/schedules``.

* ``GET    /mlops/api/schedules``             list (next fire time, last run id and status)
* ``POST   /mlops/api/schedules``             create (201)
* ``GET    /mlops/api/schedules/{id}``        one, with upcoming fire times, slots and runs
* ``PATCH  /mlops/api/schedules/{id}``        edit, pause (``{"active": false}``), resume
* ``DELETE /mlops/api/schedules/{id}``        delete (204; its runs are kept)
* ``POST   /mlops/api/schedules/{id}/run``    run now (201, the run)
* ``GET    /mlops/api/cron/preview``          would a schedule accept this cron expression,
  and when would it fire (so the frontend need not know cron: croniter decides)

Authenticated and authorized like the rest of the API (resource ``mlops``; creating,
editing and running, which decide what code executes, need ``execute``); validation and
store work run in threads; errors are JSON ``{"message", "status"}``: 400 invalid input,
403 a notebook outside the root, 404 unknown schedule or notebook file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..input_rules import parse_bound
from ..scheduling.service import ScheduleService, ScheduleSpec, preview_cron
from ..serialize import run_summary
from ..store.schedules import ScheduleNotFound
from .base import APIError, MLOpsHandler
from .models import (
    CronPreview,
    RunSummary,
    Schedule,
    ScheduleChanges,
    ScheduleDetail,
    ScheduleList,
    ScheduleRequest,
)
from .spec import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    SCHEDULE_ID,
    PathItems,
    json_body,
    json_response,
    location,
    query,
)
from .target_checks import require_existing_target

T = TypeVar("T")
MAX_PREVIEW = 20


class ScheduleAPIHandler(MLOpsHandler):
    @property
    def service(self) -> ScheduleService:
        return self.settings["mlops_schedules"]

    async def blocking(self, fn: Callable[..., T], *args: Any, value_errors: bool = False) -> T:
        try:
            return await super().blocking(fn, *args, value_errors=value_errors)
        except ScheduleNotFound as err:
            raise APIError(404, str(err.args[0])) from None

    def schedule_url(self, schedule_id: str) -> str:
        from jupyter_server.utils import url_path_join

        return url_path_join(self.base_url, "mlops", "api", "schedules", schedule_id)

    def parse(self, *, partial: bool) -> dict[str, Any]:
        """The body's :class:`ScheduleSpec` fields (a patch gives only those to change)."""
        body = self.json_body()
        if partial and not body:
            raise self.fail(400, "nothing to change: give at least one field")
        model = ScheduleChanges if partial else ScheduleRequest
        try:
            fields = model.parse(body).spec_fields()
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        if "notebook" in fields:
            fields["notebook"] = self.notebook_arg(fields["notebook"], "notebook")
        return fields


class SchedulesHandler(ScheduleAPIHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.send_json({"schedules": await self.blocking(self.service.list)})

    @tornado.web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        fields = self.parse(partial=False)
        if not fields.get("branch"):
            # a missing working-copy notebook is a 404, as for runs
            await self.blocking(require_existing_target, self, fields["notebook"])
        service = self.service
        schedule = await self.blocking(service.create, ScheduleSpec(**fields), value_errors=True)
        self.set_header("Location", self.schedule_url(schedule.id))
        self.send_json(await self.blocking(service.get, schedule.id), status=201)


class ScheduleHandler(ScheduleAPIHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, schedule_id: str) -> None:
        self.send_json(await self.blocking(self.service.detail, schedule_id))

    @tornado.web.authenticated
    @authorized("execute")
    async def patch(self, schedule_id: str) -> None:
        fields = self.parse(partial=True)
        service = self.service
        await self.blocking(service.update, schedule_id, fields, value_errors=True)
        self.send_json(await self.blocking(service.get, schedule_id))

    @tornado.web.authenticated
    @authorized
    async def delete(self, schedule_id: str) -> None:
        await self.blocking(self.service.delete, schedule_id)
        self.set_status(204)
        self.finish()


class ScheduleRunHandler(ScheduleAPIHandler):
    @tornado.web.authenticated
    @authorized("execute")
    async def post(self, schedule_id: str) -> None:
        submission = await self.blocking(self.service.run_now, schedule_id, "ui", value_errors=True)
        self.set_header("Location", self.run_url(submission.run.id))
        self.send_json(run_summary(submission.run), status=201)


class CronPreviewHandler(MLOpsHandler):
    """Whether a schedule would accept a cron expression, and its next fire times."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        expression = self.get_argument("expression", None)
        if expression is None:
            raise self.fail(400, "expression is required, e.g. expression=0 3 * * *")
        timezone = self.get_argument("timezone", "").strip() or None
        try:
            count = parse_bound(self.get_argument("count", "").strip(), "count", 5, 1, MAX_PREVIEW)
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        self.send_json(await self.blocking(preview_cron, expression, timezone, count))


def schedule_handlers(base_url: str) -> list[tuple[str, type[MLOpsHandler]]]:
    """The schedule routes; register them before ``handlers()`` (its catch-all 404)."""
    from jupyter_server.utils import url_path_join

    api = url_path_join(base_url, "mlops", "api")
    one = r"schedules/(?P<schedule_id>[0-9a-f]{1,32})"
    routes: list[tuple[str, type[MLOpsHandler]]] = [
        ("schedules", SchedulesHandler),
        (one, ScheduleHandler),
        (f"{one}/run", ScheduleRunHandler),
        ("cron/preview", CronPreviewHandler),
    ]
    return [(url_path_join(api, path), handler) for path, handler in routes]


PATHS: PathItems = {
    "/schedules": {
        "get": {
            "operationId": "listSchedules",
            "summary": "Every cron schedule, with its next fire time and last run",
            "responses": {
                "200": json_response("The schedules, oldest first", ScheduleList),
                "403": FORBIDDEN,
            },
        },
        "post": {
            "operationId": "createSchedule",
            "summary": "Run a notebook on a cron schedule",
            "description": "Validates everything before writing anything: the cron "
            "expression and time zone, the notebook (in the working copy, or committed on "
            "`branch`), its parameters, the kernel, GPUs, timeout and policies. The server's "
            "scheduler fires each slot once, however many servers and `jupyter mlops "
            "scheduler` processes share the store. Needs the `execute` permission.",
            "requestBody": json_body(ScheduleRequest),
            "responses": {
                "201": json_response(
                    "The schedule was created", Schedule, headers=location("schedule")
                ),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/schedules/{schedule_id}": {
        "parameters": [SCHEDULE_ID],
        "get": {
            "operationId": "getSchedule",
            "summary": "One schedule, its next fire times, its recent slots and runs",
            "responses": {
                "200": json_response("The schedule", ScheduleDetail),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
        "patch": {
            "operationId": "updateSchedule",
            "summary": 'Edit, pause (`{"active": false}`) or resume a schedule',
            "description": "A new cron expression or time zone starts from the next slot "
            "after now; resuming applies the catch-up policy to the slots missed while "
            "paused. Anything but `active` and `name` validates the whole schedule again. "
            "Needs `execute`.",
            "requestBody": json_body(ScheduleChanges),
            "responses": {
                "200": json_response("The schedule as it is now", Schedule),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
        "delete": {
            "operationId": "deleteSchedule",
            "summary": "Delete a schedule (its runs are kept)",
            "responses": {"204": {"description": "Deleted"}, "403": FORBIDDEN, "404": NOT_FOUND},
        },
    },
    "/schedules/{schedule_id}/run": {
        "parameters": [SCHEDULE_ID],
        "post": {
            "operationId": "runScheduleNow",
            "summary": "Run the schedule's notebook once, now (also while paused)",
            "description": "Not a slot: the run's `scheduled_for` is null and the concurrency "
            "policy does not apply. Needs `execute`.",
            "responses": {
                "201": json_response("The run was queued", RunSummary, headers=location("run")),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/cron/preview": {
        "get": {
            "operationId": "previewCron",
            "summary": "Whether a schedule would accept a cron expression, and when it fires",
            "description": "Validated by the server's cron implementation (the one that fires "
            "the schedules): an expression a schedule would refuse answers `valid: false` "
            "with the message creating that schedule would give; otherwise the next `count` "
            "fire times after now, in the zone's offset.",
            "parameters": [
                query(
                    "expression",
                    {"type": "string"},
                    "The cron expression, as a schedule's `cron`.",
                    required=True,
                ),
                query(
                    "timezone",
                    {"type": "string"},
                    "IANA name (e.g. `Europe/Berlin`); default the server's zone.",
                ),
                query(
                    "count",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PREVIEW, "default": 5},
                    "How many fire times to list.",
                ),
            ],
            "responses": {
                "200": json_response("The verdict and the next fire times", CronPreview),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
            },
        },
    },
}
