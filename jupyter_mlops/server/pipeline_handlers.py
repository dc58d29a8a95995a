"""REST handlers for notebook pipelines under ``/mlops/api/pipelines``.

* ``GET  /mlops/api/pipelines``              pipeline runs, newest first
* ``POST /mlops/api/pipelines``              run a pipeline file (201, the run and its steps)
* ``GET  /mlops/api/pipelines/file?path=``   a pipeline file's steps (the Run Pipeline form)
* ``GET  /mlops/api/pipelines/{id}``         one run with its steps (status, run, cached)
* ``POST /mlops/api/pipelines/{id}/resume``  re-run its failed, cancelled and skipped steps

Authenticated and authorized like the rest (running and resuming need ``execute``);
validation and store work run in threads. An invalid pipeline file is a 400 whose
``problems`` lists every problem. The server advances unfinished pipeline runs itself
(see :mod:`jupyter_mlops.server.app`), so a run started here goes on without a client.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..pipelines.orchestrator import PipelineAdvancer, PipelineBusy, resume_pipeline
from ..pipelines.report import pipeline_detail, pipeline_summaries
from ..pipelines.spec import PipelineInvalid
from ..store.pipelines import PipelineNotFound
from .base import APIError, MLOpsHandler, NotFound
from .models.pipelines import PipelineFile, PipelineRequest, PipelineRunDetail, PipelineRunList
from .spec import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    PathItems,
    json_body,
    json_response,
    location,
    path_param,
    query,
)

PIPELINE_SUFFIXES = (".yaml", ".yml")


def problems_by_place(problems: list[str]) -> dict[str, str]:
    """The ``problems`` object of the error: where (``steps.train.parameters``) -> what
    (several at one place joined with ``; ``), as a form highlights fields."""
    out: dict[str, str] = {}
    for problem in problems:
        where, sep, what = problem.partition(": ")
        where, what = (where, what) if sep else ("file", problem)
        out[where] = f"{out[where]}; {what}" if where in out else what
    return out


class PipelineAPIHandler(MLOpsHandler):
    @property
    def advancer(self) -> PipelineAdvancer:
        return self.settings["mlops_pipelines"]

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        def work() -> Any:
            return fn(*args, **kwargs)

        try:
            return await self.blocking(work, value_errors=False)
        except PipelineInvalid as err:
            raise APIError(400, str(err), problems=problems_by_place(err.problems)) from None
        except PipelineNotFound as err:
            raise APIError(404, str(err.args[0])) from None
        except PipelineBusy as err:
            raise APIError(409, str(err)) from None

    def detail(self, pipeline_id: str) -> dict[str, Any]:
        store = self.advancer.store
        data = pipeline_detail(store, store.require(pipeline_id))
        return PipelineRunDetail.model_validate(data).model_dump()

    def pipeline_path(self, raw: str) -> str:
        if "\x00" in raw:
            raise self.fail(400, "pipeline must not contain NUL characters")
        if ".." in PurePosixPath(raw.replace("\\", "/")).parts:
            raise self.fail(403, f"pipeline {raw!r} must not contain '..': paths stay in the root")
        if not raw.endswith(PIPELINE_SUFFIXES):
            raise self.fail(400, f"pipeline {raw!r} is not a pipeline file (.yaml or .yml)")
        return raw.lstrip("/")

    def pipeline_file(self, raw: str) -> tuple[str, Path]:
        """(the path relative to the root, the file) of an existing pipeline file."""
        relpath = self.pipeline_path(raw)
        root = self.advancer.jobs.root_dir
        assert root is not None
        path = (root / relpath).resolve()
        if not path.is_relative_to(root):
            raise self.fail(403, f"pipeline {relpath!r} is outside the server's root directory")
        if not path.is_file():
            raise APIError(404, str(NotFound(f"no pipeline file {relpath!r} in the server's root")))
        return relpath, path


class PipelinesHandler(PipelineAPIHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        store = self.advancer.store
        rows = await self.call(lambda: pipeline_summaries(store, store.list()))
        data = {"pipelines": rows}
        self.send_json(PipelineRunList.model_validate(data).model_dump())

    @tornado.web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        from jupyter_server.utils import url_path_join

        from ..pipelines.steps import start_pipeline

        request = self.parse_body(PipelineRequest)
        relpath, path = self.pipeline_file(request.pipeline)
        jobs = self.advancer.jobs

        def start() -> dict[str, Any]:
            run = start_pipeline(
                jobs,
                path,
                typed=request.parameters,
                no_cache=request.no_cache,
                source="ui",
                display=relpath,
            )
            self.advancer.advance_once(run.id)  # start what is ready (the upkeep goes on)
            return self.detail(run.id)

        detail = await self.call(start)
        self.set_header(
            "Location", url_path_join(self.base_url, "mlops", "api", "pipelines", detail["id"])
        )
        self.send_json(detail, status=201)


class PipelineFileHandler(PipelineAPIHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        from ..pipelines.file_steps import describe_pipeline_file

        relpath, path = self.pipeline_file(self.get_argument("path", ""))
        data = await self.call(describe_pipeline_file, path, relpath)
        self.send_json(PipelineFile.model_validate(data).model_dump())


class PipelineHandler(PipelineAPIHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, pipeline_id: str) -> None:
        self.send_json(await self.call(self.detail, pipeline_id))


class PipelineResumeHandler(PipelineAPIHandler):
    @tornado.web.authenticated
    @authorized("execute")
    async def post(self, pipeline_id: str) -> None:
        def resume() -> dict[str, Any]:
            resume_pipeline(self.advancer, pipeline_id, wait=False)
            self.advancer.advance_once(pipeline_id)
            return self.detail(pipeline_id)

        self.send_json(await self.call(resume))


def pipeline_handlers(base_url: str) -> list[tuple[str, type[MLOpsHandler]]]:
    """The pipeline routes; register them before ``handlers()`` (its catch-all 404)."""
    from jupyter_server.utils import url_path_join

    api = url_path_join(base_url, "mlops", "api")
    one = r"pipelines/(?P<pipeline_id>pl-[0-9a-f]{1,29})"
    routes: list[tuple[str, type[MLOpsHandler]]] = [
        ("pipelines", PipelinesHandler),
        ("pipelines/file", PipelineFileHandler),
        (one, PipelineHandler),
        (f"{one}/resume", PipelineResumeHandler),
    ]
    return [(url_path_join(api, path), handler) for path, handler in routes]


PIPELINE_ID = path_param(
    "pipeline_id", {"type": "string", "pattern": "^pl-[0-9a-f]{1,29}$"}, "A pipeline run id."
)

PATHS: PathItems = {
    "/pipelines": {
        "get": {
            "operationId": "listPipelines",
            "summary": "Pipeline runs, newest first",
            "responses": {
                "200": json_response("The pipeline runs", PipelineRunList),
                "403": FORBIDDEN,
            },
        },
        "post": {
            "operationId": "runPipeline",
            "summary": "Run a pipeline file (pipeline.yaml)",
            "description": "Snapshots the repository once and validates the whole file "
            "against that commit before anything runs: a 400 lists every problem in "
            "`problems`. Each step becomes an ordinary run (tagged `pipeline=ID` and "
            "`pipeline-step=NAME`: the runs table finds them with `tags.pipeline = 'ID'`); steps "
            "whose inputs did not change are served from the step cache. Needs `execute`.",
            "requestBody": json_body(PipelineRequest),
            "responses": {
                "201": json_response(
                    "The pipeline run started", PipelineRunDetail, headers=location("pipeline run")
                ),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/pipelines/file": {
        "get": {
            "operationId": "describePipelineFile",
            "summary": "A pipeline file's steps, notebooks and values (the Run Pipeline form)",
            "description": "Reads the file as it is on disk (nothing is snapshot or run); "
            "a file that is not a valid pipeline is a 400 listing every problem.",
            "parameters": [
                query(
                    "path",
                    {"type": "string"},
                    "Pipeline file path relative to the server's root.",
                    required=True,
                )
            ],
            "responses": {
                "200": json_response("The pipeline file's steps", PipelineFile),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/pipelines/{pipeline_id}": {
        "parameters": [PIPELINE_ID],
        "get": {
            "operationId": "getPipeline",
            "summary": "A pipeline run and its steps (status, run, cached from where)",
            "responses": {
                "200": json_response("The pipeline run", PipelineRunDetail),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/pipelines/{pipeline_id}/resume": {
        "parameters": [PIPELINE_ID],
        "post": {
            "operationId": "resumePipeline",
            "summary": "Run the failed, cancelled and skipped steps again",
            "description": "Succeeded and cached steps are reused. 409 while another live "
            "process advances the run. Needs `execute`.",
            "responses": {
                "200": json_response("The pipeline run, resumed", PipelineRunDetail),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
                "409": CONFLICT,
            },
        },
    },
}
