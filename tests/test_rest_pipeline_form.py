"""What the "Run Pipeline" form and the side panel's pipeline list read, through a real
server: a pipeline file's steps (notebooks from the root, the file's values, which values
reference upstream outputs), per-step overrides refused with a 400 that names the step
or parameter, and the list's step progress (done / total, cached); every response
validated against ``openapi.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import test_rest as rest
from . import test_rest_pipelines as pipelines_rest

mlops_data = rest.mlops_data
api = rest.api
jp_server_config = pipelines_rest.jp_server_config  # flow/: the fixture pipelines
FILE = "/pipelines/file"


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
    api: Any, mlops: Any, jp_root_dir: Path
) -> None:
    (jp_root_dir / "flow" / "broken.yaml").write_text(
        "steps:\n  a: {notebook: x.ipynb, colour: 1}\n"
    )
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


async def _listed_when_done(api: Any, pipeline_id: str) -> dict[str, Any]:
    """The list's row of the run, once the run has ended."""
    await pipelines_rest._until_done(api, pipeline_id)
    rows = (await api("GET", "/pipelines", spec_path="/pipelines")).data["pipelines"]
    return next(r for r in rows if r["id"] == pipeline_id)


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
