"""Base classes and field types shared by the request and response models.

Request models are strict and closed: JSON gives exactly one type per value, so a string
where an integer belongs is the client's mistake, not something to coerce, and an unknown
field is a typo to report (``params`` for ``parameters``). Their error messages name the
field and what it must be; the handlers answer them as 400s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)

from ...store.models import RunStatus

StrictInt = Annotated[int, Strict()]
"""An integer and nothing else (``True`` and ``1.0`` are not integers here)."""
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]
"""A positive number of seconds (an integer is fine: JSON does not tell them apart)."""
MaxCatchup = Annotated[int, Strict(), Field(ge=1, le=1000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
NonBlank = Annotated[str, StringConstraints(pattern=r"\S")]
"""A string with something other than white space in it (kept as given)."""


def _iso(value: datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware instant, sent as ``datetime.isoformat()`` (``+00:00``, not ``Z``)."""

RunStatusName = Annotated[RunStatus, Strict(False)]
"""A run status, given as its value (``"queued"``)."""


RequestT = TypeVar("RequestT", bound="RequestModel")


def _shown(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


class RequestModel(BaseModel):
    """A request body: strict types, no unknown fields, messages that name the field."""

    model_config = ConfigDict(strict=True, extra="forbid", use_enum_values=True)

    problems: ClassVar[Mapping[str, str]] = {}
    """Field -> the message for a wrong value, with ``{value}`` (as JSON)."""
    required_message: ClassVar[str] = "{fields} required"

    @classmethod
    def parse(cls: type[RequestT], data: Mapping[str, Any]) -> RequestT:
        """Validate ``data``; a ValueError with one clear message when it does not fit."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ValueError(cls.explain(err, data)) from None

    @classmethod
    def explain(cls, err: ValidationError, data: Mapping[str, Any]) -> str:
        """The first problem, in the order a person fixes them: unknown fields, missing
        ones, then a field's value."""
        errors = err.errors()
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
        if unknown:
            return f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(cls.model_fields)}"
        missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing"]
        if missing:
            return cls.required_message.format(fields=" and ".join(missing))
        first = errors[0]
        if not first["loc"]:
            return str(first["msg"])
        name = str(first["loc"][0])
        value = _shown(data.get(name, first.get("input")))
        template = cls.problems.get(name)
        if template:
            return template.format(value=value)
        return f"{name}: {first['msg']} (got {value})"


class ResponseModel(BaseModel):
    """What the server sends. Built from the store's rows (not strict: a float column
    stays a float); fields in the order clients see them."""

    model_config = ConfigDict(use_enum_values=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON object (a dict; enum values as strings, instants as ISO text)."""
        return self.model_dump()
