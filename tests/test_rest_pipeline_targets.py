"""``POST /schedules`` and ``POST /triggers`` with a pipeline target, through a real server
whose root is a git repository; answers validated against ``openapi.yaml``; the server's
own scheduler fires an on-commit pipeline trigger for a real commit and its upkeep runs
the pipeline to the end."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from . import test_rest as rest
from .conftest import extension_server_config, git
from .test_pipeline_targets import PIPELINES, SHORT

mlops_data = rest.mlops_data
api = rest.api


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path) -> dict[str, Any]:
    shutil.copytree(PIPELINES, jp_root_dir / "flow")
    (jp_root_dir / "flow" / "short.yaml").write_text(SHORT)
    (jp_root_dir / "flow" / "bad.yaml").write_text(
        "steps:\n  a:\n    notebook: missing.ipynb\n"
        "  b:\n    notebook: sleepy.ipynb\n    parameters: {nope: 1}\n"
    )
    return extension_server_config(jp_root_dir)


SCHEDULE = {"pipeline": "flow/short.yaml", "cron": "0 3 * * *", "timezone": "UTC"}
TRIGGER = {"pipeline": "flow/short.yaml", "on_commit": "main", "policy": "each"}


async def test_pipeline_schedules_and_triggers_are_created_and_refused(
    api: Any, mlops: Any
) -> None:
    body = {**SCHEDULE, "parameters": {"first": {"label": "x"}}}
    made = await api("POST", "/schedules", body=body, expect=201, spec_path="/schedules")
    assert made.data["target"] == "pipeline" and made.data["notebook"] == "flow/short.yaml"
    assert made.data["parameters"] == {"first": {"label": "x"}}
    listed = await api("GET", "/schedules", spec_path="/schedules")
    assert [s["target"] for s in listed.data["schedules"]] == ["pipeline"]
    as_notebook = {**TRIGGER, "notebook": TRIGGER["pipeline"]}
    del as_notebook["pipeline"]  # a .yaml given as `notebook` is a pipeline too
    t = await api("POST", "/triggers", body=as_notebook, expect=201, spec_path="/triggers")
    assert t.data["target"] == "pipeline" and t.data["kind"] == "commit"

    for path, base in (("/schedules", SCHEDULE), ("/triggers", TRIGGER)):
        for change, status, message in [
            ({"pipeline": "flow/bad.yaml"}, 400, "missing.ipynb not found"),
            ({"pipeline": "flow/bad.yaml"}, 400, "unknown parameter 'nope'"),
            # on a branch the file is looked for there: a 400 saying so; else a 404
            ({"pipeline": "flow/gone.yaml"}, 400 if "on_commit" in base else 404, "gone.yaml"),
            ({"pipeline": "flow/sleepy.ipynb"}, 400, "not a pipeline file"),
            ({"pipeline": "../x.yaml"}, 403, ".."),
            ({"notebook": "flow/sleepy.ipynb"}, 400, "exactly one of"),
            ({"kernel": "python3"}, 400, "kernel"),
            ({"parameters": {"label": "flat"}}, 400, "by step"),
            ({"parameters": {"first": {"nope": 1}}}, 400, "unknown parameter 'nope'"),
        ]:
            bad = await api("POST", path, body={**base, **change}, expect=status, spec_path=path)
            assert message in bad.data["message"], (path, change, bad.data)
    assert len((await api("GET", "/schedules")).data["schedules"]) == 1  # nothing half-written
    assert len((await api("GET", "/triggers")).data["triggers"]) == 1


async def test_server_fires_an_on_commit_pipeline_trigger(
    api: Any, mlops: Any, jp_root_dir: Path
) -> None:
    t = (await api("POST", "/triggers", body=TRIGGER, expect=201)).data
    (jp_root_dir / "change.txt").write_text("new\n")
    await asyncio.to_thread(git, jp_root_dir, "add", "change.txt")
    await asyncio.to_thread(git, jp_root_dir, "commit", "-q", "-m", "a change")
    sha = await asyncio.to_thread(git, jp_root_dir, "rev-parse", "HEAD")
    one = "/triggers/{trigger_id}"
    deadline = time.monotonic() + 120
    while True:
        detail = (await api("GET", f"/triggers/{t['id']}", spec_path=one)).data
        if detail["events"] and detail["events"][0]["state"] == "done":
            break
        assert time.monotonic() < deadline, f"the server's watcher did not fire: {detail}"
        await asyncio.sleep(0.2)
    (event,) = detail["events"]
    assert event["key"] == sha and event["run_id"].startswith("pl-")
    assert detail["last_run_id"] == event["run_id"]
    deadline = time.monotonic() + 300
    while True:
        pipeline = (
            await api("GET", f"/pipelines/{event['run_id']}", spec_path="/pipelines/{pipeline_id}")
        ).data
        if pipeline["status"] != "running":
            break
        assert time.monotonic() < deadline, f"the pipeline did not end: {pipeline}"
        await asyncio.sleep(0.5)
    assert pipeline["status"] == "succeeded", pipeline
    assert pipeline["commit"] == sha and pipeline["source"] == "trigger"
    assert pipeline["fired_by"] and sha[:12] in pipeline["fired_by"]
