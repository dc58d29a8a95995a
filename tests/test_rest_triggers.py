"""``/mlops/api/triggers``: real requests through a real jupyter server whose root is a git
repository; answers validated against ``openapi.yaml``; the server's own scheduler fires an
on-commit trigger for a real commit."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from . import test_rest as rest
from .conftest import NOTEBOOKS, extension_server_config, git

mlops_data = rest.mlops_data
api = rest.api


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path) -> dict[str, Any]:
    shutil.copytree(NOTEBOOKS, jp_root_dir / "notebooks")
    return extension_server_config(jp_root_dir)


COMMIT_BODY = {"notebook": "notebooks/trivial.ipynb", "on_commit": "main", "policy": "each"}


async def test_trigger_crud_and_validation(api: Any, mlops: Any) -> None:
    created = await api("POST", "/triggers", body=COMMIT_BODY, expect=201, spec_path="/triggers")
    t = created.data
    assert created.headers["Location"].endswith(f"/mlops/api/triggers/{t['id']}")
    assert t["kind"] == "commit" and t["config"]["branch"] == "main" and t["active"] is True
    assert t["state"]["last_commit"] and t["events"] == []

    listed = await api("GET", "/triggers", spec_path="/triggers")
    assert [x["id"] for x in listed.data["triggers"]] == [t["id"]]

    one = f"/triggers/{t['id']}"
    paused = await api("PATCH", one, body={"active": False}, spec_path="/triggers/{trigger_id}")
    assert paused.data["active"] is False
    resumed = await api("PATCH", one, body={"active": True}, spec_path="/triggers/{trigger_id}")
    assert resumed.data["active"] is True

    for body, status, message in [
        ({**COMMIT_BODY, "on_commit": "gone"}, 400, "unknown branch 'gone'"),
        (
            {"notebook": "notebooks/missing.ipynb", "on_metric": "a < 1", "stream": "s"},
            404,
            "missing",
        ),
        ({"notebook": "../outside.ipynb", "on_commit": "main"}, 403, ".."),
        ({"notebook": "notebooks/trivial.ipynb", "on_metric": "acc < 0.9"}, 400, "--stream"),
        ({**COMMIT_BODY, "on_metric": "a < 1", "stream": "s"}, 400, "exactly one of"),
        ({**COMMIT_BODY, "policy": "all"}, 400, "policy"),
        ({**COMMIT_BODY, "for_points": 0}, 400, "for_points"),
        ({**COMMIT_BODY, "bogus": 1}, 400, "bogus"),
    ]:
        bad = await api("POST", "/triggers", body=body, expect=status, spec_path="/triggers")
        assert message in bad.data["message"], (body, bad.data)
    await api("PATCH", one, body={"active": "no"}, expect=400, spec_path="/triggers/{trigger_id}")
    assert len((await api("GET", "/triggers")).data["triggers"]) == 1  # nothing half-written

    await api("DELETE", one, expect=204, spec_path="/triggers/{trigger_id}")
    await api("GET", one, expect=404, spec_path="/triggers/{trigger_id}")
    await api("PATCH", one, body={"active": True}, expect=404)


async def test_server_scheduler_fires_an_on_commit_trigger(
    api: Any, mlops: Any, jp_root_dir: Path
) -> None:
    t = (await api("POST", "/triggers", body=COMMIT_BODY, expect=201)).data
    (jp_root_dir / "change.txt").write_text("new\n")
    await asyncio.to_thread(git, jp_root_dir, "add", "change.txt")
    await asyncio.to_thread(git, jp_root_dir, "commit", "-q", "-m", "a change")
    sha = await asyncio.to_thread(git, jp_root_dir, "rev-parse", "HEAD")
    deadline = time.monotonic() + 120
    while True:
        detail = (await api("GET", f"/triggers/{t['id']}", spec_path="/triggers/{trigger_id}")).data
        if detail["events"] and detail["events"][0]["state"] == "done":
            break
        assert time.monotonic() < deadline, f"the server's watcher did not fire: {detail}"
        await asyncio.sleep(0.2)
    (event,) = detail["events"]
    assert event["key"] == sha and event["details"]["subject"] == "a change"
    run_id = event["run_id"]
    why = await api("GET", f"/runs/{run_id}/trigger", spec_path="/runs/{run_id}/trigger")
    assert why.data["id"] == t["id"] and why.data["events"][0]["details"]["commit"] == sha
    stored = await asyncio.to_thread(mlops.store.require_run, run_id)
    assert stored.commit_sha == sha and stored.source == "trigger"
    await api("DELETE", f"/triggers/{t['id']}", expect=204)
    other = (await api("GET", "/runs")).data["runs"]
    assert run_id in {r["id"] for r in other}  # the run outlives its trigger
    await api("GET", f"/runs/{'0' * 12}/trigger", expect=404, spec_path="/runs/{run_id}/trigger")
