"""What the server knows besides runs: its health, the kernels and GPUs, a notebook's
parameters (for the Run-as-job dialog)."""

from __future__ import annotations

from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..exports import __version__
from .base import MLOpsHandler
from .models import Health, Kernels, NotebookParameters
from .spec import BAD_REQUEST, FORBIDDEN, NOT_FOUND, PathItems, json_response, query


class HealthHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        runs = await self.blocking(self.mlops.store.count_runs)
        self.send_json(Health(status="ok", version=__version__, runs=runs))


class NotebookParametersHandler(MLOpsHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        relpath = self.notebook_arg(self.get_argument("path", ""), "path")

        def inspect() -> dict[str, Any]:
            from ..notebook.inspection import inspect_parameters_leniently, parameters_cell_index
            from ..notebook.reading import notebook_kernel_name, read_notebook

            path, display = self.resolve_existing_notebook(relpath)
            nb = read_notebook(path)
            inspection = inspect_parameters_leniently(nb)  # one bad line is not a 400
            found: dict[str, Any] = {
                "path": display,
                "parameters": [p.to_dict() for p in inspection.parameters],
                "kernel": notebook_kernel_name(nb),
                "has_parameters_cell": parameters_cell_index(nb) is not None,
            }
            if inspection.problems:  # absent when every line was read, as before
                found["problems"] = inspection.problems
            return found

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


PATHS: PathItems = {
    "/health": {
        "get": {
            "operationId": "getHealth",
            "summary": "Liveness of the extension and its run store",
            "responses": {"200": json_response("The extension is up", Health), "403": FORBIDDEN},
        },
    },
    "/notebooks/parameters": {
        "get": {
            "operationId": "inspectNotebookParameters",
            "summary": "The parameters a notebook declares (its cell tagged `parameters`)",
            "parameters": [
                query(
                    "path",
                    {"type": "string"},
                    "Notebook path relative to the server's root.",
                    required=True,
                )
            ],
            "responses": {
                "200": json_response("The notebook's parameters", NotebookParameters),
                "400": BAD_REQUEST,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/kernels": {
        "get": {
            "operationId": "listKernels",
            "summary": "Installed kernels and this machine's GPUs",
            "responses": {"200": json_response("Kernels and GPUs", Kernels), "403": FORBIDDEN},
        },
    },
}
