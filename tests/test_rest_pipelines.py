"""The pipeline endpoints (``/mlops/api/pipelines``) through a real server: run a
pipeline file, watch the server advance it to the end (no client drives it), serve the
re-run from the cache, resume; every response validated against ``openapi.yaml``."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from . import test_rest as rest
from .conftest import extension_server_config

mlops_data = rest.mlops_data
api = rest.api
PIPELINES = Path(__file__).parent / "pipelines"
ONE = "/pipelines/{pipeline_id}"


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path) -> dict[str, Any]:
    shutil.copytree(PIPELINES, jp_root_dir / "flow")
    (jp_root_dir / "flow" / "short.yaml").write_text(
        "steps:\n"
        "  first:\n    notebook: sleepy.ipynb\n    parameters: {label: one}\n"
        "  second:\n    notebook: sleepy.ipynb\n"
        "    parameters: {label: '${steps.first.run_id}'}\n"
    )
    return extension_server_config(jp_root_dir)


async def _until_done(api: Any, pipeline_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = (await api("GET", f"/pipelines/{pipeline_id}", spec_path=ONE)).data
        if detail["status"] != "running":
            return detail
        await asyncio.sleep(0.5)
    raise AssertionError(f"pipeline {pipeline_id} still running")


async def test_run_a_pipeline_then_the_cache_then_resume(api: Any, mlops: Any) -> None:
    body = {"pipeline": "flow/short.yaml", "parameters": {"first": {"label": "uno"}}}
    started = await api("POST", "/pipelines", body=body, expect=201, spec_path="/pipelines")
    pid = started.data["id"]
    assert started.headers["Location"].endswith(f"/mlops/api/pipelines/{pid}")
    assert [s["name"] for s in started.data["steps"]] == ["first", "second"]
    done = await _until_done(api, pid)  # the server's upkeep advances it
    assert done["status"] == "succeeded", done
    assert [s["status"] for s in done["steps"]] == ["succeeded", "succeeded"]
    first_run = done["steps"][0]["run_id"]
    run = (await api("GET", f"/runs/{first_run}", spec_path="/runs/{run_id}")).data
    assert f"pipeline={pid}" in run["tags"]

    again = await api("POST", "/pipelines", body=body, expect=201, spec_path="/pipelines")
    cached = await _until_done(api, again.data["id"])
    assert [s["cached"] for s in cached["steps"]] == [True, True]
    assert cached["steps"][0]["cached_from"]["pipeline_id"] == pid

    listed = (await api("GET", "/pipelines", spec_path="/pipelines")).data["pipelines"]
    assert [p["id"] for p in listed] == [again.data["id"], pid]

    resumed = await api("POST", f"/pipelines/{pid}/resume", spec_path=ONE + "/resume")
    assert resumed.data["status"] == "succeeded"  # nothing failed: nothing to re-run


async def test_bad_pipelines_are_4xx_with_every_problem(api: Any, mlops: Any) -> None:
    bad = {"pipeline": "flow/pipeline.yaml", "parameters": {"nope": {}, "train": {"lr": "x"}}}
    answer = await api("POST", "/pipelines", body=bad, expect=400, spec_path="/pipelines")
    assert "unknown step 'nope'" in answer.data["message"]
    typed = {"pipeline": "flow/pipeline.yaml", "parameters": {"train": {"lr": "x"}}}
    answer = await api("POST", "/pipelines", body=typed, expect=400, spec_path="/pipelines")
    assert "lr: expected float" in answer.data["problems"]["steps.train.parameters"]
    for body, status in (
        ({"pipeline": "flow/missing.yaml"}, 404),
        ({"pipeline": "../x.yaml"}, 403),
        ({"pipeline": "flow/prepare.ipynb"}, 400),
        ({"pipeline": "flow/pipeline.yaml", "colour": 1}, 400),
    ):
        await api("POST", "/pipelines", body=body, expect=status, spec_path="/pipelines")
    await api("GET", "/pipelines/pl-0123", expect=404, spec_path=ONE)
    await api("POST", "/pipelines/pl-0123/resume", expect=404, spec_path=ONE + "/resume")
    assert (await api("GET", "/pipelines", spec_path="/pipelines")).data["pipelines"] == []
