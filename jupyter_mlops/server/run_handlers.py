"""Run REST handlers: list and submit, one run, cancel, reproduce, delete, compare.

A submit body is validated by :class:`~jupyter_mlops.server.models.SubmitRequest`
(types, unknown fields); the notebook, its parameters, the kernel and GPUs are checked by
:meth:`JobService.submit` before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..identity import server_user
from ..jobs import RunSpec
from ..serialize import run_summary, stored_detail
from ..snapshot.plumbing import one_discovery
from ..store import RunStatus
from ..store.queries import ParamFilter
from ..verify.inputs import InputsChanged, checks_json
from ..verify.service import VerifyOptions
from .base import APIError, MLOpsHandler
from .events import StreamEvent
from .metric_handlers import (
    MAX_METRIC_COLUMNS,
    _json_number,
    check_keys,
    latest_values,
    split_values,
)
from .models import (
    InputsComparison,
    ReproduceRequest,
    RunDetail,
    RunPage,
    RunSummary,
    SnapshotDiff,
    SubmitRequest,
)
from .search_handlers import SEARCH_ERROR, search_arguments, search_page
from .spec import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    RUN_ID,
    PathItems,
    json_body,
    json_response,
    location,
    path_param,
    query,
    ref,
)

MAX_LIMIT = 500


class RunsHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        search = search_arguments(
            self, self.get_argument("filter", ""), self.get_argument("order_by", "")
        )
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
        notebook = self.get_argument("notebook", None) or None
        filters = {
            "status": statuses,
            "notebook": self.mlops.jobs.notebook_names(notebook) if notebook else None,
            "tags": [t for t in self.get_arguments("tag") if t],
            "params": params,
            "text": self.get_argument("q", "").strip() or None,
            "limit": limit,
            "cursor": self.get_argument("cursor", None) or None,
        }

        def page_response(page: Any) -> dict[str, Any]:
            runs = [run_summary(r) for r in page.runs]
            if columns:
                values = latest_values(store, [r["id"] for r in runs], columns)
                for run in runs:
                    run["metrics"] = values[run["id"]]
            return {"runs": runs, "next_cursor": page.next_cursor}

        if search is not None:
            cursor = filters["cursor"]
            self.send_json(await search_page(self, search, limit, cursor, page_response))
            return

        def load_page() -> dict[str, Any]:
            return page_response(store.search_runs(**filters))

        self.send_json(await self.blocking(load_page, value_errors=True))

    @tornado.web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        request = self.parse_body(SubmitRequest)
        relpath = self.notebook_arg(request.notebook, "notebook")
        spec = RunSpec(
            notebook=relpath,
            source="ui",
            submitted_by=server_user(self.current_user),
            **request.run_fields(),
        )

        def submit() -> Any:
            """In one thread, finding the notebook's repository once (a 404 first)."""
            with one_discovery():
                self.resolve_existing_notebook(relpath)
                return self.mlops.jobs.submit(spec)

        submission = await self.blocking(submit, value_errors=True)
        self.set_header("Location", self.run_url(submission.run.id))
        self.send_json(run_summary(submission.run), status=201)


def stored_run_detail(store: Any, run_id: str, root_dir: Path | None = None) -> dict[str, Any]:
    """:func:`run_detail` of a stored run, with its events, artifacts, environment and
    latest metric values; ``notebook_in_root`` is where the notebook is under ``root_dir``
    (JupyterLab opens files by that path, the run's name may be repository-relative)."""
    run = store.require_run(run_id)
    detail = stored_detail(store, run)
    detail["metrics"] = {key: _json_number(value) for key, value in detail["metrics"].items()}
    abspath = Path(run.notebook_abspath or run.notebook_path)
    if root_dir is not None and abspath.is_absolute() and abspath.is_relative_to(root_dir):
        detail["notebook_in_root"] = abspath.relative_to(root_dir).as_posix()
    return detail


class RunHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        root = self.mlops.jobs.root_dir
        self.send_json(await self.blocking(stored_run_detail, self.mlops.store, run_id, root))

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
        request = ReproduceRequest()
        if self.request.body and self.request.body.strip():
            request = self.parse_body(ReproduceRequest)
        jobs = self.mlops.jobs

        def reproduce() -> Any:
            return jobs.reproduce(
                run_id,
                parameters=request.parameters or {},
                verify=verify_options(request, jobs.settings) if request.verify else None,
                submitted_by=server_user(self.current_user),
            )

        try:
            submission = await self.blocking(reproduce)
        except InputsChanged as err:  # before anything ran: which inputs, and why
            raise APIError(409, str(err), inputs=checks_json(err.checks)) from None
        self.set_header("Location", self.run_url(submission.run.id))
        self.send_json(run_summary(submission.run), status=201)


def verify_options(request: ReproduceRequest, settings: Any) -> VerifyOptions:
    """The verification a reproduce request asks for; a bad regex is a 400."""
    try:
        return VerifyOptions.with_patterns(
            settings.verify_normalize,
            request.normalize,
            rtol=request.rtol,
            atol=request.atol,
            allow_changed_inputs=request.allow_changed_inputs,
            strict_env=request.strict_env,
        )
    except ValueError as err:
        raise APIError(400, str(err)) from None


