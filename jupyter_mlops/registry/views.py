"""JSON views of the registry, shared by the CLI (``--json``) and the REST API; each is
built as its response model, so what is sent is what ``openapi.yaml`` documents."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from ..server.models import registry as shapes
from .uris import ModelURI

if TYPE_CHECKING:
    from ..store import RunStore
    from ..store.models_registry import ModelVersion, RegisteredModel, RegistryEvent
    from ..store.registry import ModelListing


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def model_summary(listing: ModelListing) -> dict[str, Any]:
    return shapes.ModelSummary(**_summary_fields(listing.model, listing)).to_json()


def _summary_fields(model: RegisteredModel, listing: ModelListing) -> dict[str, Any]:
    return {
        "name": model.name,
        "description": model.description,
        "tags": model.tags or {},
        "aliases": listing.aliases,
        "version_count": listing.versions,
        "latest_version": listing.latest_version,
        "policy": model.policy,
        "created_at": model.created_at,
        "created_by": model.created_by,
    }


def version_info(store: RunStore, name: str, version: ModelVersion, aliases: dict[str, int]) -> Any:
    run = store.get_run(version.run_id)
    metrics = {k: _finite(v) for k, v in store.latest_metrics(version.run_id).items()}
    return shapes.ModelVersionInfo(
        name=name,
        version=version.version,
        uri=str(ModelURI.of_version(name, version.version)),
        aliases=sorted(a for a, v in aliases.items() if v == version.version),
        run_id=version.run_id,
        run_status=run.status if run else None,
        commit=(run.commit_sha or None) if run else None,
        artifact=version.artifact_name,
        sha256=version.sha256,
        size=version.size,
        framework=version.framework,
        framework_version=version.framework_version,
        class_name=version.class_name,
        parameter_count=version.parameter_count,
        signature=version.signature,
        description=version.description,
        created_at=version.created_at,
        created_by=version.created_by,
        metrics=metrics,
        parameters={p.name: json.loads(p.value_json) for p in run.params} if run else {},
    )


def model_detail(store: RunStore, name: str) -> dict[str, Any]:
    """A model with its versions (each with its run's metrics and parameters)."""
    listing = next((m for m in store.list_models() if m.model.name == name), None)
    if listing is None:
        store.require_model(name)  # raises the clear "no registered model"
        raise AssertionError
    versions = [version_info(store, name, v, listing.aliases) for v in store.model_versions(name)]
    return shapes.ModelDetail(
        **_summary_fields(listing.model, listing), versions=versions
    ).to_json()


def event_info(event: RegistryEvent) -> dict[str, Any]:
    return shapes.RegistryEventInfo(
        id=event.id,
        model=event.model_name,
        at=event.at,
        actor=event.actor,
        action=event.action,
        version=event.version,
        alias=event.alias,
        previous_version=event.previous_version,
        promotion_id=event.promotion_id,
        reason=event.reason,
        details=event.details,
    ).to_json()


def history(store: RunStore, name: str) -> dict[str, Any]:
    return shapes.ModelHistory(events=[event_info(e) for e in store.model_history(name)]).to_json()


def promotion_view(started: RegistryEvent, outcome: RegistryEvent | None) -> dict[str, Any]:
    """A promotion as far as it got (a forced one is its own ``started``, with no runs)."""
    details = started.details or {}
    final = (outcome.details or {}) if outcome is not None else {}
    if started.action == "promotion_forced":
        state, message = "forced", f"forced: {started.reason}"
    elif outcome is None:
        state, message = "pending", "validation runs are running"
    elif outcome.action == "alias_set":
        state, message = "promoted", outcome.reason or "promoted"
    else:
        state, message = "refused", outcome.reason or "refused"
    assert started.version is not None and started.alias is not None
    return shapes.Promotion(
        id=started.id if started.action == "promotion_started" else None,
        model=started.model_name,
        version=started.version,
        alias=started.alias,
        state=state,
        previous_version=started.previous_version,
        candidate_run=details.get("candidate_run"),
        baseline_run=details.get("baseline_run"),
        requirements=list(details.get("require", [])),
        verdicts=list(final.get("verdicts", [])),
        message=message,
    ).to_json()
