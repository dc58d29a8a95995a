"""``GET /runs/{id}/code``: the notebook as the run's snapshot holds it ("Open this run's
code"), read from the snapshot commit with git plumbing, not today's file on disk."""

from __future__ import annotations

import json
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from .base import MLOpsHandler, NotFound
from .models import Notebook
from .spec import FORBIDDEN, NOT_FOUND, RUN_ID, PathItems, ref


def snapshot_notebook(store: Any, run_id: str) -> dict[str, Any]:
    """The run's notebook at its snapshot commit (nbformat JSON)."""
    from ..snapshot.plumbing import SnapshotError
    from ..snapshot.reading import read_file_at

    run = store.require_run(run_id)
    if not run.commit_sha:
        raise NotFound(f"run {run_id} was logged interactively and has no snapshot")
    try:
        data = read_file_at(run.git_dir, run.commit_sha, run.notebook_relpath)
        return json.loads(data)
    except (SnapshotError, OSError, ValueError) as err:
        raise NotFound(
            f"the snapshot {run.commit_sha[:12]} of run {run_id} cannot be read here "
            f"({run.git_dir}): {err}"
        ) from None


class RunCodeHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.send_json(await self.blocking(snapshot_notebook, self.mlops.store, run_id))


PATHS: PathItems = {
    "/runs/{run_id}/code": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "getRunCode",
            "summary": "The notebook as the run's snapshot commit holds it (before execution)",
            "responses": {
                "200": {
                    "description": "The notebook (nbformat v4 JSON)",
                    "content": {"application/json": {"schema": ref(Notebook)}},
                },
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
