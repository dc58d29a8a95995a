"""The model registry's REST API through a real jupyter server: register from a run,
promote through a stored policy (the server drives the validation runs to the verdict),
a refused promotion, a forced one, the history and the card; ``execute`` is needed to
promote or set a policy; bad input is a 4xx with a message. Responses are validated
against ``openapi.yaml``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from jupyter_server.auth.authorizer import Authorizer

from .test_rest import (  # noqa: F401 - fixtures of the REST tests: the same server set-up
    api,
    jp_server_config,
    mlops_data,
    wait_for_status,
)

NO_EXECUTE = {"X-Test-Deny": "execute"}
TRAIN = "notebooks/registry_train.ipynb"
VALIDATE = "notebooks/registry_validate.ipynb"


class DenyByHeader(Authorizer):
    """A user without some permission: the action named in ``X-Test-Deny`` is refused."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return handler.request.headers.get("X-Test-Deny") != action


async def train(api: Any, quality: float) -> str:  # noqa: F811
    body = {"notebook": TRAIN, "parameters": {"quality": quality, "name": "churn"}}
    run = (await api("POST", "/runs", body=body, expect=201)).data
    await wait_for_status(api, run["id"], {"succeeded"}, timeout=180)
    return str(run["id"])


async def promotion_verdict(api: Any, promotion: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """Wait (generously) for the server to decide a promotion."""
    path = f"/models/churn/promotions/{promotion['id']}"
    deadline = time.monotonic() + 240
    while True:
        view = (await api("GET", path, spec_path="/models/{name}/promotions/{promotion_id}")).data
        if view["state"] != "pending":
            return view
        assert time.monotonic() < deadline, view
        await asyncio.sleep(0.5)


async def test_register_promote_refuse_force_history(
    api: Any,  # noqa: F811
    mlops: Any,
    jp_serverapp: Any,
) -> None:
    jp_serverapp.web_app.settings["authorizer"] = DenyByHeader(parent=jp_serverapp)
    first = await train(api, 1.0)  # log_model(register_as="churn"): churn version 1
    second = await train(api, 0.5)  # churn version 2 (smaller weights: a lower eval/loss)
    run = (await api("GET", f"/runs/{first}", spec_path="/runs/{run_id}")).data
    assert run["submitted_by"]

    # register from a run through REST
    body = {"run_id": first, "artifact": "regressor", "name": "fraud"}
    fraud = (await api("POST", "/models", body=body, expect=201, spec_path="/models")).data
    assert (fraud["uri"], fraud["run_id"], fraud["class_name"]) == (
        "models:/fraud/1",
        first,
        "torch.nn.modules.linear.Linear",
    )
    listing = (await api("GET", "/models", spec_path="/models")).data["models"]
    assert [(m["name"], m["version_count"]) for m in listing] == [("churn", 2), ("fraud", 1)]
    detail = (await api("GET", "/models/churn", spec_path="/models/{name}")).data
    assert [
        (v["version"], v["run_id"], v["metrics"]["train/loss"]) for v in detail["versions"]
    ] == [
        (1, first, 1.0),
        (2, second, 0.5),
    ]

    # bad input: 404 unknown model, 400 with a message, nothing written
    policy = {"validate": VALIDATE, "require": ["eval/loss <= baseline"]}
    promote = "/models/{name}/promotions"

    async def promote_churn(body: dict[str, Any], expect: int = 202) -> Any:
        return await api(
            "POST", "/models/churn/promotions", expect=expect, spec_path=promote, body=body
        )

    missing = await api("GET", "/models/nope", expect=404, spec_path="/models/{name}")
    assert "no registered model named 'nope'" in missing.data["message"]
    await api(
        "POST",
        "/models/nope/promotions",
        body={"version": 1, "alias": "production"},
        expect=404,
        spec_path=promote,
    )
    bad = await api(
        "PUT",
        "/models/churn/policy",
        expect=400,
        spec_path="/models/{name}/policy",
        body={"validate": VALIDATE, "require": ["eval/loss <== baseline"]},
    )
    assert "cannot read requirement 'eval/loss <== baseline'" in bad.data["message"]
    unreadable = {"validate": VALIDATE, "require": ["latency_ms < fast"]}
    for body, needle in [
        ({"version": 2, "alias": "production", **unreadable}, "METRIC OP NUMBER"),
        ({"version": 2, "alias": "production"}, "has no promotion policy"),
        ({"version": 0, "alias": "production"}, "version must be"),
        ({"version": "2", "alias": "production"}, "version must be"),
        ({"version": 2, "alias": "prod", "tags": []}, "unknown field"),
        ({"version": 2, "alias": "1st", "force": True, "reason": "x"}, "alias '1st'"),
    ]:
        resp = await promote_churn(body, expect=400)
        assert needle in resp.data["message"], resp.data
    resp = await api(
        "POST",
        "/models",
        body={"run_id": first, "artifact": "nope", "name": "x"},
        expect=404,
        spec_path="/models",
    )
    assert "no artifact named 'nope'" in resp.data["message"]

    # a user without `execute` can read but neither set a policy nor promote
    await api("PUT", "/models/churn/policy", body=policy, headers=NO_EXECUTE, expect=403)
    await api(
        "POST",
        "/models/churn/promotions",
        headers=NO_EXECUTE,
        expect=403,
        body={"version": 2, "alias": "production", "force": True, "reason": "x"},
    )
    await api("GET", "/models/churn", headers=NO_EXECUTE)
    assert mlops.store.alias_holder("churn", "production") is None
    assert mlops.store.get_model("churn").policy is None

    # the policy, then promotions that apply it, decided by the server
    stored = await api(
        "PUT", "/models/churn/policy", body=policy, spec_path="/models/{name}/policy"
    )
    assert stored.data["policy"]["require"] == ["eval/loss <= baseline"]
    started = await promote_churn({"version": 1, "alias": "production"})
    assert started.data["state"] == "pending" and started.data["baseline_run"] is None
    assert (await promotion_verdict(api, started.data))["state"] == "promoted"
    started = await promote_churn({"version": 2, "alias": "production"})
    assert started.data["previous_version"] == 1 and started.data["baseline_run"]
    verdict = await promotion_verdict(api, started.data)
    assert verdict["state"] == "promoted", verdict
    assert verdict["verdicts"][0]["candidate"] == 0.5
    assert verdict["verdicts"][0]["baseline"] == 1.0
    # version 1 is worse than the holder now: refused, the alias stays
    started = await promote_churn({"version": 1, "alias": "production"})
    verdict = await promotion_verdict(api, started.data)
    assert verdict["state"] == "refused"
    assert "eval/loss <= baseline: failed (candidate 1, baseline 0.5)" in verdict["message"]
    assert mlops.store.alias_holder("churn", "production") == 2

    # forced, with a reason; then the history and the card
    forced = await promote_churn(
        {"version": 1, "alias": "staging", "force": True, "reason": "canary"}, expect=201
    )
    assert forced.data["state"] == "forced"
    events = (await api("GET", "/models/churn/history", spec_path="/models/{name}/history")).data
    actions = [(e["action"], e["version"], e["alias"]) for e in events["events"]]
    assert actions == [
        ("register", 1, None),
        ("register", 2, None),
        ("policy_set", None, None),
        ("promotion_started", 1, "production"),
        ("alias_set", 1, "production"),
        ("promotion_started", 2, "production"),
        ("alias_set", 2, "production"),
        ("promotion_started", 1, "production"),
        ("promotion_refused", 1, "production"),
        ("promotion_forced", 1, "staging"),
    ]
    assert all(e["actor"] and e["actor"] != "unknown" for e in events["events"])
    card = await api(
        "GET", "/models/churn/versions/2/card", spec_path="/models/{name}/versions/{version}/card"
    )
    assert b"# churn version 2" in card.body and b"models:/churn@production" in card.body

    # deleting: a version an alias names is refused; a model goes, its history stays
    conflict = await api(
        "DELETE",
        "/models/churn/versions/1",
        expect=409,
        spec_path="/models/{name}/versions/{version}",
    )
    assert "@staging" in conflict.data["message"]
    await api("DELETE", "/models/fraud", expect=204, spec_path="/models/{name}")
    await api("GET", "/models/fraud", expect=404)
    history = (await api("GET", "/models/fraud/history")).data["events"]
    assert [e["action"] for e in history] == ["register", "delete"]
    await api("DELETE", f"/runs/{second}", expect=409)  # its model is registered
