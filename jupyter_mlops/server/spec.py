"""Building blocks for the ``PATHS`` each handler module declares for ``openapi.yaml``.

A path item is plain OpenAPI (a dict); bodies refer to the models by class, so renaming a
model renames its references, and the generator (:mod:`jupyter_mlops.server.openapi`)
checks that every referenced model is a component.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

PathItems = dict[str, dict[str, Any]]


def ref(model: type[BaseModel] | str) -> dict[str, str]:
    """``{"$ref": "#/components/schemas/<model>"}``."""
    name = model if isinstance(model, str) else model.__name__
    return {"$ref": f"#/components/schemas/{name}"}


def _shared(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


BAD_REQUEST = _shared("responses", "BadRequest")
FORBIDDEN = _shared("responses", "Forbidden")
NOT_FOUND = _shared("responses", "NotFound")
CONFLICT = _shared("responses", "Conflict")
RUN_ID = _shared("parameters", "RunId")
SCHEDULE_ID = _shared("parameters", "ScheduleId")
MAX_POINTS_PARAM = _shared("parameters", "MaxPoints")
IF_NONE_MATCH = _shared("parameters", "IfNoneMatch")


def json_response(
    description: str, model: type[BaseModel], *, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A response whose body is ``model`` as JSON."""
    response: dict[str, Any] = {"description": description}
    if headers:
        response["headers"] = headers
    response["content"] = {"application/json": {"schema": ref(model)}}
    return response


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """A required JSON request body validated by ``model``."""
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}


def location(what: str) -> dict[str, Any]:
    """The ``Location`` header of a 201."""
    return {"Location": {"description": f"URL of the new {what}", "schema": {"type": "string"}}}


def query(name: str, schema: dict[str, Any], description: str | None = None, **extra: Any) -> dict:
    """A query parameter (arrays are repeated: ``?tag=a&tag=b``)."""
    param: dict[str, Any] = {"name": name, "in": "query"}
    if extra.pop("required", False):
        param["required"] = True
    if description:
        param["description"] = description
    param["schema"] = schema
    if schema.get("type") == "array":
        param.update({"style": "form", "explode": True})
    param.update(extra)
    return param


def path_param(name: str, schema: dict[str, Any], description: str | None = None) -> dict:
    param: dict[str, Any] = {"name": name, "in": "path", "required": True}
    if description:
        param["description"] = description
    param["schema"] = schema
    return param