class InputDriftHandler(MLOpsHandler):
    """Two runs' inputs side by side, drift per column (for the compare view)."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, other_id: str) -> None:
        from ..input_compare import compare_inputs

        self.send_json(await self.blocking(compare_inputs, self.mlops.store, run_id, other_id))


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


_RUN_ID_TEXT = {"type": "string", "pattern": "^[0-9a-f]{1,32}$"}
_NEW_RUN = {"201": json_response("The run was queued", RunSummary, headers=location("run"))}


def _array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", **extra, "items": items}


PATHS: PathItems = {
    "/runs": {
        "get": {
            "operationId": "listRuns",
            "summary": "Runs, newest first, filtered and cursor-paginated",
            "description": "With `filter` or `order_by`, the run search language (MLflow's "
            "`search_runs` syntax): `params.lr = 0.05 and metrics.val/loss < 0.2 and "
            "tags.team = 'nlp' and status = 'failed'`; operators `= != < <= > >= LIKE ILIKE "
            "IN (...) NOT IN (...) IS NULL IS NOT NULL`, `AND`, `OR`, parentheses; a number "
            "compares numerically with numeric parameters, a 'string' with the parameter's "
            "text. Names with other characters than letters, digits, `_ / . - :` go in "
            "backticks or double quotes. Neither combines with status, notebook, tag, param "
            "or q (write those into filter).",
            "parameters": [
                query(
                    "filter",
                    {"type": "string", "maxLength": 4000},
                    "Run search filter, e.g. `params.steps = 60 and status = 'failed'`.",
                ),
                query(
                    "order_by",
                    {"type": "string", "maxLength": 300},
                    "One attribute (status, notebook, kernel, created, started, finished, "
                    "duration, id...), `params.NAME` or `metrics.NAME` (latest value), then "
                    "ASC (default) or DESC. NULLs (missing values) come last either way; ties "
                    "by run id. Default: newest first.",
                ),
                query(
                    "status",
                    _array(ref("RunStatus")),
                    "Keep runs with any of these statuses (repeat, or comma-separate).",
                ),
                query(
                    "notebook",
                    {"type": "string"},
                    "Exact notebook path (relative to the root, or absolute).",
                ),
                query(
                    "tag",
                    _array({"type": "string"}),
                    "Keep runs that carry every one of these tags (repeatable).",
                ),
                query(
                    "param",
                    _array({"type": "string", "pattern": "^[^:]+:.*$"}),
                    "`name:value`: the run's parameter `name` equals the JSON `value` "
                    "(`lr:0.5`, `layers:[1,2]`; text that is not JSON is a string; `1` "
                    "matches `1.0`). Repeatable; all must match.",
                ),
                query(
                    "q",
                    {"type": "string"},
                    "Case-insensitive substring of the notebook path, the run id or a tag.",
                ),
                query(
                    "limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}
                ),
                query("cursor", {"type": "string"}, "The `next_cursor` of the previous page."),
                query(
                    "metrics",
                    _array({"type": "string", "maxLength": 255}, maxItems=MAX_METRIC_COLUMNS),
                    "Metric keys whose latest values each run should carry in `metrics` (for "
                    "metric columns); repeat, or comma-separate (so a key with a comma cannot "
                    "be a column); at most 20. Without it, runs have no `metrics` field. The "
                    "order stays newest first: sort a page by a metric on the client.",
                ),
            ],
            "responses": {
                "200": json_response("One page of runs", RunPage),
                "400": SEARCH_ERROR,
                "403": FORBIDDEN,
            },
        },
        "post": {
            "operationId": "submitRun",
            "summary": "Submit a notebook as a run",
            "description": "Validates the notebook, parameters, kernel and GPUs, snapshots "
            "the notebook with git, records the run as `queued` and starts its runner; "
            "answers without waiting for the run. Follow it with `GET /runs/{run_id}` or the "
            "event stream.",
            "requestBody": json_body(SubmitRequest),
            "responses": {**_NEW_RUN, "400": BAD_REQUEST, "403": FORBIDDEN, "404": NOT_FOUND},
        },
    },
    "/runs/{run_id}": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "getRun",
            "summary": "Everything about one run",
            "responses": {
                "200": json_response("The run", RunDetail),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
        "delete": {
            "operationId": "deleteRun",
            "summary": "Delete a finished run (row, snapshot ref, run directory)",
            "responses": {
                "204": {"description": "Deleted"},
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": CONFLICT,
            },
        },
    },
    "/runs/{run_id}/cancel": {
        "parameters": [RUN_ID],
        "post": {
            "operationId": "cancelRun",
            "summary": "Cancel a queued or running run",
            "description": "A queued run is cancelled at once; a running one is asked to stop "
            "and reaches `cancelled` shortly after (watch the event stream).",
            "responses": {
                "200": json_response("The run as it is now", RunSummary),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": CONFLICT,
            },
        },
    },
    "/runs/{run_id}/reproduce": {
        "parameters": [RUN_ID],
        "post": {
            "operationId": "reproduceRun",
            "summary": "Run again with the same commit, parameters, seed, kernel, GPUs and tags",
            "description": "Secret parameters (masked as `***`) were never stored: give their "
            "values again in the body, or set them in the server's environment. With `verify`, a "
            "recorded input (dataset, commit, kernel) that changed or is missing is a 409 whose "
            "message names it and whose `inputs` give a reason per input; nothing is written or "
            "run.",
            "requestBody": {**json_body(ReproduceRequest), "required": False},
            "responses": {
                "201": json_response("The new run was queued", RunSummary, headers=location("run")),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": CONFLICT,
            },
        },
    },
    "/runs/{run_id}/input-drift/{other_id}": {
        "parameters": [
            RUN_ID,
            path_param("other_id", _RUN_ID_TEXT, "The run to compare against."),
        ],
        "get": {
            "operationId": "compareRunInputs",
            "summary": "Two runs' inputs side by side: same hash or changed, with drift (PSI, "
            "KS) per column of changed tables",
            "responses": {
                "200": json_response("The comparison", InputsComparison),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/runs/{run_id}/diff/{other_id}": {
        "parameters": [
            RUN_ID,
            path_param("other_id", _RUN_ID_TEXT, "The run to compare against."),
        ],
        "get": {
            "operationId": "diffRunSnapshots",
            "summary": "Code difference between two runs' snapshots (tree equality, files, "
            "notebook)",
            "responses": {
                "200": json_response("The difference", SnapshotDiff),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
