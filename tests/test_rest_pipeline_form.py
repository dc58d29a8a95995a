"""What the "Run Pipeline" form and the side panel's pipeline list read, through a real
server: a pipeline file's steps (notebooks from the root, the file's values, which values
reference upstream outputs), per-step overrides refused with a 400 that names the step
or parameter, and the list's step progress (done / total, cached); every response
validated against ``openapi.yaml``."""

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
FILE = "/pipelines/file"


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path) -> dict[str, Any]:
    shutil.copytree(PIPELINES, jp_root_dir / "flow")
    (jp_root_dir / "flow" / "short.yaml").write_text(
        "steps:\n"
        "  first:\n    notebook: sleepy.ipynb\n    parameters: {label: one}\n"
        "  second:\n    notebook: sleepy.ipynb\n"
        "    parameters: {label: '${steps.first.run_id}'}\n"
    )
    (jp_root_dir / "flow" / "broken.yaml").write_text(
        "steps:\n  a: {notebook: x.ipynb, colour: 1}\n"
    )
    return extension_server_config(jp_root_dir)


async def test_a_pipeline_file_as_the_form_reads_it(api: Any, mlops: Any) -> None:
    found = await api("GET", FILE, params={"path": "flow/pipeline.yaml"}, spec_path=FILE)
    assert found.data["pipeline"] == "flow/pipeline.yaml" and found.data["name"] == "demo"
    steps = {s["name"]: s for s in found.data["steps"]}
    assert list(steps) == ["prepare", "train", "evaluate"]  # file order
    assert steps["prepare"] == {
        "name": "prepare",
        "notebook": "flow/prepare.ipynb",
        "parameters": {"n": 5},
        "references": [],
        "needs": [],
    }
    assert steps["train"]["references"] == ["points"]
    assert steps["train"]["parameters"]["lr"] == 0.5
    assert steps["evaluate"]["references"] == ["mse", "trained_by"]
    assert steps["evaluate"]["needs"] == ["train"]
    # the form then asks the notebook parameters endpoint (as Run as job does) per step
    params = await api(
        "GET",
        "/notebooks/parameters",
        params={"path": steps["train"]["notebook"]},
        spec_path="/notebooks/parameters",
    )
    assert [p["name"] for p in params.data["parameters"]] == ["points", "lr"]


async def test_bad_pipeline_files_and_overrides_are_4xx_saying_what_to_fix(
    api: Any, mlops: Any
) -> None:
    broken = await api("GET", FILE, params={"path": "flow/broken.yaml"}, expect=400, spec_path=FILE)
    assert "colour" in broken.data["message"]
    for path, status in (
        ("flow/missing.yaml", 404),
        ("../x.yaml", 403),
        ("flow/prepare.ipynb", 400),
        ("", 400),
    ):
        await api("GET", FILE, params={"path": path}, expect=status, spec_path=FILE)
    unknown = {"pipeline": "flow/pipeline.yaml", "parameters": {"train": {"nope": 1}}}
    answer = await api("POST", "/pipelines", body=unknown, expect=400, spec_path="/pipelines")
    assert "unknown parameter 'nope'" in answer.data["problems"]["steps.train.parameters"]
    step = {"pipeline": "flow/pipeline.yaml", "parameters": {"trian": {"lr": 0.1}}}
    answer = await api("POST", "/pipelines", body=step, expect=400, spec_path="/pipelines")
    assert "unknown step 'trian'" in answer.data["message"]
    assert (await api("GET", "/pipelines", spec_path="/pipelines")).data["pipelines"] == []


async def _listed_when_done(api: Any, pipeline_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = (await api("GET", "/pipelines", spec_path="/pipelines")).data["pipelines"]
        row = next(r for r in rows if r["id"] == pipeline_id)
        if row["status"] != "running":
            return row
        await asyncio.sleep(0.5)
    raise AssertionError(f"pipeline {pipeline_id} still running")


async def test_the_list_gives_each_runs_step_progress(api: Any, mlops: Any) -> None:
    body = {"pipeline": "flow/short.yaml", "parameters": {"first": {"label": "given"}}}
    started = await api("POST", "/pipelines", body=body, expect=201, spec_path="/pipelines")
    assert (started.data["steps_total"], started.data["steps_cached"]) == (2, 0)
    row = await _listed_when_done(api, started.data["id"])
    assert row["status"] == "succeeded"
    assert (row["steps_done"], row["steps_total"], row["steps_cached"]) == (2, 2, 0)
    again = await api("POST", "/pipelines", body=body, expect=201, spec_path="/pipelines")
    row = await _listed_when_done(api, again.data["id"])
    assert (row["steps_done"], row["steps_total"], row["steps_cached"]) == (2, 2, 2)
