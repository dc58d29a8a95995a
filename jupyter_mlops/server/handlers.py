"""REST handlers. Every one is authenticated and authorized through jupyter-server,
runs store work in a thread (never on the event loop) and answers errors as JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler

from .. import __version__
from ..serialize import run_detail, run_summary
from ..store import RunNotFound, RunStatus

T = TypeVar("T")
AUTH_RESOURCE = "mlops"


class MLOpsHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def mlops(self) -> Any:
        return self.settings["mlops"]

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """JSON errors with a message; never a traceback in the response."""
        self.set_header("Content-Type", "application/json")
        message = self._reason
        exc_info = kwargs.get("exc_info")
        if exc_info:
            err = exc_info[1]
            if isinstance(err, tornado.web.HTTPError) and err.log_message:
                message = err.log_message % err.args if err.args else err.log_message
        self.finish(json.dumps({"message": message, "status": status_code}))

    def fail(self, status: int, message: str) -> tornado.web.HTTPError:
        return tornado.web.HTTPError(status, "%s", message)


class HealthHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        runs = await self.blocking(self.mlops.store.count_runs)
        self.finish({"status": "ok", "version": __version__, "runs": runs})


class RunsHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        statuses = self.get_arguments("status")
        valid = {s.value for s in RunStatus}
        if any(s not in valid for s in statuses):
            raise self.fail(400, f"unknown status in {statuses}; choose from {sorted(valid)}")
        try:
            limit = int(self.get_argument("limit", "50"))
        except ValueError:
            raise self.fail(400, "limit must be an integer") from None
        if not 1 <= limit <= 500:
            raise self.fail(400, "limit must be between 1 and 500")

        def query() -> Any:
            return self.mlops.store.list_runs(
                status=statuses or None,
                notebook=self.get_argument("notebook", None),
                tag=self.get_argument("tag", None),
                limit=limit,
                cursor=self.get_argument("cursor", None),
            )

        try:
            page = await self.blocking(query)
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        self.finish({"runs": [run_summary(r) for r in page.runs], "next_cursor": page.next_cursor})


class RunHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        store = self.mlops.store

        def load() -> dict[str, Any]:
            return run_detail(
                store.require_run(run_id),
                events=store.events(run_id),
                artifacts=store.artifacts(run_id),
                environment=store.environment(run_id),
                metrics=store.latest_metrics(run_id),
            )

        try:
            detail = await self.blocking(load)
        except RunNotFound as err:
            raise self.fail(404, str(err)) from None
        self.finish(json.dumps(detail, default=str))


def handlers(base_url: str) -> list[tuple[str, type[MLOpsHandler]]]:
    from jupyter_server.utils import url_path_join

    api = url_path_join(base_url, "mlops", "api")
    return [
        (url_path_join(api, "health"), HealthHandler),
        (url_path_join(api, "runs"), RunsHandler),
        (url_path_join(api, r"runs/(?P<run_id>[0-9a-f]{1,32})"), RunHandler),
    ]
