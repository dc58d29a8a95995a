"""The REST API under ``/mlops/api/``, end to end through a real jupyter server.

Real git snapshots, real detached runners, real kernels. Each test shares one server
and does several things with it, because every real run costs a few seconds. Every
response checked here is also validated against ``jupyter_mlops/server/openapi.yaml``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import tornado.web
import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from jupyter_mlops.server.routes import handlers
from jupyter_mlops.server.schedule_handlers import schedule_handlers
from jupyter_mlops.server.stream_handlers import EventsHandler

from .conftest import NOTEBOOKS, extension_server_config, use_data_dir
from .test_queue import where_it_stands

SPEC_PATH = Path(__file__).parent.parent / "jupyter_mlops" / "server" / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out", "lost"}
MISSING_ID = "0123456789ab"


# -- the OpenAPI description ----------------------------------------------------------------


def spec_routes() -> dict[str, set[str]]:
    return {path: {m for m in item if m in HTTP_METHODS} for path, item in SPEC["paths"].items()}


def server_routes() -> dict[str, type[tornado.web.RequestHandler]]:
    """``handlers()`` as OpenAPI path templates (``runs/(?P<run_id>...)`` -> ``/runs/{run_id}``)."""
    routes = {}
    for pattern, handler in [*schedule_handlers("/"), *handlers("/")]:
        if not handler.endpoint:
            continue
        path = pattern.removeprefix("/mlops/api")
        routes[re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)] = handler
    return routes


def implemented_methods(handler: type[tornado.web.RequestHandler]) -> set[str]:
    return {
        m for m in HTTP_METHODS if getattr(handler, m) is not getattr(tornado.web.RequestHandler, m)
    }


def spec_parameters(path: str, method: str, where: str) -> set[str]:
    item = SPEC["paths"][path]
    params = [*item.get("parameters", []), *item[method].get("parameters", [])]
    resolved = [resolve(p) for p in params]
    return {p["name"] for p in resolved if p["in"] == where}


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_openapi_spec_is_valid_and_matches_the_routes() -> None:
    validate_spec(SPEC)
    routes = server_routes()
    assert {p: implemented_methods(h) for p, h in routes.items()} == spec_routes()
    for path, handler in routes.items():
        path_args = set(re.findall(r"{(\w+)}", path))
        for method in implemented_methods(handler):
            assert spec_parameters(path, method, "path") == path_args, (path, method)
            source = inspect.getsource(getattr(handler, method))
            used = set(re.findall(r"get_arguments?\(\s*\"(\w+)\"", source))
            assert used == spec_parameters(path, method, "query"), (path, method)
            for status, response in SPEC["paths"][path][method]["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status), (path, method, status)
                assert "description" in resolve(response)


def check(resp: Any, path: str, method: str) -> Any:
    """Validate a response against the spec; returns its parsed JSON (or None)."""
    operation = SPEC["paths"][path][method.lower()]
    assert str(resp.code) in operation["responses"], (path, method, resp.code, resp.body)
    response = resolve(operation["responses"][str(resp.code)])
    content = response.get("content")
    if not content:
        assert not resp.body
        return None
    media = resp.headers["Content-Type"].split(";")[0].strip()
    assert media in content or "*/*" in content, (path, media)
    if media != "application/json":
        return None
    data = json.loads(resp.body)
    schema = {**content[media]["schema"], "components": SPEC["components"]}
    OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER).validate(data)
    return data


def documented_keys(name: str) -> set[str]:
    schema = SPEC["components"]["schemas"][name]
    keys: set[str] = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        keys |= set(resolve(part).get("properties", {}))
    return keys


# -- a server with the extension, a git project in its root ----------------------------------


@pytest.fixture
def mlops_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUPYTER_MLOPS_FAKE_GPUS", "Test GPU")
    return use_data_dir(tmp_path / "mlops-data", monkeypatch)


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path, tmp_path: Path) -> dict[str, Any]:
    """The extension on; a git repository with the fixture notebooks as the root."""
    root = jp_root_dir
    shutil.copytree(NOTEBOOKS, root / "notebooks")
    (root / "helpers.py").write_text("ANSWER = 42\n")
    outside = tmp_path / "outside.ipynb"
    shutil.copy(NOTEBOOKS / "trivial.ipynb", outside)
    (root / "link.ipynb").symlink_to(outside)
    return extension_server_config(root)


@pytest.fixture
def api(jp_fetch: Any, mlops: Any) -> Any:
    async def call(
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        expect: int = 200,
        spec_path: str | None = None,
    ) -> Any:
        """Call ``/mlops/api{path}``, assert the status, validate against ``spec_path``."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = b""
        resp = await jp_fetch(
            "mlops",
            "api",
            *path.strip("/").split("/"),
            method=method,
            body=body,
            params=params,
            headers=headers,
            raise_error=False,
        )
        assert resp.code == expect, (method, path, resp.code, resp.body[:2000])
        if spec_path is not None:
            resp.data = check(resp, spec_path, method)
        elif resp.headers.get("Content-Type", "").startswith("application/json") and resp.body:
            resp.data = json.loads(resp.body)
        else:
            resp.data = None
        if resp.code >= 400:
            assert set(resp.data) >= {"message", "status"}
            assert resp.data["status"] == resp.code
            assert "Traceback" not in resp.data["message"]
        return resp

    return call


