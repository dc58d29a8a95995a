"""The schedule endpoints (``/mlops/api/schedules``) against ``openapi.yaml``.

Real responses of a real server (its scheduler firing a seconds-level cron included) are
validated against the spec, and so are the request bodies the JupyterLab UI sends.
Behaviour in depth is tested in ``test_scheduler.py``; this is about the contract.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from . import test_rest as rest
from .conftest import params_schedule_body

# The server, its extension state and the validating client of test_rest.py.
mlops_data = rest.mlops_data
jp_server_config = rest.jp_server_config
api = rest.api

ONE = "/schedules/{schedule_id}"
RUN = "/schedules/{schedule_id}/run"
MISSING = rest.MISSING_ID


def validate_body(schema_name: str, body: dict[str, Any]) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": rest.SPEC["components"]}
    OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER).validate(body)


def test_request_schemas_accept_what_the_ui_sends_and_reject_unknown_fields() -> None:
    # scheduleRequest() in src/scheduleForm.tsx
    ui_body = {
        "notebook": "notebooks/params.ipynb",
        "cron": "* * * * * */10",
        "timezone": "UTC",
        "parameters": {"epochs": 2},
        "kernel": "python3",
        "gpus": 0,
        "timeout": None,
        "tags": ["nightly"],
        "concurrency": "skip",
        "catchup": "skip",
        "branch": "main",
        "name": "nightly",
    }
    validate_body("ScheduleRequest", ui_body)
    validate_body("ScheduleChanges", {"active": False})
    with pytest.raises(Exception, match="colour"):
        validate_body("ScheduleRequest", {**ui_body, "colour": 1})
    with pytest.raises(Exception, match="cron"):
        validate_body("ScheduleRequest", {"notebook": "a.ipynb"})
    with pytest.raises(Exception, match=r"concurrency|parallel"):
        validate_body("ScheduleChanges", {"concurrency": "parallel"})


async def create_trivial_schedule(api: Any, **fields: Any) -> dict[str, Any]:
    """A new schedule of ``notebooks/trivial.ipynb`` in UTC, its response checked."""
    body = {"notebook": "notebooks/trivial.ipynb", "timezone": "UTC", **fields}
    return (await api("POST", "/schedules", body=body, expect=201, spec_path="/schedules")).data


async def test_schedule_responses_match_the_spec(api: Any, mlops: Any) -> None:
    created = await api(
        "POST", "/schedules", body=params_schedule_body("spec"), expect=201, spec_path="/schedules"
    )
    s = created.data
    assert created.headers["Location"].endswith(f"/mlops/api/schedules/{s['id']}")
    assert set(s) == rest.documented_keys("Schedule")
    assert s["source"] == "working_copy" and s["last_run_status"] is None

    branch = await create_trivial_schedule(api, cron="@daily", branch="main", name="from main")
    assert branch["source"] == "branch" and branch["branch"] == "main"

    listed = (await api("GET", "/schedules", spec_path="/schedules")).data["schedules"]
    assert {x["id"] for x in listed} == {s["id"], branch["id"]}

    detail = (await api("GET", f"/schedules/{s['id']}", spec_path=ONE)).data
    assert len(detail["upcoming"]) == 5 and detail["runs"] == [] and detail["fires"] == []

    # errors are documented too
    for body, status in [
        ({"notebook": "notebooks/params.ipynb", "cron": "61 * * * *"}, 400),
        ({"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "timezone": "X/Y"}, 400),
        ({"notebook": "notebooks/params.ipynb", "cron": "0 3 * * *", "branch": "gone"}, 400),
        ({"notebook": "notebooks/missing.ipynb", "cron": "0 3 * * *"}, 404),
        ({"notebook": "../outside.ipynb", "cron": "0 3 * * *"}, 403),
    ]:
        await api("POST", "/schedules", body=body, expect=status, spec_path="/schedules")
    await api("GET", f"/schedules/{MISSING}", expect=404, spec_path=ONE)
    await api("PATCH", f"/schedules/{s['id']}", body={"cron": "x"}, expect=400, spec_path=ONE)
    await api("PATCH", f"/schedules/{MISSING}", body={"active": False}, expect=404, spec_path=ONE)
    await api("POST", f"/schedules/{MISSING}/run", expect=404, spec_path=RUN)
    anonymous = {"Authorization": ""}
    await api("GET", "/schedules", headers=anonymous, expect=403, spec_path="/schedules")

    paused = (
        await api("PATCH", f"/schedules/{s['id']}", body={"active": False}, spec_path=ONE)
    ).data
    assert paused["active"] is False and paused["next_fire_at"] is None

    run = (await api("POST", f"/schedules/{s['id']}/run", expect=201, spec_path=RUN)).data
    assert run["parameters"].items() >= {"epochs": 2, "name": "spec"}.items()
    await rest.wait_for_status(api, run["id"], rest.TERMINAL)
    detail = (await api("GET", f"/schedules/{s['id']}", spec_path=ONE)).data
    assert [r["id"] for r in detail["runs"]] == [run["id"]]
    assert detail["runs"][0]["scheduled_for"] is None
    assert detail["last_run_status"] == "succeeded"

    await api("DELETE", f"/schedules/{s['id']}", expect=204, spec_path=ONE)
    await api("DELETE", f"/schedules/{s['id']}", expect=404, spec_path=ONE)
    await api("DELETE", f"/schedules/{branch['id']}", expect=204, spec_path=ONE)


async def test_fired_slots_and_their_runs_match_the_spec(api: Any, mlops: Any) -> None:
    s = await create_trivial_schedule(api, cron="* * * * * */2", concurrency="skip")
    deadline = time.monotonic() + 30
    while True:
        detail = (await api("GET", f"/schedules/{s['id']}", spec_path=ONE)).data
        if detail["runs"] and detail["fires"]:
            break
        assert time.monotonic() < deadline, "the server's scheduler did not fire"
        await asyncio.sleep(0.2)
    await api("PATCH", f"/schedules/{s['id']}", body={"active": False}, spec_path=ONE)
    assert detail["runs"][-1]["scheduled_for"] is not None
    assert detail["last_run_id"] is not None
    fired = (await api("GET", "/schedules", spec_path="/schedules")).data["schedules"][0]
    assert fired["last_fired_slot"] is not None
    await api("DELETE", f"/schedules/{s['id']}", expect=204, spec_path=ONE)
