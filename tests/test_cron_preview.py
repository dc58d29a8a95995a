"""``GET /mlops/api/cron/preview``: the server's cron (croniter) decides for the frontend.

Real requests through a real jupyter server; every answer is validated against
``openapi.yaml``. An expression the preview calls invalid is one a schedule refuses, with
the same message.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jupyter_mlops.scheduling.cron import local_zone_name

from . import test_rest as rest

# The server, its extension state and the validating client of test_rest.py.
mlops_data = rest.mlops_data
jp_server_config = rest.jp_server_config
api = rest.api

PREVIEW = "/cron/preview"


async def preview(api: Any, expect: int = 200, **params: str) -> Any:
    resp = await api("GET", PREVIEW, params=params, expect=expect, spec_path=PREVIEW)
    return resp.data


async def test_valid_expressions_list_their_next_fire_times(api: Any, mlops: Any) -> None:
    daily = await preview(api, expression="0 3 * * *", timezone="Europe/Berlin")
    assert daily["valid"] is True
    assert daily["expression"] == "0 3 * * *" and daily["timezone"] == "Europe/Berlin"
    times = [datetime.fromisoformat(t) for t in daily["next"]]
    assert len(times) == 5  # the default count
    berlin = ZoneInfo("Europe/Berlin")
    assert all(t.utcoffset() in (timedelta(hours=1), timedelta(hours=2)) for t in times)
    assert all(t.astimezone(berlin).strftime("%H:%M") == "03:00" for t in times)
    assert times == sorted(times) and len(set(times)) == 5
    assert times[0] > datetime.now(berlin)

    seconds = await preview(api, expression="  * * * * * */10 ", timezone="UTC", count="3")
    assert seconds["expression"] == "* * * * * */10"
    steps = [datetime.fromisoformat(t) for t in seconds["next"]]
    assert [b - a for a, b in itertools.pairwise(steps)] == [timedelta(seconds=10)] * 2
    assert all(t.utcoffset() == timedelta(0) and t.second % 10 == 0 for t in steps)

    alias = await preview(api, expression="@daily", timezone="UTC", count="20")
    assert len(alias["next"]) == 20

    local = await preview(api, expression="@hourly")
    assert local["valid"] is True and local["timezone"] == local_zone_name()


async def test_invalid_expressions_answer_the_schedules_message(api: Any, mlops: Any) -> None:
    for expression, timezone in [
        ("61 * * * *", "UTC"),
        ("0 3 * *", "UTC"),
        ("0 0 30 2 *", "UTC"),
        ("", "UTC"),
        ("@reboot", "UTC"),
        ("0 3 * * *", "Mars/Olympus_Mons"),
    ]:
        verdict = await preview(api, expression=expression, timezone=timezone)
        assert verdict["valid"] is False and verdict["error"], verdict
        refused = await api(
            "POST",
            "/schedules",
            body={
                "notebook": "notebooks/trivial.ipynb",
                "cron": expression or " ",
                "timezone": timezone,
            },
            expect=400,
        )
        if expression:
            assert refused.data["message"] == verdict["error"]
    unknown_zone = await preview(api, expression="0 3 * * *", timezone="Mars/Olympus_Mons")
    assert "unknown time zone" in unknown_zone["error"]
    assert "invalid cron expression" in (await preview(api, expression="61 * * * *"))["error"]
    assert (await api("GET", "/schedules", spec_path="/schedules")).data["schedules"] == []


async def test_bad_queries_are_400_and_credentials_are_required(api: Any, mlops: Any) -> None:
    for params, needle in [
        ({"expression": "0 3 * * *", "count": "0"}, "count"),
        ({"expression": "0 3 * * *", "count": "21"}, "count"),
        ({"expression": "0 3 * * *", "count": "many"}, "count"),
        ({"timezone": "UTC"}, "expression"),
    ]:
        resp = await api("GET", PREVIEW, params=params, expect=400, spec_path=PREVIEW)
        assert needle in resp.data["message"]
    anonymous = {"Authorization": ""}
    await api(
        "GET",
        PREVIEW,
        params={"expression": "0 3 * * *"},
        headers=anonymous,
        expect=403,
        spec_path=PREVIEW,
    )
