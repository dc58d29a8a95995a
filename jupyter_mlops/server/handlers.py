"""REST handlers under ``/mlops/api/`` (described in ``openapi.yaml`` next to this file).

Every handler is authenticated and authorized through jupyter-server (resource
``mlops``; submitting and reproducing, which execute code, need the ``execute``
action), does store, git and file work in a thread (never on the event loop) and
answers errors as JSON ``{"message", "status"}``, never with a traceback:

* 400: malformed body or query, invalid notebook, parameters, kernel, GPUs, snapshot
* 403: a path outside the server's root (or with ``..``), or not authorized
* 404: unknown run, artifact or notebook file
* 409: the run's state forbids the operation (cancel a finished run, delete an active one)

Metric series are read downsampled (``RunStore.metric_series``: at most ``max_points``
points per series, min and max of each bucket kept); NaN and infinite values are sent as
``null``, since JSON has no such numbers.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, ClassVar, TypeVar

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from sqlalchemy import func, select
from tornado.iostream import StreamClosedError

from .. import __version__
from ..artifacts import BlobStore, open_artifact_store
from ..jobs import GPURequestError, PathOutsideRoot, RunSpec, RunStateError
from ..kernels import KernelNotFound
from ..notebook.coercion import ParameterError
from ..notebook.reading import NotebookError
from ..serialize import iso, run_detail, run_summary
from ..snapshot.plumbing import SnapshotError
from ..store import Artifact, RunNotFound, RunStatus
from ..store.models import LatestMetric, MetricRollup
from ..store.queries import ParamFilter, search_runs
from ..store.store import ROLLUP_LEVELS
from .events import StreamEvent

T = TypeVar("T")
AUTH_RESOURCE = "mlops"
CHUNK = 256 * 1024
MAX_LIMIT = 500
MAX_SEED = 2**63 - 1
DEFAULT_POINTS = 1000
MAX_POINTS = 100_000
MAX_OVERLAY_RUNS = 50
MAX_OVERLAY_KEYS = 20
MAX_METRIC_COLUMNS = 20
MAX_KEY_LENGTH = 255
OUTPUT_NOTEBOOK = "output.ipynb"  # names the runner stores (jupyter_mlops.runner)
OUTPUT_HTML = "output.html"
SANDBOX_CSP = "sandbox allow-scripts allow-popups; frame-ancestors 'self'"
"""Run outputs are untrusted HTML: shown in a unique origin, they cannot reach the API."""


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
        self.set_status(status)
        self.finish(json.dumps(data, default=str))

    # -- request parsing ----------------------------------------------------------------

    def json_body(self) -> dict[str, Any]:
        body = self.request.body
        if not body:
            raise self.fail(400, "the request body must be a JSON object")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise self.fail(400, f"the request body is not valid JSON: {err}") from None
        if not isinstance(data, dict):
            raise self.fail(400, f"the request body must be a JSON object, not {_json_type(data)}")
        return data

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

    # -- artifacts ----------------------------------------------------------------------

    def artifact_store(self) -> BlobStore:
        return open_artifact_store(self.mlops.settings)

    async def load_artifact(self, run_id: str, name: str, what: str | None = None) -> Artifact:
        store = self.mlops.store

        def load() -> Artifact:
            run = store.require_run(run_id)
            artifact = store.get_artifact(run_id, name)
            if artifact is None:
                label = what or f"artifact {name!r}"
                extra = "" if RunStatus(run.status).is_terminal else " yet"
                raise NotFound(f"run {run_id} has no {label}{extra} (status: {run.status})")
            return artifact

        return await self.blocking(load)

    async def stream_artifact(
        self, artifact: Artifact, *, content_type: str, disposition: str | None
    ) -> None:
        """Send the artifact's bytes in chunks, read in a thread; never all in memory."""
        etag = f'"{artifact.sha256}"'
        self.set_header("Etag", etag)
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        if etag in [t.strip() for t in self.request.headers.get("If-None-Match", "").split(",")]:
            self.set_status(304)
            self.finish()
            return
        try:
            stream: BinaryIO = await asyncio.to_thread(self.artifact_store().open, artifact.sha256)
        except (OSError, ValueError):
            raise self.fail(
                404, f"the bytes of artifact {artifact.name!r} are missing from the artifact store"
            ) from None
        try:
            size = artifact.size
            self.set_header("Content-Type", content_type)
            self.set_header("Content-Length", str(size))
            if disposition:
                self.set_header("Content-Disposition", disposition)
            while chunk := await asyncio.to_thread(stream.read, CHUNK):
                self.write(chunk)
                await self.flush()
        except StreamClosedError:
            return  # the client went away
        finally:
            stream.close()
        self.finish(set_content_type=content_type)

    @property
    def content_security_policy(self) -> str:
        csp = getattr(self, "sandboxed_csp", None)
        return csp if csp else super().content_security_policy


