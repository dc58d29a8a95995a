"""Request bodies: submitting a run, creating and changing a schedule.

``SchedulePolicy`` is not a body: it is what :class:`~jupyter_mlops.scheduling.service.
ScheduleService` checks of every schedule, whichever way it came (REST, CLI), with the same
field types as the bodies.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, Strict, StringConstraints

from ...input_rules import MAX_SEED, SEED_RANGE
from .base import (
    MaxCatchup,
    NonBlank,
    NonNegativeInt,
    PositiveSeconds,
    RequestModel,
    Tag,
)
from .triggers import one_target

NonNegativeFloat = Annotated[float, Field(ge=0)]
"""A number >= 0 (an integer is fine: JSON does not tell them apart)."""
ScheduleName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]


class CatchupPolicy(str, Enum):
    """Slots missed while no scheduler ran (or the schedule was paused): `skip` fires
    none, `once` the latest, `all` the most recent `max_catchup`, oldest first."""

    SKIP = "skip"
    ONCE = "once"
    ALL = "all"


class ConcurrencyPolicy(str, Enum):
    """A slot that comes while the schedule's previous run is active: `allow` starts
    another, `skip` records the slot as skipped, `queue` starts it when that run ends."""

    ALLOW = "allow"
    SKIP = "skip"
    QUEUE = "queue"


Catchup = Annotated[CatchupPolicy, Strict(False)]  # given as its value, "skip"
Concurrency = Annotated[ConcurrencyPolicy, Strict(False)]


def _choices(kind: type[Enum]) -> str:
    return ", ".join(str(member.value) for member in kind)


RUN_PROBLEMS = {
    "parameters": "parameters must be a JSON object of name -> value, got {value}",
    "kernel": "kernel must be a kernel name (string) or null, got {value}",
    "gpus": "gpus must be an integer >= 0, got {value}",
    "timeout": "timeout must be a positive, finite number of seconds or null, got {value}",
    "tags": "tags must be an array of non-empty strings (at most 255 characters)",
}
POLICY_PROBLEMS = {
    "catchup": f"unknown catch-up policy {{value}}; choose one of {_choices(CatchupPolicy)}",
    "concurrency": (
        f"unknown concurrency policy {{value}}; choose one of {_choices(ConcurrencyPolicy)}"
    ),
    "max_catchup": "max_catchup must be a whole number from 1 to 1000, got {value}",
    "name": "name must be a string of at most 255 characters, got {value}",
    "active": "active must be true or false, got {value}",
}


class SubmitRequest(RequestModel):
    """Run a notebook as a job (`POST /runs`)."""

    problems: ClassVar = {
        **RUN_PROBLEMS,
        "notebook": "notebook must be a non-empty path relative to the server root",
        "seed": f"seed must be {SEED_RANGE} or null, got {{value}}",
        "commit": "commit must be true or false, got {value}",
        "commit_message": "commit_message must be a string or null, got {value}",
    }
    required_message: ClassVar = "{fields} is required (a path relative to the server root)"

    notebook: str = Field(description="Path of the .ipynb relative to the server's root (no `..`).")
    parameters: dict[str, Any] | None = Field(
        None,
        description="Typed values for the notebook's parameters (checked against their types).",
    )
    kernel: str | None = Field(
        None, description="Kernel name; default the notebook's kernel, else python3."
    )
    gpus: NonNegativeInt | None = 0
    timeout: PositiveSeconds | None = Field(
        None, description="Seconds before the run is stopped as timed_out."
    )
    tags: list[Tag] | None = None
    seed: Annotated[int, Strict(), Field(ge=0, le=MAX_SEED)] | None = Field(
        None, description="Random seed; default the `seed` parameter's value, else a random one."
    )
    commit: bool | None = Field(
        False, description="Also commit the notebook to the current branch before running."
    )
    commit_message: str | None = None

    def run_fields(self) -> dict[str, Any]:
        """The :class:`~jupyter_mlops.jobs.RunSpec` fields (all but the notebook), nulls
        replaced by what they mean."""
        return {
            "parameters": self.parameters or {},
            "kernel": self.kernel or None,
            "gpus": self.gpus or 0,
            "timeout": self.timeout,
            "tags": list(self.tags or []),
            "seed": self.seed,
            "commit": bool(self.commit),
            "commit_message": self.commit_message or None,
        }


class ReproduceRequest(RequestModel):
    """Reproduce a run (`POST /runs/{run_id}/reproduce`; the body is optional)."""

    problems: ClassVar = {
        "parameters": "parameters must be an object of name -> value, got {value}",
        "rtol": "rtol must be a number >= 0, got {value}",
        "atol": "atol must be a number >= 0, got {value}",
        "normalize": "normalize must be a list of regular expressions, got {value}",
    }

    parameters: dict[str, Any] | None = Field(
        None,
        description="Values of the run's secret parameters, which are never stored (its "
        "other parameters are the original run's). A secret not given here is read from "
        "the server's `JUPYTER_MLOPS_SECRET_<NAME>` environment variable; without either "
        "the answer is a 400 naming it.",
    )
    verify: bool = Field(
        False,
        description="Check every recorded input first (a changed or missing dataset, commit "
        "or kernel: 409 naming it, nothing runs) and have the reproduction record a verdict "
        "against the original when it ends (`verification` of `GET /runs/{new_id}`).",
    )
    rtol: NonNegativeFloat = Field(0.0, description="Relative tolerance for metric values.")
    atol: NonNegativeFloat = Field(0.0, description="Absolute tolerance for metric values.")
    normalize: list[str] = Field(
        default_factory=list,
        description="Regexes of volatile output text, added to the configured ones.",
    )
    allow_changed_inputs: bool = Field(
        False, description="Run even when inputs changed (recorded on the new run)."
    )
    strict_env: bool = Field(False, description="A changed package version refuses too.")


class ScheduleChanges(RequestModel):
    """Fields to change (a `PATCH` body); see `ScheduleRequest`."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    problems: ClassVar = {
        **RUN_PROBLEMS,
        **POLICY_PROBLEMS,
        "notebook": "notebook must be a non-empty string, got {value}",
        "cron": "cron must be a non-empty string, got {value}",
        "timezone": "timezone must be a string or null, got {value}",
        "branch": "branch must be a string or null, got {value}",
        "parameters": "parameters must be an object of name -> value, got {value}",
    }

    notebook: NonBlank = Field(None)
    cron: NonBlank = Field(None)
    timezone: str | None = None
    branch: str | None = None
    parameters: dict[str, Any] | None = None
    kernel: str | None = None
    gpus: NonNegativeInt | None = None
    timeout: PositiveSeconds | None = None
    tags: list[Tag] | None = None
    catchup: Catchup = Field(None)
    max_catchup: MaxCatchup = Field(None)
    concurrency: Concurrency = Field(None)
    name: ScheduleName | None = None
    active: bool = Field(None)

    def spec_fields(self) -> dict[str, Any]:
        """The given fields as :class:`~jupyter_mlops.scheduling.service.ScheduleSpec`
        fields, nulls replaced by what they mean."""
        out: dict[str, Any] = {}
        for key in self.model_fields_set:
            value = getattr(self, key)
            if key in ("timezone", "branch", "kernel", "name"):
                value = value or None
            elif key == "parameters":
                value = value or {}
            elif key == "gpus":
                value = value or 0
            elif key == "tags":
                value = list(value or [])
            out[key] = value
        return out


