"""``POST /runs/{id}/reproduce`` with ``{"verify": true}`` through a real server: nobody
waits for the reproduction, its runner records the verdict, ``GET /runs/{id}`` serves it
with the reproducibility summary; bad options are 400s; the input comparison endpoint."""

from __future__ import annotations

from typing import Any

from .test_rest import (  # noqa: F401 (fixtures)
    TERMINAL,
    api,
    jp_server_config,
    mlops_data,
    wait_for_status,
)


async def verdict_of(api: Any, run_id: str) -> dict[str, Any]:  # noqa: F811
    """The run's detail once its verdict is there (written before its terminal status)."""
    detail = await wait_for_status(api, run_id, TERMINAL, timeout=180)
    assert detail["verification"] is not None, detail
    return detail


async def test_a_reproduction_started_over_rest_records_its_verdict(api: Any) -> None:  # noqa: F811
    body = {"notebook": "notebooks/verify_deterministic.ipynb", "parameters": {"scale": 4}}
    run = (await api("POST", "/runs", body=body, expect=201, spec_path="/runs")).data
    original = await wait_for_status(api, run["id"], TERMINAL, timeout=180)
    assert original["status"] == "succeeded"
    assert original["verification"] is None
    items = {i["item"]: i for i in original["reproducibility"]}
    assert items["commit"]["pinned"] and items["seed"]["detail"].startswith("seed ")
    assert not items["data"]["pinned"]  # no inputs recorded
    assert "lock file" in items["packages"]["detail"]
    assert items["device"]["detail"].startswith("CPU")

    spec = "/runs/{run_id}/reproduce"
    for bad, word in (({"verify": True, "normalize": ["("]}, "regex"), ({"rtol": -1}, "rtol")):
        message = (
            await api("POST", f"/runs/{run['id']}/reproduce", body=bad, expect=400, spec_path=spec)
        ).data["message"]
        assert word in message

    again = (
        await api(
            "POST",
            f"/runs/{run['id']}/reproduce",
            body={"verify": True, "rtol": 1e-6},
            expect=201,
            spec_path=spec,
        )
    ).data
    detail = await verdict_of(api, again["id"])
    verification = detail["verification"]
    assert verification["original_id"] == run["id"]
    assert verification["verdict"] == "identical", verification["summary"]
    assert verification["options"]["rtol"] == 1e-6
    assert {c["kind"] for c in verification["inputs"]} >= {"commit", "kernel"}
    assert verification["finished_at"] and verification["result"]["verdict"] == "identical"

    drift = (
        await api(
            "GET",
            f"/runs/{run['id']}/input-drift/{again['id']}",
            spec_path="/runs/{run_id}/input-drift/{other_id}",
        )
    ).data
    assert drift["first"] == run["id"] and drift["second"] == again["id"]
    assert drift["psi_threshold"] == 0.2 and drift["ks_threshold"] == 0.1
    await api(
        "GET",
        f"/runs/{run['id']}/input-drift/0123456789ab",
        expect=404,
        spec_path="/runs/{run_id}/input-drift/{other_id}",
    )