def _json_type(value: Any) -> str:
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


def content_disposition(kind: str, name: str) -> str:
    """``attachment; filename="x.pt"; filename*=UTF-8''x.pt`` (RFC 6266, any file name)."""
    base = PurePosixPath(name).name or "artifact"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", base)
    quoted = urllib.parse.quote(base, safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


# -- submit request -------------------------------------------------------------------

SUBMIT_FIELDS = (
    "notebook",
    "parameters",
    "kernel",
    "gpus",
    "timeout",
    "tags",
    "seed",
    "commit",
    "commit_message",
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_submit(body: Mapping[str, Any]) -> dict[str, Any]:
    """Type-check the submit body; a ValueError names the offending field."""
    unknown = sorted(set(body) - set(SUBMIT_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(SUBMIT_FIELDS)}"
        )
    spec: dict[str, Any] = {}
    parameters = body.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise ValueError(
            f"parameters must be a JSON object of name -> value, not {_json_type(parameters)}"
        )
    spec["parameters"] = parameters or {}
    kernel = body.get("kernel")
    if kernel is not None and not isinstance(kernel, str):
        raise ValueError(f"kernel must be a kernel name (string), not {_json_type(kernel)}")
    spec["kernel"] = kernel or None
    gpus = body.get("gpus", 0)
    if gpus is None:
        gpus = 0
    if not _is_int(gpus) or gpus < 0:
        raise ValueError(f"gpus must be an integer >= 0, got {json.dumps(gpus)}")
    spec["gpus"] = gpus
    timeout = body.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise ValueError(
            f"timeout must be a positive number of seconds or null, got {json.dumps(timeout)}"
        )
    spec["timeout"] = float(timeout) if timeout is not None else None
    tags = body.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(
        isinstance(t, str) and t.strip() and len(t) <= 255 for t in tags
    ):
        raise ValueError("tags must be an array of non-empty strings (at most 255 characters)")
    spec["tags"] = [t.strip() for t in tags]
    seed = body.get("seed")
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= MAX_SEED):
        raise ValueError(f"seed must be an integer from 0 to 2**63-1 or null, got {seed!r}")
    spec["seed"] = seed
    commit = body.get("commit", False)
    if commit is None:
        commit = False
    if not isinstance(commit, bool):
        raise ValueError(f"commit must be true or false, not {_json_type(commit)}")
    spec["commit"] = commit
    message = body.get("commit_message")
    if message is not None and not isinstance(message, str):
        raise ValueError(f"commit_message must be a string, not {_json_type(message)}")
    spec["commit_message"] = message or None
    return spec


# -- metrics ---------------------------------------------------------------------------------


def _json_number(value: float | None) -> float | None:
    """A metric value for JSON: NaN and infinities (which JSON cannot carry) are null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def split_values(raw: Iterable[str], *, commas: bool = True) -> list[str]:
    """Repeated (and, with ``commas``, comma-separated) query values, stripped, empty ones
    dropped, in order, without duplicates."""
    seen: dict[str, None] = {}
    for arg in raw:
        for item in arg.split(",") if commas else [arg]:
            item = item.strip()
            if item:
                seen[item] = None
    return list(seen)


def check_keys(keys: Sequence[str], field: str, limit: int) -> None:
    if len(keys) > limit:
        raise ValueError(f"at most {limit} {field} values, got {len(keys)}")
    for key in keys:
        if len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"{field} {key[:40]!r}... is longer than {MAX_KEY_LENGTH} characters")


def parse_max_points(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_POINTS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"max_points must be an integer, got {raw!r}") from None
    if not 2 <= value <= MAX_POINTS:
        raise ValueError(f"max_points must be between 2 and {MAX_POINTS}, got {value}")
    return value


def metric_summaries(store: Any, run_id: str) -> list[dict[str, Any]]:
    """Every metric key of a run: its latest point and the totals of its series (one
    query on ``latest_metrics`` and one on the top level of ``metric_rollups``)."""
    L, R = LatestMetric, MetricRollup
    with store.reading() as session:
        latest = session.execute(
            select(L.key, L.step, L.value, L.at).where(L.run_id == run_id).order_by(L.key)
        ).all()
        totals = {
            key: (count, first, last, low, high)
            for key, count, first, last, low, high in session.execute(
                select(
                    R.key,
                    func.sum(R.count),
                    func.min(R.first_step),
                    func.max(R.last_step),
                    func.min(R.min_value),
                    func.max(R.max_value),
                )
                .where(R.run_id == run_id, R.level == ROLLUP_LEVELS[-1])
                .group_by(R.key)
            ).all()
        }
    keys = []
    for key, step, value, at in latest:
        count, first, last, low, high = totals.get(key, (0, step, step, None, None))
        keys.append(
            {
                "key": key,
                "latest": _json_number(value),
                "step": step,
                "at": iso(at),
                "total_points": int(count or 0),
                "first_step": first,
                "last_step": last,
                "min": _json_number(low),
                "max": _json_number(high),
            }
        )
    return keys


def series_dict(run_id: str, series: Mapping[str, Any]) -> dict[str, Any]:
    """``RunStore.metric_series`` as JSON: ``points`` are ``[step, value or null]``."""
    return {
        "run_id": run_id,
        "key": series["key"],
        "total_points": series["total_points"],
        "downsampled": series["downsampled"],
        "points": [[int(step), _json_number(value)] for step, value in series["points"]],
    }


def latest_values(
    store: Any, run_ids: Sequence[str], keys: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    """{run id: {key: latest value}} for the given runs and keys (one query)."""
    L = LatestMetric
    values: dict[str, dict[str, float | None]] = {run_id: {} for run_id in run_ids}
    if not run_ids or not keys:
        return values
    with store.reading() as session:
        rows = session.execute(
            select(L.run_id, L.key, L.value).where(
                L.run_id.in_(list(run_ids)), L.key.in_(list(keys))
            )
        ).all()
    for run_id, key, value in rows:
        values[run_id][key] = _json_number(value)
    return values


# -- handlers ------------------------------------------------------------------------------


class HealthHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        runs = await self.blocking(self.mlops.store.count_runs)
        self.send_json({"status": "ok", "version": __version__, "runs": runs})


class RunsHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        statuses = [s for arg in self.get_arguments("status") for s in arg.split(",") if s]
        valid = {s.value for s in RunStatus}
        bad = [s for s in statuses if s not in valid]
        if bad:
            raise self.fail(400, f"unknown status {', '.join(bad)}; choose from {sorted(valid)}")
        try:
            limit = int(self.get_argument("limit", "50"))
        except ValueError:
            raise self.fail(400, "limit must be an integer") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise self.fail(400, f"limit must be between 1 and {MAX_LIMIT}")
        try:
            params = [ParamFilter.parse(p) for p in self.get_arguments("param")]
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        columns = split_values(self.get_arguments("metrics"))
        try:
            check_keys(columns, "metrics", MAX_METRIC_COLUMNS)
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        store = self.mlops.store
        filters = {
            "status": statuses,
            "notebook": self.get_argument("notebook", None) or None,
            "tags": [t for t in self.get_arguments("tag") if t],
            "params": params,
            "text": self.get_argument("q", "").strip() or None,
            "limit": limit,
            "cursor": self.get_argument("cursor", None) or None,
        }

        def query() -> dict[str, Any]:
            page = search_runs(store, **filters)
            store.annotate_queue_positions(page.runs)
            runs = [run_summary(r) for r in page.runs]
            if columns:
                values = latest_values(store, [r["id"] for r in runs], columns)
                for run in runs:
                    run["metrics"] = values[run["id"]]
            return {"runs": runs, "next_cursor": page.next_cursor}

        self.send_json(await self.blocking(query, value_errors=True))

    @tornado.web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        body = self.json_body()
        try:
            fields = parse_submit(body)
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        if "notebook" not in body:
            raise self.fail(400, "notebook is required (a path relative to the server root)")
        relpath = self.notebook_arg(body["notebook"], "notebook")
        await self.blocking(self.resolve_existing_notebook, relpath)
        spec = RunSpec(notebook=relpath, source="ui", **fields)
        submission = await self.blocking(self.mlops.jobs.submit, spec, value_errors=True)
        self.set_header("Location", self.run_url(submission.run.id))
        self.send_json(run_summary(submission.run), status=201)


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
                metrics={
                    key: _json_number(value) for key, value in store.latest_metrics(run_id).items()
                },
            )

        self.send_json(await self.blocking(load))

    @tornado.web.authenticated
    @authorized
    async def delete(self, run_id: str) -> None:
        await self.blocking(self.mlops.jobs.delete, run_id)
        self.mlops.events.publish([StreamEvent("run_deleted", {"id": run_id})])
        self.set_status(204)
        self.finish()


class CancelHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        run = await self.blocking(self.mlops.jobs.cancel, run_id)
        self.send_json(run_summary(run))


class ReproduceHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized("execute")
    async def post(self, run_id: str) -> None:
        submission = await self.blocking(self.mlops.jobs.reproduce, run_id)
        self.set_header("Location", self.run_url(submission.run.id))
        self.send_json(run_summary(submission.run), status=201)


class RunDiffHandler(MLOpsHandler):
    """Code difference between two runs' snapshots (for the compare view)."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, other_id: str) -> None:
        from ..snapshot.diffing import snapshot_diff

        store = self.mlops.store

        def compare() -> dict[str, Any]:
            return snapshot_diff(store.require_run(run_id), store.require_run(other_id))

        self.send_json(await self.blocking(compare))


class ArtifactHandler(MLOpsHandler):
    sandboxed_csp = SANDBOX_CSP

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, name: str) -> None:
        artifact = await self.load_artifact(run_id, name)
        inline = self.get_argument("inline", "0").lower() in ("1", "true", "yes")
        await self.stream_artifact(
            artifact,
            content_type=artifact.content_type or "application/octet-stream",
            disposition=content_disposition("inline" if inline else "attachment", artifact.name),
        )


class ExecutedNotebookHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        artifact = await self.load_artifact(run_id, OUTPUT_NOTEBOOK, "executed notebook")
        await self.stream_artifact(artifact, content_type="application/json", disposition=None)


class HTMLHandler(MLOpsHandler):
    sandboxed_csp = SANDBOX_CSP

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        artifact = await self.load_artifact(run_id, OUTPUT_HTML, "HTML rendering")
        await self.stream_artifact(
            artifact, content_type="text/html; charset=utf-8", disposition=None
        )


class NotebookParametersHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        relpath = self.notebook_arg(self.get_argument("path", ""), "path")

        def inspect() -> dict[str, Any]:
            from ..notebook.inspection import inspect_parameters, parameters_cell_index
            from ..notebook.reading import notebook_kernel_name, read_notebook

            path, display = self.resolve_existing_notebook(relpath)
            nb = read_notebook(path)
            return {
                "path": display,
                "parameters": [p.to_dict() for p in inspect_parameters(nb)],
                "kernel": notebook_kernel_name(nb),
                "has_parameters_cell": parameters_cell_index(nb) is not None,
            }

        self.send_json(await self.blocking(inspect))


class KernelsHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        from ..kernels import kernel_inventory

        settings = self.mlops.settings

        def inventory() -> dict[str, Any]:
            return kernel_inventory(
                cache_dir=settings.cache_dir, gpu_inventory=settings.gpu_inventory
            )

        self.send_json(await self.blocking(inventory))