class ScheduleRequest(ScheduleChanges):
    """Run a notebook (or a pipeline) on a cron schedule (`POST /schedules`)."""

    notebook: NonBlank = Field(
        None,
        description="Path of the .ipynb relative to the server's root (no `..`); a "
        "`.yaml`/`.yml` file is a pipeline, as with `pipeline`.",
    )
    pipeline: NonBlank = Field(
        None,
        description="Instead of `notebook`: a pipeline file (YAML) relative to the root; "
        'each slot starts a pipeline run. `parameters` are then by step: `{"train": {"lr": '
        "0.01}}`; kernel, gpus, timeout and tags come from the file.",
    )

    def spec_fields(self) -> dict[str, Any]:
        """As :meth:`ScheduleChanges.spec_fields`, ``pipeline`` given as the ``notebook``
        it replaces."""
        fields = super().spec_fields()
        fields["notebook"] = one_target(fields.get("notebook"), fields.pop("pipeline", None))
        return fields

    cron: NonBlank = Field(
        description="5 fields (minute hour day-of-month month weekday), 6 with seconds last "
        "(`* * * * * */10`: every 10 s), or @hourly, @daily, @weekly, @monthly, @yearly. "
        "Read in `timezone`, correct across DST changes."
    )
    timezone: str | None = Field(
        None, description="IANA name (e.g. `Europe/Berlin`); default the server's zone."
    )
    branch: str | None = Field(
        None,
        description="Run what is committed on this branch (GitOps) instead of the working "
        "copy as saved when a slot fires.",
    )
    name: ScheduleName | None = Field(
        None, description="Default the notebook's stem (`@branch` for a branch schedule)."
    )


class SchedulePolicy(RequestModel):
    """The run settings and policies every stored schedule satisfies."""

    problems: ClassVar = {**RUN_PROBLEMS, **POLICY_PROBLEMS}

    gpus: NonNegativeInt = 0
    timeout: PositiveSeconds | None = None
    tags: list[Tag] = Field(default_factory=list)
    catchup: Catchup = Field(CatchupPolicy.SKIP.value)
    max_catchup: MaxCatchup = 10
    concurrency: Concurrency = Field(ConcurrencyPolicy.ALLOW.value)
    name: ScheduleName | None = None
    active: bool = True
