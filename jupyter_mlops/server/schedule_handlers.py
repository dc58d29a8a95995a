"""REST handlers for cron schedules under ``/mlops/api/schedules``.

* ``GET    /mlops/api/schedules``             list (next fire time, last run id and status)
* ``POST   /mlops/api/schedules``             create (201)
* ``GET    /mlops/api/schedules/{id}``        one, with upcoming fire times, slots and runs
* ``PATCH  /mlops/api/schedules/{id}``        edit, pause (``{"active": false}``), resume
* ``DELETE /mlops/api/schedules/{id}``        delete (204; its runs are kept)
* ``POST   /mlops/api/schedules/{id}/run``    run now (201, the run)

Authenticated and authorized like the rest of the API (resource ``mlops``; creating,
editing and running, which decide what code executes, need ``execute``); validation and
store work run in threads; errors are JSON ``{"message", "status"}``: 400 invalid input,
403 a notebook outside the root, 404 unknown schedule or notebook file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..scheduling.service import ScheduleService, ScheduleSpec
from ..serialize import run_summary
from ..store.schedules import ScheduleNotFound
from .handlers import APIError, MLOpsHandler

T = TypeVar("T")

FIELDS = (
    "notebook",
    "cron",
    "timezone",
    "branch",
    "parameters",
    "kernel",
    "gpus",
    "timeout",
    "tags",
    "catchup",
    "max_catchup",
    "concurrency",
    "name",
    "active",
)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_schedule_body(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Type-check a create (``partial=False``) or patch body; returns ScheduleSpec fields.
    A ValueError names the offending field."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(FIELDS)}")
    if not partial:
        missing = [f for f in ("notebook", "cron") if f not in body]
        if missing:
            raise ValueError(f"{' and '.join(missing)} required")
    if partial and not body:
        raise ValueError("nothing to change: give at least one field")
    out: dict[str, Any] = {}
    for key in ("cron", "notebook"):
        if key in body:
            if not isinstance(body[key], str) or not body[key].strip():
                raise ValueError(f"{key} must be a non-empty string, not {_kind(body[key])}")
            out[key] = body[key]
    for key in ("timezone", "branch", "kernel", "name"):
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} must be a string or null, not {_kind(value)}")
            out[key] = value or None
    if "parameters" in body:
        params = body["parameters"]
        if params is not None and not isinstance(params, dict):
            raise ValueError(f"parameters must be an object of name -> value, not {_kind(params)}")
        out["parameters"] = params or {}
    if "gpus" in body:
        gpus = body["gpus"] if body["gpus"] is not None else 0
        if not _int(gpus) or gpus < 0:
            raise ValueError(f"gpus must be an integer >= 0, got {json.dumps(gpus)}")
        out["gpus"] = gpus
    if "timeout" in body:
        timeout = body["timeout"]
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ValueError(
                f"timeout must be a positive number of seconds or null, got {json.dumps(timeout)}"
            )
        out["timeout"] = float(timeout) if timeout is not None else None
    if "tags" in body:
        tags = body["tags"] if body["tags"] is not None else []
        if not isinstance(tags, list) or not all(
            isinstance(t, str) and t.strip() and len(t) <= 255 for t in tags
        ):
            raise ValueError("tags must be an array of non-empty strings (at most 255 characters)")
        out["tags"] = [t.strip() for t in tags]
    for key in ("catchup", "concurrency"):
        if key in body:
            if not isinstance(body[key], str):
                raise ValueError(f"{key} must be a string, not {_kind(body[key])}")
            out[key] = body[key]
    if "max_catchup" in body:
        max_catchup = body["max_catchup"]
        if not _int(max_catchup):
            raise ValueError(f"max_catchup must be an integer, got {json.dumps(max_catchup)}")
        out["max_catchup"] = max_catchup
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise ValueError(f"active must be true or false, not {_kind(body['active'])}")
        out["active"] = body["active"]
    return out


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
        body = self.json_body()
        try:
            fields = parse_schedule_body(body, partial=partial)
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
            await self.blocking(self.resolve_existing_notebook, fields["notebook"])
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


def schedule_handlers(base_url: str) -> list[tuple[str, type[MLOpsHandler]]]:
    """The schedule routes; register them before ``handlers()`` (its catch-all 404)."""
    from jupyter_server.utils import url_path_join

    api = url_path_join(base_url, "mlops", "api")
    one = r"schedules/(?P<schedule_id>[0-9a-f]{1,32})"
    routes: list[tuple[str, type[MLOpsHandler]]] = [
        ("schedules", SchedulesHandler),
        (one, ScheduleHandler),
        (f"{one}/run", ScheduleRunHandler),
    ]
    return [(url_path_join(api, path), handler) for path, handler in routes]