class RunMetricsHandler(MLOpsHandler):
    """The metric keys of a run, each with its latest value and series totals."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        store = self.mlops.store

        def load() -> dict[str, Any]:
            run = store.require_run(run_id)
            return {
                "run_id": run.id,
                "status": run.status,
                "keys": metric_summaries(store, run.id),
            }

        self.send_json(await self.blocking(load))


class MetricSeriesHandler(MLOpsHandler):
    """One metric series of a run, downsampled to at most ``max_points`` points."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, key: str) -> None:
        try:
            max_points = parse_max_points(self.get_argument("max_points", None))
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        store = self.mlops.store

        def load() -> dict[str, Any]:
            store.require_run(run_id)
            series = store.metric_series(run_id, key, max_points)
            if not series["total_points"] and key not in store.metric_keys(run_id):
                raise NotFound(f"run {run_id} has no metric {key!r}")
            return {**series_dict(run_id, series), "max_points": max_points}

        self.send_json(await self.blocking(load))


class MetricsHandler(MLOpsHandler):
    """Series of several runs and keys in one request (overlays, live refresh)."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        run_ids = split_values(self.get_arguments("run"))
        keys = split_values(self.get_arguments("key"), commas=False)
        try:
            max_points = parse_max_points(self.get_argument("max_points", None))
            if not run_ids:
                raise ValueError("give at least one run (run=<id>, repeatable)")
            if not keys:
                raise ValueError("give at least one metric key (key=<key>, repeatable)")
            check_keys(run_ids, "run", MAX_OVERLAY_RUNS)
            check_keys(keys, "key", MAX_OVERLAY_KEYS)
        except ValueError as err:
            raise self.fail(400, str(err)) from None
        bad = [r for r in run_ids if not re.fullmatch(r"[0-9a-f]{1,32}", r)]
        if bad:
            raise self.fail(404, f"no run with id {bad[0]!r}")
        store = self.mlops.store

        def load() -> dict[str, Any]:
            for run_id in run_ids:
                store.require_run(run_id)
            series = [
                series_dict(run_id, store.metric_series(run_id, key, max_points))
                for run_id in run_ids
                for key in keys
            ]
            return {"max_points": max_points, "series": series}

        self.send_json(await self.blocking(load))


def format_event(event: StreamEvent) -> str:
    lines = [f"event: {event.event}"]
    if event.id is not None:
        lines.append(f"id: {event.id}")
    lines.append(f"data: {json.dumps(event.data, default=str)}")
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


class NotFoundHandler(MLOpsHandler):
    """JSON 404 for any other path under ``/mlops/api/`` (not an endpoint, not in the spec)."""

    endpoint: ClassVar[bool] = False

    async def prepare(self) -> None:
        await super().prepare()
        if not self.current_user:
            raise self.fail(403, "authentication required")
        raise self.fail(404, f"no such endpoint: {self.request.path}")


def handlers(base_url: str) -> list[tuple[str, type[MLOpsHandler]]]:
    from jupyter_server.utils import url_path_join

    api = url_path_join(base_url, "mlops", "api")
    run = r"runs/(?P<run_id>[0-9a-f]{1,32})"
    routes: list[tuple[str, type[MLOpsHandler]]] = [
        ("health", HealthHandler),
        ("runs", RunsHandler),
        (run, RunHandler),
        (f"{run}/cancel", CancelHandler),
        (f"{run}/reproduce", ReproduceHandler),
        (f"{run}/diff/(?P<other_id>[0-9a-f]{{1,32}})", RunDiffHandler),
        (f"{run}/artifacts/(?P<name>.+)", ArtifactHandler),
        (f"{run}/notebook", ExecutedNotebookHandler),
        (f"{run}/html", HTMLHandler),
        (f"{run}/metrics", RunMetricsHandler),
        (f"{run}/metrics/(?P<key>.+)", MetricSeriesHandler),
        ("metrics", MetricsHandler),
        ("notebooks/parameters", NotebookParametersHandler),
        ("kernels", KernelsHandler),
        ("events", EventsHandler),
    ]
    return [(url_path_join(api, path), handler) for path, handler in routes] + [
        (url_path_join(api, "(?P<rest>.*)"), NotFoundHandler)
    ]
