"""Dataset and lineage REST handlers: the datasets runs read, a run's lineage, and the
lineage of some content by sha256 (see :mod:`jupyter_mlops.lineage`)."""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..lineage import UnknownContent, content_lineage, known_datasets, run_lineage
from .base import MLOpsHandler, NotFound
from .models import ContentLineage, DatasetList, RunLineage
from .spec import BAD_REQUEST, FORBIDDEN, NOT_FOUND, RUN_ID, PathItems, json_response, path_param


class DatasetsHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.send_json(await self.blocking(known_datasets, self.mlops.store))


class RunLineageHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.send_json(await self.blocking(run_lineage, self.mlops.store, run_id))


class ContentLineageHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, sha256: str) -> None:
        store = self.mlops.store

        def lookup() -> dict[str, object]:
            try:
                return content_lineage(store, sha256)
            except UnknownContent as err:
                raise NotFound(str(err)) from None

        self.send_json(await self.blocking(lookup, value_errors=True))


PATHS: PathItems = {
    "/datasets": {
        "get": {
            "operationId": "listDatasets",
            "summary": "Datasets runs read, their versions (content hashes) and the runs of each",
            "responses": {
                "200": json_response("The datasets, most recently used first", DatasetList),
                "403": FORBIDDEN,
            },
        }
    },
    "/runs/{run_id}/lineage": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "getRunLineage",
            "summary": "The run's commit, inputs (with other runs and versions of the same "
            "data, and the runs that produced it) and outputs (with the runs that read them)",
            "responses": {
                "200": json_response("The lineage", RunLineage),
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/lineage/{sha256}": {
        "parameters": [
            path_param(
                "sha256",
                {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "Content hash of a dataset version, an artifact or a model.",
            )
        ],
        "get": {
            "operationId": "getContentLineage",
            "summary": "The runs that produced and that read content with this hash",
            "responses": {
                "200": json_response("Producers and readers", ContentLineage),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
