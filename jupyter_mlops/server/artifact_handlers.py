"""Downloads of a run's artifacts: any artifact, the executed notebook, its HTML.

Bytes are streamed from the artifact store in chunks read in a thread (never all in
memory), with the artifact's sha256 as ``Etag`` (artifacts are content-addressed, so
``If-None-Match`` answers 304). HTML outputs are untrusted: they are served sandboxed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from pathlib import PurePosixPath
from typing import BinaryIO

import tornado.web
from jupyter_server.auth.decorator import authorized
from tornado.iostream import StreamClosedError

from ..artifacts import BlobStore, open_artifact_store
from ..html_artifact import OUTPUT_HTML, OUTPUT_NOTEBOOK, ensure_html
from ..store import Artifact, RunStatus
from .base import MLOpsHandler, NotFound
from .html_theme import THEMES, dark_theme_suffix
from .models import Notebook
from .spec import FORBIDDEN, IF_NONE_MATCH, NOT_FOUND, RUN_ID, PathItems, path_param, query, ref

log = logging.getLogger("jupyter_mlops.server")

CHUNK = 256 * 1024
SANDBOX_CSP = "sandbox allow-scripts allow-popups; frame-ancestors 'self'"
"""Run outputs are untrusted HTML: shown in a unique origin, they cannot reach the API."""


def content_disposition(kind: str, name: str) -> str:
    """``attachment; filename="x.pt"; filename*=UTF-8''x.pt`` (RFC 6266, any file name)."""
    base = PurePosixPath(name).name or "artifact"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", base)
    quoted = urllib.parse.quote(base, safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


class ArtifactStreamingHandler(MLOpsHandler):
    """Finds a run's artifact and streams its bytes."""

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
        self,
        artifact: Artifact,
        *,
        content_type: str,
        disposition: str | None,
        suffix: bytes = b"",
        variant: str = "",
    ) -> None:
        """Send the artifact's bytes in chunks, read in a thread; never all in memory.
        ``suffix`` is sent after them (its ``variant`` names it in the ``Etag``)."""
        etag = f'"{artifact.sha256}{variant}"'
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
            self.set_header("Content-Length", str(size + len(suffix)))
            if disposition:
                self.set_header("Content-Disposition", disposition)
            while chunk := await asyncio.to_thread(stream.read, CHUNK):
                self.write(chunk)
                await self.flush()
            if suffix:
                self.write(suffix)
        except StreamClosedError:
            return  # the client went away
        finally:
            stream.close()
        self.finish(set_content_type=content_type)


class ArtifactHandler(ArtifactStreamingHandler):
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


class ExecutedNotebookHandler(ArtifactStreamingHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        artifact = await self.load_artifact(run_id, OUTPUT_NOTEBOOK, "executed notebook")
        await self.stream_artifact(artifact, content_type="application/json", disposition=None)


class HTMLHandler(ArtifactStreamingHandler):
    sandboxed_csp = SANDBOX_CSP

    async def load_html(self, run_id: str) -> Artifact:
        """The stored rendering, or one made now from the executed notebook and stored (the
        runner renders only after the terminal status; the first view may come first)."""
        store = self.mlops.store

        def render() -> None:
            store.require_run(run_id)
            try:
                ensure_html(store, self.artifact_store(), run_id, self.mlops.renderer)
            except Exception:  # answered below as "no HTML rendering", as before
                log.exception("rendering the HTML of run %s failed", run_id)

        await self.blocking(render)
        return await self.load_artifact(run_id, OUTPUT_HTML, "HTML rendering")

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        theme = self.get_argument("theme", "light")
        if theme not in THEMES:
            raise self.fail(400, f"theme must be one of {', '.join(THEMES)}, got {theme!r}")
        artifact = await self.load_html(run_id)
        dark = theme == "dark"
        await self.stream_artifact(
            artifact,
            content_type="text/html; charset=utf-8",
            disposition=None,
            suffix=await asyncio.to_thread(dark_theme_suffix) if dark else b"",
            variant="-dark" if dark else "",
        )


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_NOT_MODIFIED = {"description": "Not modified"}

PATHS: PathItems = {
    "/runs/{run_id}/artifacts/{name}": {
        "parameters": [
            RUN_ID,
            path_param(
                "name",
                {"type": "string"},
                "The artifact's name as listed in the run's `artifacts` (may contain `/`).",
            ),
        ],
        "get": {
            "operationId": "downloadArtifact",
            "summary": "Download an artifact, streamed",
            "parameters": [
                query(
                    "inline",
                    {"type": "string", "enum": ["0", "1", "true", "false"]},
                    "`1`: `Content-Disposition: inline` instead of `attachment`.",
                ),
                IF_NONE_MATCH,
            ],
            "responses": {
                "200": {
                    "description": "The bytes, with the artifact's `Content-Type`, "
                    "`Content-Length`, `Content-Disposition` and its sha256 as `Etag`.",
                    "headers": {
                        "Content-Disposition": {"schema": {"type": "string"}},
                        "Etag": {"schema": {"type": "string"}},
                    },
                    "content": {"application/octet-stream": _BINARY, "*/*": _BINARY},
                },
                "304": {"description": "Not modified (the `If-None-Match` etag matches)"},
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/runs/{run_id}/notebook": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "getExecutedNotebook",
            "summary": "The executed notebook (nbformat v4 JSON), outputs and injected "
            "parameters included",
            "parameters": [IF_NONE_MATCH],
            "responses": {
                "200": {
                    "description": "The notebook",
                    "content": {"application/json": {"schema": ref(Notebook)}},
                },
                "304": _NOT_MODIFIED,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
    "/runs/{run_id}/html": {
        "parameters": [RUN_ID],
        "get": {
            "operationId": "getExecutedNotebookHTML",
            "summary": "The executed notebook rendered as HTML (served sandboxed)",
            "parameters": [
                query(
                    "theme",
                    {"type": "string", "enum": ["light", "dark"]},
                    "`dark`: in JupyterLab's dark theme (default `light`).",
                ),
                IF_NONE_MATCH,
            ],
            "responses": {
                "200": {
                    "description": "The HTML page",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                "304": _NOT_MODIFIED,
                "403": FORBIDDEN,
                "404": NOT_FOUND,
            },
        },
    },
}
