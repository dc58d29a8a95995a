"""Request and response shapes of the model registry (``/models/...``)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from .base import NonBlank, RequestModel, ResponseModel, StrictInt, Timestamp

PromotionState = Literal["pending", "promoted", "refused", "forced"]


class RegisterRequest(RequestModel):
    """Register a run's model artifact as the next version of a model (`POST /models`)."""

    problems: ClassVar = {
        "run_id": "run_id must be a run id (string), got {value}",
        "artifact": "artifact must be the name of a model artifact of the run, got {value}",
        "name": "name must be a model name (string), got {value}",
        "description": "description must be a string or null, got {value}",
    }
    required_message: ClassVar[str] = "{fields} required"

    run_id: NonBlank
    artifact: NonBlank
    name: NonBlank
    description: str | None = None


class PolicyRequest(RequestModel):
    """The promotion policy of a model: the validation notebook and the requirements."""

    problems: ClassVar = {
        "validate": "validate must be a notebook path relative to the server root, got {value}",
        "require": "require must be an array of requirement strings, got {value}",
        "seed": "seed must be an integer or null, got {value}",
    }

    validate_notebook: NonBlank = Field(alias="validate")
    require: list[str] = Field(default_factory=list)
    seed: StrictInt | None = None


class PromoteRequest(RequestModel):
    """Move an alias to a version: through the validation gate (the given `validate` and
    `require`, else the model's policy), or with `force` and a `reason`."""

    problems: ClassVar = {
        "version": "version must be a version number (integer from 1), got {value}",
        "alias": "alias must be an alias name (string), got {value}",
        "validate": "validate must be a notebook path relative to the server root, got {value}",
        "require": "require must be an array of requirement strings, got {value}",
        "force": "force must be true or false, got {value}",
        "reason": "reason must be a string or null, got {value}",
    }

    version: StrictInt = Field(ge=1)
    alias: NonBlank
    validate_notebook: str | None = Field(None, alias="validate")
    require: list[str] | None = None
    force: bool = False
    reason: str | None = None


class ModelVersionInfo(ResponseModel):
    name: str
    version: int
    uri: str = Field(description="models:/NAME/VERSION")
    aliases: list[str]
    run_id: str
    run_status: str | None
    commit: str | None
    artifact: str
    sha256: str
    size: int
    framework: str
    framework_version: str
    class_name: str
    parameter_count: int | None
    signature: dict[str, Any] | None
    description: str
    created_at: Timestamp
    created_by: str
    metrics: dict[str, float | None] = Field(description="Latest metric values of its run")
    parameters: dict[str, Any] = Field(description="Parameters of its run")


class ModelSummary(ResponseModel):
    name: str
    description: str
    tags: dict[str, Any]
    aliases: dict[str, int] = Field(description="alias -> version number")
    version_count: int
    latest_version: int | None
    policy: dict[str, Any] | None
    created_at: Timestamp
    created_by: str


class ModelList(ResponseModel):
    models: list[ModelSummary]


class ModelDetail(ModelSummary):
    versions: list[ModelVersionInfo]


class RegistryEventInfo(ResponseModel):
    id: int
    model: str
    at: Timestamp
    actor: str
    action: str = Field(
        description="register, alias_set, promotion_started, promotion_refused, "
        "promotion_forced, policy_set, delete"
    )
    version: int | None
    alias: str | None
    previous_version: int | None
    promotion_id: int | None
    reason: str | None
    details: dict[str, Any] | None


class ModelHistory(ResponseModel):
    events: list[RegistryEventInfo]


class Promotion(ResponseModel):
    """A promotion and how far it got: its validation runs and each requirement's verdict."""

    id: int | None = Field(description="The promotion_started event (null when forced)")
    model: str
    version: int
    alias: str
    state: PromotionState
    previous_version: int | None = Field(description="The holder it was checked against")
    candidate_run: str | None
    baseline_run: str | None
    requirements: list[str]
    verdicts: list[dict[str, Any]]
    message: str
