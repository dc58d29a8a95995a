"""``GET /runs/{id}/output`` and the ``output`` events of ``/events``, through a real
server and real runs (the fixtures and the validator are those of ``test_rest``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .test_rest import (  # noqa: F401 (fixtures)
    MISSING_ID,
    EventStream,
    api,
    jp_server_config,
    mlops_data,
    not_found_message,
    run_event_for,
    wait_for_status,
)

OUTPUT_PATH = "/runs/{run_id}/output"


async def output_page(api: Any, run_id: str, **params: Any) -> Any:  # noqa: F811
    return (
        await api("GET", f"/runs/{run_id}/output", params=params or None, spec_path=OUTPUT_PATH)
    ).data


async def test_output_so_far_from_a_cursor_and_announced_on_the_stream(
    api: Any,  # noqa: F811
    mlops: Any,
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    tmp_path: Path,
) -> None:
    gate, gate2 = tmp_path / "gate", tmp_path / "gate2"
    stream = await EventStream.open(jp_http_port, jp_base_url, jp_serverapp.identity_provider.token)
    try:
        run = (
            await api(
                "POST",
                "/runs",
                body={
                    "notebook": "notebooks/live_output.ipynb",
                    "parameters": {"gate": str(gate), "gate2": str(gate2)},
                },
                expect=201,
                spec_path="/runs",
            )
        ).data
        run_id = run["id"]

        def output_of(event: dict[str, Any]) -> bool:
            return event.get("event") == "output" and event["data"]["run_id"] == run_id

        first = await stream.wait_for(output_of, timeout=120)
        assert first["data"]["seq"] >= 1
        page = await output_page(api, run_id)
        assert page["status"] == "running" and page["complete"] is False
        assert [c["text"] for c in page["chunks"]] == ["first line\n"]
        assert page["next_after"] == page["chunks"][-1]["seq"] and page["full_output"] is None
        cursor = page["next_after"]

        gate.touch()
        second = await stream.wait_for(output_of, timeout=60)
        assert second["data"]["seq"] > cursor
        page = await output_page(api, run_id, after=cursor)
        assert [c["text"] for c in page["chunks"]][:1] == ["second line\n"]  # none repeated
        assert {c["stream"] for c in page["chunks"]} <= {"stdout", "stderr"}

        gate2.touch()
        await stream.wait_for(run_event_for(run_id, "succeeded"), timeout=120)
    finally:
        await stream.close()
    everything = await output_page(api, run_id)
    assert everything["complete"] is True and everything["full_output"] == "logs/output.txt"
    assert "".join(c["text"] for c in everything["chunks"]) == (
        "first line\nsecond line\nto stderr\nlast line\n'the result'\n"
    )
    limited = await output_page(api, run_id, after=1, limit=2)
    assert [c["seq"] for c in limited["chunks"]] == [2, 3] and limited["complete"] is False
    past_the_end = await output_page(api, run_id, after=everything["next_after"])
    assert past_the_end["chunks"] == [] and past_the_end["complete"] is True


async def test_output_of_an_unknown_run_is_404_and_bad_cursors_are_400(
    api: Any,  # noqa: F811
) -> None:
    message = await not_found_message(api, f"/runs/{MISSING_ID}/output", OUTPUT_PATH)
    assert MISSING_ID in message
    for params, words in [
        ({"after": "x"}, "after must be an integer"),
        ({"after": "-1"}, "after must be between 0"),
        ({"limit": "0"}, "limit must be between 1 and 1000"),
    ]:
        resp = await api(
            "GET", f"/runs/{MISSING_ID}/output", params=params, expect=400, spec_path=OUTPUT_PATH
        )
        assert words in resp.data["message"]


async def test_output_without_credentials_is_refused(api: Any) -> None:  # noqa: F811
    resp = await api(
        "GET",
        f"/runs/{MISSING_ID}/output",
        headers={"Authorization": ""},
        expect=403,
        spec_path=OUTPUT_PATH,
    )
    assert resp.data["status"] == 403