async def not_found_message(api: Any, path: str, spec_path: str, params: Any = None) -> str:
    """The message of the 404 (as the spec documents it) that ``GET path`` must get."""
    return (await api("GET", path, params=params, expect=404, spec_path=spec_path)).data["message"]


async def wait_for_status(api: Any, run_id: str, wanted: set[str], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        detail = (await api("GET", f"/runs/{run_id}", spec_path="/runs/{run_id}")).data
        if detail["status"] in wanted:
            return detail
        assert detail["status"] not in TERMINAL, detail
        assert time.monotonic() < deadline, f"run {run_id} still {detail['status']}"
        await asyncio.sleep(0.25)


async def wait_until(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


# -- an event-stream client ---------------------------------------------------------------


class EventStream:
    """A raw HTTP/1.0 connection to ``/mlops/api/events`` (so the stream is not chunked)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.comments: list[str] = []
        self.status = 0
        self.headers: dict[str, str] = {}

    @classmethod
    async def open(
        cls, port: int, base_url: str, token: str, extra: dict[str, str] | None = None
    ) -> EventStream:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        lines = [
            f"GET {base_url.rstrip('/')}/mlops/api/events HTTP/1.0",
            f"Host: 127.0.0.1:{port}",
            f"Authorization: token {token}",
            "Accept: text/event-stream",
            *(f"{k}: {v}" for k, v in (extra or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        stream = cls(reader, writer)
        status_line = (await reader.readline()).decode()
        stream.status = int(status_line.split()[1])
        while (line := (await reader.readline()).decode().strip()) != "":
            key, _, value = line.partition(":")
            stream.headers[key.strip().lower()] = value.strip()
        return stream

    async def next_event(self) -> dict[str, Any]:
        event: dict[str, Any] = {}
        while True:
            raw = await self.reader.readline()
            if not raw:
                raise EOFError("the event stream ended")
            line = raw.decode().rstrip("\n")
            if line == "":
                if event:
                    return event
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            key, _, value = line.partition(": ")
            event[key] = json.loads(value) if key == "data" else value

    async def wait_for(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            while True:
                event = await self.next_event()
                if predicate(event):
                    return event

        return await asyncio.wait_for(scan(), timeout)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


def run_event_for(run_id: str, status: str | None = None) -> Any:
    def match(event: dict[str, Any]) -> bool:
        data = event.get("data") or {}
        return (
            event.get("event") == "run"
            and data.get("id") == run_id
            and (status is None or data.get("status") == status)
        )

    return match


# -- tests --------------------------------------------------------------------------------


async def test_kernels_say_which_can_use_cuda(api: Any) -> None:
    """The kernel list tells the dialog whether each kernel's Python sees CUDA: the
    answer of torch in that interpreter, probed once and then served from the cache."""
    import torch

    first = (await api("GET", "/kernels", spec_path="/kernels")).data
    cuda = {k["name"]: k["cuda"] for k in first["kernels"]}["python3"]
    assert cuda is not None
    assert cuda["torch"] == str(torch.__version__)
    assert cuda["cuda"] is torch.cuda.is_available()
    assert len(cuda["devices"]) == (torch.cuda.device_count() if cuda["cuda"] else 0)

    again = (await api("GET", "/kernels", spec_path="/kernels")).data
    cached = {k["name"]: k["cuda"] for k in again["kernels"]}["python3"]
    assert cached["cached"] is True
    assert {k: v for k, v in cached.items() if k != "cached"} == {
        k: v for k, v in cuda.items() if k != "cached"
    }


async def test_submit_run_inspect_download_reproduce_delete(api: Any, mlops: Any) -> None:
    health = (await api("GET", "/health", spec_path="/health")).data
    assert health["status"] == "ok" and health["runs"] == 0

    kernels = (await api("GET", "/kernels", spec_path="/kernels")).data
    assert "python3" in {k["name"] for k in kernels["kernels"]}
    assert kernels["default_kernel"] == "python3"
    assert [g["name"] for g in kernels["gpus"]] == ["Test GPU"]

    inspected = (
        await api(
            "GET",
            "/notebooks/parameters",
            params={"path": "notebooks/params.ipynb"},
            spec_path="/notebooks/parameters",
        )
    ).data
    assert inspected["has_parameters_cell"] is True
    assert inspected["kernel"] == "python3"
    by_name = {p["name"]: p for p in inspected["parameters"]}
    assert list(by_name) == ["lr", "epochs", "layers", "name", "seed"]
    assert by_name["lr"]["type_name"] == "float" and by_name["lr"]["help"] == "learning rate"
    assert by_name["layers"]["default"] == [64, 32]
    plain = (
        await api(
            "GET",
            "/notebooks/parameters",
            params={"path": "/notebooks/no_params.ipynb"},
            spec_path="/notebooks/parameters",
        )
    ).data
    assert plain == {
        "path": "notebooks/no_params.ipynb",
        "parameters": [],
        "kernel": "python3",
        "has_parameters_cell": False,
    }

    submitted = await api(
        "POST",
        "/runs",
        body={
            "notebook": "notebooks/params.ipynb",
            "parameters": {"lr": 0.5, "epochs": 5, "layers": [1, 2], "name": "rest"},
            "tags": ["rest", "first"],
            "seed": 7,
        },
        expect=201,
        spec_path="/runs",
    )
    run = submitted.data
    assert set(run) == documented_keys("RunSummary")
    assert run["status"] in ("queued", "starting")  # answered without waiting for the run
    assert run["source"] == "ui" and run["seed"] == 7 and run["tags"] == ["first", "rest"]
    assert run["parameters"] == {
        "lr": 0.5,
        "epochs": 5,
        "layers": [1, 2],
        "name": "rest",
        "seed": 7,
    }
    assert submitted.headers["Location"].endswith(f"/mlops/api/runs/{run['id']}")
    other = (
        await api(
            "POST",
            "/runs",
            body={"notebook": "notebooks/trivial.ipynb", "tags": ["other"], "timeout": 120},
            expect=201,
            spec_path="/runs",
        )
    ).data

    detail = await wait_for_status(api, run["id"], TERMINAL)
    assert detail["status"] == "succeeded", detail["status_reason"]
    assert set(detail) == documented_keys("RunDetail")
    assert detail["parameter_types"]["epochs"] == "int"
    assert detail["cells_done"] == detail["cells_total"] == 4
    assert [e["status"] for e in detail["status_history"]] == [
        "queued",
        "starting",
        "running",
        "succeeded",
    ]
    artifacts = {a["name"]: a for a in detail["artifacts"]}
    # output.html is rendered after the terminal status (tests/test_html_after_status.py)
    assert {"output.ipynb", "runner.log"} <= set(artifacts)
    other_detail = await wait_for_status(api, other["id"], TERMINAL)
    assert other_detail["status"] == "succeeded", other_detail["status_reason"]

    # list, filters, pagination
    everything = (await api("GET", "/runs", spec_path="/runs")).data
    assert [r["id"] for r in everything["runs"]] == [other["id"], run["id"]]
    assert everything["next_cursor"] is None

    async def ids(*params: tuple[str, str]) -> list[str]:
        page = (await api("GET", "/runs", params=list(params), spec_path="/runs")).data
        return [r["id"] for r in page["runs"]]

    assert await ids(("status", "succeeded")) == [other["id"], run["id"]]
    assert await ids(("status", "failed"), ("status", "running")) == []
    assert await ids(("status", "failed,succeeded")) == [other["id"], run["id"]]
    assert await ids(("tag", "rest")) == [run["id"]]
    assert await ids(("tag", "rest"), ("tag", "other")) == []
    assert await ids(("notebook", "notebooks/trivial.ipynb")) == [other["id"]]
    assert await ids(("param", "lr:0.5")) == [run["id"]]
    assert await ids(("param", "epochs:5.0"), ("param", "name:rest")) == [run["id"]]
    assert await ids(("param", "layers:[1, 2]")) == [run["id"]]
    assert await ids(("param", 'name:"rest"')) == [run["id"]]
    assert await ids(("param", "epochs:6")) == []
    assert await ids(("q", "TRIVIAL")) == [other["id"]]
    assert await ids(("q", run["id"][:6])) == [run["id"]]
    assert await ids(("q", "firs")) == [run["id"]]
    assert await ids(("q", "%")) == []
    first = (await api("GET", "/runs", params={"limit": "1"}, spec_path="/runs")).data
    assert [r["id"] for r in first["runs"]] == [other["id"]] and first["next_cursor"]
    second = (
        await api(
            "GET", "/runs", params={"limit": "1", "cursor": first["next_cursor"]}, spec_path="/runs"
        )
    ).data
    assert [r["id"] for r in second["runs"]] == [run["id"]]
    assert second["next_cursor"] is None

    # the executed notebook, with the injected parameters
    executed = await api("GET", f"/runs/{run['id']}/notebook", spec_path="/runs/{run_id}/notebook")
    nb = executed.data
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    source = "".join(injected[0]["source"])
    assert "lr = 0.5" in source and 'name = "rest"' in source and "seed = 7" in source
    outputs = json.dumps([c.get("outputs") for c in nb["cells"]])
    assert "'lr': 0.5" in outputs and "'seed': 7" in outputs
    assert executed.headers["Etag"] == f'"{artifacts["output.ipynb"]["sha256"]}"'

    html = await api("GET", f"/runs/{run['id']}/html", spec_path="/runs/{run_id}/html")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<html" in html.body[:2000].lower() and b"rest" in html.body
    assert "sandbox" in html.headers["Content-Security-Policy"]

    # artifact downloads: content type, length, disposition, bytes
    download = await api(
        "GET",
        f"/runs/{run['id']}/artifacts/output.ipynb",
        spec_path="/runs/{run_id}/artifacts/{name}",
    )
    meta = artifacts["output.ipynb"]
    assert download.headers["Content-Type"] == meta["content_type"] == "application/x-ipynb+json"
    assert int(download.headers["Content-Length"]) == meta["size"] == len(download.body)
    assert hashlib.sha256(download.body).hexdigest() == meta["sha256"]
    assert download.body == executed.body
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and 'filename="output.ipynb"' in disposition
    inline = await api(
        "GET",
        f"/runs/{run['id']}/artifacts/runner.log",
        params={"inline": "1"},
        spec_path="/runs/{run_id}/artifacts/{name}",
    )
    assert inline.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert inline.headers["Content-Disposition"].startswith("inline;")
    assert len(inline.body) == artifacts["runner.log"]["size"]
    await api(
        "GET",
        f"/runs/{run['id']}/artifacts/output.ipynb",
        headers={"If-None-Match": download.headers["Etag"]},
        expect=304,
        spec_path="/runs/{run_id}/artifacts/{name}",
    )
    missing = f"/runs/{run['id']}/artifacts/nope.pt"
    assert "nope.pt" in await not_found_message(api, missing, "/runs/{run_id}/artifacts/{name}")

    # reproduce: same commit, parameters, seed; then delete it
    again = (
        await api(
            "POST", f"/runs/{run['id']}/reproduce", expect=201, spec_path="/runs/{run_id}/reproduce"
        )
    ).data
    assert again["id"] != run["id"] and again["reproduced_from"] == run["id"]
    assert again["commit"] == run["commit"] and again["seed"] == 7
    assert again["parameters"] == run["parameters"] and again["tags"] == run["tags"]
    again_detail = await wait_for_status(api, again["id"], TERMINAL)
    assert again_detail["status"] == "succeeded", again_detail["status_reason"]
    diff = (
        await api(
            "GET",
            f"/runs/{run['id']}/diff/{again['id']}",
            spec_path="/runs/{run_id}/diff/{other_id}",
        )
    ).data
    assert diff["same_code"] is True and diff["files"] == [] and diff["notebook_diff"] == ""
    await api(
        "GET",
        f"/runs/{run['id']}/diff/abc999",
        expect=404,
        spec_path="/runs/{run_id}/diff/{other_id}",
    )

    await api("DELETE", f"/runs/{again['id']}", expect=204, spec_path="/runs/{run_id}")
    await api("GET", f"/runs/{again['id']}", expect=404, spec_path="/runs/{run_id}")
    await api("DELETE", f"/runs/{again['id']}", expect=404, spec_path="/runs/{run_id}")
    assert (await api("GET", "/health", spec_path="/health")).data["runs"] == 2


async def test_cancel_a_running_run_and_the_event_stream(
    api: Any,
    mlops: Any,
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(EventsHandler, "keepalive", 0.3)
    token = jp_serverapp.identity_provider.token
    stream = await EventStream.open(jp_http_port, jp_base_url, token)
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-cache"
        pid_dir = tmp_path / "pids"
        pid_dir.mkdir()
        run = (
            await api(
                "POST",
                "/runs",
                body={"notebook": "notebooks/slow.ipynb", "parameters": {"pid_dir": str(pid_dir)}},
                expect=201,
                spec_path="/runs",
            )
        ).data
        queued = await stream.wait_for(run_event_for(run["id"]))
        assert int(queued["id"]) > 0
        assert set(queued["data"]) == documented_keys("RunSummary")
        try:
            await stream.wait_for(run_event_for(run["id"], "running"))
        except TimeoutError:  # seen once beside two burners: say where the run stood
            raise AssertionError(
                f"no 'running' event; keepalives seen {stream.comments.count('keepalive')}; "
                f"{where_it_stands(mlops.store, run['id'])}"
            ) from None
        await wait_until(lambda: (pid_dir / "child.pid").exists(), timeout=60)
        child = int((pid_dir / "child.pid").read_text())
        assert psutil.pid_exists(child)

        busy = await api("DELETE", f"/runs/{run['id']}", expect=409, spec_path="/runs/{run_id}")
        assert "cancel it before deleting" in busy.data["message"]

        cancelled = await api(
            "POST", f"/runs/{run['id']}/cancel", spec_path="/runs/{run_id}/cancel"
        )
        assert cancelled.data["id"] == run["id"]
        event = await stream.wait_for(run_event_for(run["id"], "cancelled"), timeout=30)
        assert event["data"]["finished_at"]
        detail = await wait_for_status(api, run["id"], TERMINAL, timeout=30)
        assert detail["status"] == "cancelled"
        await wait_until(lambda: not psutil.pid_exists(child), timeout=15)
        again = await api(
            "POST", f"/runs/{run['id']}/cancel", expect=409, spec_path="/runs/{run_id}/cancel"
        )
        assert "already ended" in again.data["message"]

        await asyncio.sleep(0.5)
        assert "keepalive" in stream.comments

        # a client reconnecting with Last-Event-ID gets what it missed
        replay = await EventStream.open(
            jp_http_port, jp_base_url, token, {"Last-Event-ID": queued["id"]}
        )
        try:
            missed = await replay.wait_for(run_event_for(run["id"]), timeout=10)
            assert missed["data"]["status"] == "cancelled"
            assert int(missed["id"]) > int(queued["id"])
        finally:
            await replay.close()

        await api("DELETE", f"/runs/{run['id']}", expect=204, spec_path="/runs/{run_id}")
        deleted = await stream.wait_for(lambda e: e.get("event") == "run_deleted", timeout=10)
        assert deleted["data"] == {"id": run["id"]}
    finally:
        await stream.close()
    hub = mlops.events
    await wait_until(lambda: hub.subscriber_count == 0, timeout=10)


async def test_bad_requests_get_json_errors(
    api: Any, mlops: Any, jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # unknown runs
    for method, path, spec_path in [
        ("GET", f"/runs/{MISSING_ID}", "/runs/{run_id}"),
        ("DELETE", f"/runs/{MISSING_ID}", "/runs/{run_id}"),
        ("POST", f"/runs/{MISSING_ID}/cancel", "/runs/{run_id}/cancel"),
        ("POST", f"/runs/{MISSING_ID}/reproduce", "/runs/{run_id}/reproduce"),
        ("GET", f"/runs/{MISSING_ID}/artifacts/output.ipynb", "/runs/{run_id}/artifacts/{name}"),
        ("GET", f"/runs/{MISSING_ID}/notebook", "/runs/{run_id}/notebook"),
        ("GET", f"/runs/{MISSING_ID}/html", "/runs/{run_id}/html"),
    ]:
        resp = await api(method, path, expect=404, spec_path=spec_path)
        assert MISSING_ID in resp.data["message"]
    await api("GET", "/runs/not-an-id", expect=404)
    await api("GET", "/no/such/endpoint", expect=404)

    async def submit(body: Any, expect: int) -> str:
        resp = await api("POST", "/runs", body=body, expect=expect, spec_path="/runs")
        return str(resp.data["message"])

    # malformed bodies and field types: the message names the field
    assert "not valid JSON" in await submit('{"notebook": ', 400)
    assert "JSON object" in await submit("[1, 2]", 400)
    assert "JSON object" in await submit("", 400)
    assert "notebook is required" in await submit({"parameters": {}}, 400)
    assert "notebook" in await submit({"notebook": 5}, 400)
    nb = "notebooks/params.ipynb"
    assert "parameters" in await submit({"notebook": nb, "parameters": [1]}, 400)
    assert "gpus" in await submit({"notebook": nb, "gpus": "1"}, 400)
    assert "gpus" in await submit({"notebook": nb, "gpus": -1}, 400)
    assert "timeout" in await submit({"notebook": nb, "timeout": 0}, 400)
    assert "timeout" in await submit({"notebook": nb, "timeout": "10"}, 400)
    assert "tags" in await submit({"notebook": nb, "tags": "a"}, 400)
    assert "seed" in await submit({"notebook": nb, "seed": 1.5}, 400)
    assert "commit" in await submit({"notebook": nb, "commit": "yes"}, 400)
    assert "kernel" in await submit({"notebook": nb, "kernel": 3}, 400)
    assert "params" in await submit({"notebook": nb, "params": {}}, 400)

    # paths: outside the root, traversal, missing, not a notebook, malformed
    assert "'..'" in await submit({"notebook": "../outside.ipynb"}, 403)
    assert "'..'" in await submit({"notebook": "notebooks/../../outside.ipynb"}, 403)
    assert "outside" in await submit({"notebook": "link.ipynb"}, 403)
    assert "no notebook file" in await submit({"notebook": "notebooks/missing.ipynb"}, 404)
    assert "not a notebook" in await submit({"notebook": "helpers.py"}, 400)
    assert "not valid JSON" in await submit({"notebook": "notebooks/malformed.ipynb"}, 400)

    # parameters, kernel, GPUs
    resp = await api("POST", "/runs", body={"notebook": nb, "parameters": {"epoch": 3}}, expect=400)
    assert "unknown parameter 'epoch'" in resp.data["message"]
    assert "did you mean 'epochs'" in resp.data["message"]
    assert "epochs: int = 3" in resp.data["message"]  # the notebook's parameter list
    assert "lr: float = 0.01" in resp.data["message"]
    assert set(resp.data["problems"]) == {"epoch"}
    wrong = await submit({"notebook": nb, "parameters": {"epochs": "three"}}, 400)
    assert "epochs" in wrong and "int" in wrong
    assert "cannot take parameters" in await submit(
        {"notebook": "notebooks/no_params.ipynb", "parameters": {"x": 1}}, 400
    )
    kernel = await submit({"notebook": nb, "kernel": "no-such-kernel"}, 400)
    assert "no-such-kernel" in kernel and "python3" in kernel
    assert "GPU" in await submit({"notebook": nb, "gpus": 2}, 400)
    assert "contradicts" in await submit(
        {"notebook": nb, "parameters": {"seed": 1}, "seed": 2}, 400
    )

    # parameter inspection
    async def inspect_path(path: str | None, expect: int) -> str:
        resp = await api(
            "GET",
            "/notebooks/parameters",
            params={"path": path} if path is not None else None,
            expect=expect,
            spec_path="/notebooks/parameters",
        )
        return str(resp.data["message"])

    assert "path" in await inspect_path(None, 400)
    assert "'..'" in await inspect_path("../outside.ipynb", 403)
    assert "outside" in await inspect_path("link.ipynb", 403)
    assert "no notebook file" in await inspect_path("nope.ipynb", 404)
    assert "not valid JSON" in await inspect_path("notebooks/malformed.ipynb", 400)

    # list queries
    for params, needle in [
        ({"status": "bogus"}, "unknown status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"param": "novalue"}, "name:value"),
    ]:
        resp = await api("GET", "/runs", params=params, expect=400, spec_path="/runs")
        assert needle in resp.data["message"]
    bad_resume = await api(
        "GET", "/events", headers={"Last-Event-ID": "x"}, expect=400, spec_path="/events"
    )
    assert "Last-Event-ID" in bad_resume.data["message"]

    assert (await api("GET", "/runs", spec_path="/runs")).data["runs"] == []

    # a bug is a 500 without a traceback, even with tracebacks enabled (debug mode)
    monkeypatch.setitem(jp_serverapp.web_app.settings, "serve_traceback", True)

    def broken() -> int:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(mlops.store, "count_runs", broken)
    crash = await api("GET", "/health", expect=500)
    assert crash.data == {"message": "Internal Server Error", "status": 500}
    assert b"secret" not in crash.body and b"Traceback" not in crash.body


async def test_requests_without_credentials_are_refused(api: Any, mlops: Any) -> None:
    anonymous = {"Authorization": ""}
    for method, path, body in [
        ("GET", "/health", None),
        ("GET", "/runs", None),
        ("POST", "/runs", {"notebook": "notebooks/trivial.ipynb"}),
        ("GET", f"/runs/{MISSING_ID}", None),
        ("DELETE", f"/runs/{MISSING_ID}", None),
        ("POST", f"/runs/{MISSING_ID}/cancel", None),
        ("POST", f"/runs/{MISSING_ID}/reproduce", None),
        ("GET", f"/runs/{MISSING_ID}/artifacts/output.ipynb", None),
        ("GET", f"/runs/{MISSING_ID}/notebook", None),
        ("GET", f"/runs/{MISSING_ID}/html", None),
        ("GET", "/notebooks/parameters", None),
        ("GET", "/kernels", None),
        ("GET", "/events", None),
        ("GET", "/no/such/endpoint", None),
    ]:
        resp = await api(method, path, body=body, headers=anonymous, expect=403)
        assert resp.data["status"] == 403
    assert mlops.store.count_runs() == 0
    assert not mlops.settings.runs_dir.exists()  # no runner was started


def queued_run(mlops: Any, root: Path) -> Any:
    """A run row that no runner will pick up (as if its runner had not started yet)."""
    from jupyter_mlops.jobs import new_run_id
    from jupyter_mlops.store import Run
    from jupyter_mlops.store.types import utcnow

    run_id = new_run_id()
    return mlops.store.create_run(
        Run(
            id=run_id,
            created_at=utcnow(),
            source="ui",
            backend="local",
            notebook_path="notebooks/trivial.ipynb",
            notebook_abspath=str(root / "notebooks/trivial.ipynb"),
            kernel_name="python3",
            gpus=0,
            seed=1,
            commit_sha="0" * 40,
            snapshot_ref=f"refs/mlops/runs/{run_id}",
            git_dir=str(root / ".git"),
            worktree=str(root),
            notebook_relpath="notebooks/trivial.ipynb",
        ),
        params={"lr": (0.1, "float")},
        tags=["stored"],
    )


async def test_large_artifact_streams_and_queued_run_states(
    api: Any, mlops: Any, jp_root_dir: Path, jp_http_port: int, jp_base_url: str, jp_serverapp: Any
) -> None:
    from jupyter_mlops.artifacts import ArtifactStore
    from jupyter_mlops.store import Artifact
    from jupyter_mlops.store.types import utcnow

    run = queued_run(mlops, jp_root_dir)
    blob = jp_root_dir.parent / "model.bin"
    payload = os.urandom(3 * 1024 * 1024 + 17)  # several chunks, not a multiple of one
    blob.write_bytes(payload)
    sha, size = ArtifactStore(mlops.settings.resolved_artifact_root).put_file(blob)
    name = "models/modèle final.pt"
    mlops.store.add_artifact(
        Artifact(
            run_id=run.id,
            name=name,
            kind="model",
            sha256=sha,
            size=size,
            content_type="application/octet-stream",
            created_at=utcnow(),
        )
    )
    detail = (await api("GET", f"/runs/{run.id}", spec_path="/runs/{run_id}")).data
    assert [a["name"] for a in detail["artifacts"]] == [name]
    download = await api(
        "GET", f"/runs/{run.id}/artifacts/{name}", spec_path="/runs/{run_id}/artifacts/{name}"
    )
    assert download.body == payload
    assert download.headers["Content-Length"] == str(len(payload))
    assert download.headers["Content-Type"] == "application/octet-stream"
    disposition = download.headers["Content-Disposition"]
    assert 'filename="mod_le final.pt"' in disposition
    assert "filename*=UTF-8''mod%C3%A8le%20final.pt" in disposition

    # a client that goes away mid-download does no harm
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    token = jp_serverapp.identity_provider.token
    target = f"{jp_base_url.rstrip('/')}/mlops/api/runs/{run.id}/artifacts/models/"
    request = f"GET {target}mod%C3%A8le%20final.pt HTTP/1.0\r\nAuthorization: token {token}\r\n\r\n"
    writer.write(request.encode())
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    await reader.read(1000)
    writer.close()
    await api("GET", "/health", spec_path="/health")

    # a queued run has no outputs yet, cannot be deleted, is cancelled at once
    stream = await EventStream.open(jp_http_port, jp_base_url, token)
    for suffix, spec_path in (
        ("notebook", "/runs/{run_id}/notebook"),
        ("html", "/runs/{run_id}/html"),
    ):
        missing = await api("GET", f"/runs/{run.id}/{suffix}", expect=404, spec_path=spec_path)
        assert "yet (status: queued)" in missing.data["message"]
    await api("DELETE", f"/runs/{run.id}", expect=409, spec_path="/runs/{run_id}")
    cancelled = await api("POST", f"/runs/{run.id}/cancel", spec_path="/runs/{run_id}/cancel")
    assert cancelled.data["status"] == "cancelled"
    assert cancelled.data["status_reason"] == "cancelled before start"
    try:
        await stream.wait_for(run_event_for(run.id, "cancelled"), timeout=10)
        await api("DELETE", f"/runs/{run.id}", expect=204, spec_path="/runs/{run_id}")
        await stream.wait_for(lambda e: e.get("event") == "run_deleted", timeout=10)
        # SQLite hands the deleted run's event ids out again; the stream must not miss them
        later = queued_run(mlops, jp_root_dir)
        event = await stream.wait_for(run_event_for(later.id, "queued"), timeout=10)
        assert int(event["id"]) <= 2
    finally:
        await stream.close()
    await api(
        "GET",
        f"/runs/{run.id}/artifacts/{name}",
        expect=404,
        spec_path="/runs/{run_id}/artifacts/{name}",
    )
