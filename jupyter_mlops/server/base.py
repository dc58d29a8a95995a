"""What every REST handler under ``/mlops/api/`` shares: authorization, errors, JSON.

Every handler is authenticated and authorized through jupyter-server (resource
``mlops``; submitting, reproducing and changing schedules, which decide what code runs,
need the ``execute`` action), does store, git and file work in a thread (never on the
event loop) and answers errors as JSON ``{"message", "status"}``, never with a traceback:

* 400: malformed body or query (also one too large, too deeply nested, or with a NUL or a
  NaN/Infinity in it), invalid notebook, parameters, kernel, GPUs, snapshot
* 403: a path outside the server's root (or with ``..``), or not authorized
* 404: unknown run, schedule, artifact, notebook file, registered model or version
* 409: the run's state forbids the operation (cancel a finished run, delete an active one),
  or the registry's does (a name taken, an alias that moved meanwhile)

The bodies are the models of :mod:`jupyter_mlops.server.models`; ``openapi.yaml`` is
generated from them and from the ``PATHS`` next to each group of handlers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, TypeVar

import tornado.web
from jupyter_server.base.handlers import APIHandler
from pydantic import BaseModel

from ..finite_json import dumps_json
from ..input_rules import InputError, InputLimits, parse_json_body
from ..jobs import GPURequestError, PathOutsideRoot, RunStateError
from ..kernels import KernelNotFound
from ..notebook.coercion import ParameterError
from ..notebook.reading import NotebookError
from ..registry.requirements import RequirementError
from ..snapshot.plumbing import SnapshotError
from ..store import RunNotFound
from ..store.registry import ModelNotFound, RegistryConflict
from .models import RequestModel

T = TypeVar("T")
RequestT = TypeVar("RequestT", bound=RequestModel)
AUTH_RESOURCE = "mlops"


class APIError(tornado.web.HTTPError):
    """An HTTP error whose message is shown to the client, with optional extra fields."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status, "%s", message)
        self.message = message
        self.extra = extra


class NotFound(LookupError):
    """An artifact or notebook file that does not exist."""


ERROR_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (PathOutsideRoot, 403),
    (RunStateError, 409),
    (RunNotFound, 404),
    (NotFound, 404),
    (ParameterError, 400),
    (NotebookError, 400),
    (KernelNotFound, 400),
    (GPURequestError, 400),
    (SnapshotError, 400),
    (InputError, 400),
    (ModelNotFound, 404),
    (RegistryConflict, 409),
    (RequirementError, 400),
)


def api_error(err: BaseException, *, value_errors: bool = False) -> APIError | None:
    """The HTTP answer for a known error of the run machinery (None: a bug, so a 500)."""
    for kind, status in ERROR_STATUS:
        if isinstance(err, kind):
            if isinstance(err, ParameterError):
                return APIError(status, str(err), problems=err.problems)
            return APIError(status, str(err))
    if value_errors and isinstance(err, ValueError):
        return APIError(400, str(err))
    return None


def json_type(value: Any) -> str:
    """How a JSON value's type reads in a message ("an array", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class MLOpsHandler(APIHandler):
    auth_resource = AUTH_RESOURCE
    endpoint: ClassVar[bool] = True
    """False for the catch-all 404 route, which ``openapi.yaml`` does not describe."""

    @property
    def mlops(self) -> Any:
        return self.settings["mlops"]

    async def blocking(self, fn: Callable[..., T], *args: Any, value_errors: bool = False) -> T:
        """Run ``fn`` in a thread; known errors become JSON answers with their status."""
        try:
            return await asyncio.to_thread(fn, *args)
        except Exception as err:
            answer = api_error(err, value_errors=value_errors)
            if answer is None:
                raise
            raise answer from None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """JSON errors with a message; never a traceback, not even in debug mode."""
        self.set_header("Content-Type", "application/json")
        message = self._reason
        reply: dict[str, Any] = {}
        exc_info = kwargs.get("exc_info")
        if exc_info:
            err = exc_info[1]
            if isinstance(err, APIError):
                message = err.message
                reply.update(err.extra)
            elif isinstance(err, tornado.web.HTTPError) and err.log_message:
                message = err.log_message % err.args if err.args else err.log_message
        reply.update({"message": message, "status": status_code})
        self.finish(json.dumps(reply))

    def fail(self, status: int, message: str) -> APIError:
        return APIError(status, message)

    def run_url(self, run_id: str) -> str:
        from jupyter_server.utils import url_path_join

        return url_path_join(self.base_url, "mlops", "api", "runs", run_id)

    def send_json(self, data: Any, status: int = 200) -> None:
        if isinstance(data, BaseModel):  # a response model (or a union of them)
            data = data.model_dump()
        self.set_status(status)
        self.finish(dumps_json(data, default=str))  # NaN/Infinity in old rows: null

    # -- request parsing ----------------------------------------------------------------

    def json_body(self) -> dict[str, Any]:
        """The body as a JSON object, within the rules of :mod:`jupyter_mlops.input_rules`
        (size, nesting, no NUL, finite numbers): every body passes here."""
        body = self.request.body
        if not body:
            raise self.fail(400, "the request body must be a JSON object")
        try:
            data = parse_json_body(body, InputLimits.of(self.mlops.settings))
        except InputError as err:
            raise self.fail(400, str(err)) from None
        if not isinstance(data, dict):
            raise self.fail(400, f"the request body must be a JSON object, not {json_type(data)}")
        return data

    def parse_body(self, model: type[RequestT]) -> RequestT:
        """The JSON body validated by ``model`` (a 400 naming the field when it does not fit)."""
        try:
            return model.parse(self.json_body())
        except ValueError as err:
            raise self.fail(400, str(err)) from None

    def notebook_arg(self, raw: Any, field: str) -> str:
        """A notebook path relative to the server root: no ``..``, no NUL, .ipynb."""
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(400, f"{field} must be a non-empty path relative to the server root")
        if "\x00" in raw:
            raise self.fail(400, f"{field} must not contain NUL characters")
        if ".." in PurePosixPath(raw.replace("\\", "/")).parts:
            raise self.fail(403, f"{field} {raw!r} must not contain '..': paths stay in the root")
        return raw.lstrip("/")

    def resolve_existing_notebook(self, relpath: str) -> tuple[Path, str]:
        """(absolute path, display path) of a notebook file in the root (in a thread)."""
        path, display = self.mlops.jobs.resolve_notebook(relpath)
        if not path.is_file():
            raise NotFound(f"no notebook file {display!r} in the server's root directory")
        return path, display

    @property
    def content_security_policy(self) -> str:
        csp = getattr(self, "sandboxed_csp", None)
        return csp if csp else super().content_security_policy


class NotFoundHandler(MLOpsHandler):
    """JSON 404 for any other path under ``/mlops/api/`` (not an endpoint, not in the spec)."""

    endpoint: ClassVar[bool] = False

    async def prepare(self) -> None:
        await super().prepare()
        if not self.current_user:
            raise self.fail(403, "authentication required")
        raise self.fail(404, f"no such endpoint: {self.request.path}")
