"""Generate ``openapi.yaml`` from the models and the handlers' paths; check it is current.

    python -m jupyter_mlops.server.openapi           # write jupyter_mlops/server/openapi.yaml
    python -m jupyter_mlops.server.openapi --check   # exit 1 with a diff if it is stale

The components are the pydantic models' JSON Schemas (request models as they validate,
response models as they serialize); the paths are declared next to their handlers
(``PATHS`` in each ``*_handlers`` module). The committed file is what clients and the
frontend's generated TypeScript types read, so CI runs the check.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from .models import REQUEST_MODELS, RESPONSE_MODELS
from .routes import api_paths

SPEC_FILE = Path(__file__).with_name("openapi.yaml")
REF_PREFIX = "#/components/schemas/"

DESCRIPTION = """\
Run notebooks as tracked, reproducible jobs. Served by the `jupyter_mlops`
jupyter-server extension under `{base_url}mlops/api/`.

Authentication is jupyter-server's: a token (`Authorization: token <token>`) or the
login cookie (with the `X-XSRFToken` header on POST and DELETE). Requests without
them get 403. Authorization uses the resource `mlops`: reading needs `read`,
cancelling and deleting `write`, submitting and reproducing (which run code)
`execute`.

Every error answers JSON `{"message": ..., "status": ...}` (never a traceback):
400 malformed request or invalid notebook/parameters/kernel/GPUs, 403 a path
outside the server's root (or one containing `..`) or not authorized, 404 an unknown
run, artifact or notebook file, 409 an operation the run's state forbids.

Metric values are JSON numbers; NaN and infinite values (which JSON cannot carry)
are `null`. Series are downsampled on the server to at most `max_points` points:
the step range is cut into `max_points / 2` buckets and each bucket's smallest and
largest value are kept, so spikes survive.

This file is generated (`python -m jupyter_mlops.server.openapi`): edit the models in
`jupyter_mlops/server/models/` and the `PATHS` of the handler modules instead.
"""


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"{REF_PREFIX}Error"}}},
    }


SHARED_COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`token <the server's token>`",
        },
        "cookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "_xsrf",
            "description": "jupyter-server login cookie; send `X-XSRFToken` on POST and DELETE",
        },
    },
    "parameters": {
        "ScheduleId": {
            "name": "schedule_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{1,32}$"},
        },
        "RunId": {
            "name": "run_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{1,32}$"},
        },
        "MaxPoints": {
            "name": "max_points",
            "in": "query",
            "description": "At most this many points per series (default 1000); longer "
            "series are downsampled, keeping the smallest and largest value of each bucket.",
            "schema": {"type": "integer", "minimum": 2, "maximum": 100000, "default": 1000},
        },
        "IfNoneMatch": {
            "name": "If-None-Match",
            "in": "header",
            "description": "An `Etag` from an earlier download (artifacts are content-addressed).",
            "schema": {"type": "string"},
        },
    },
    "responses": {
        "BadRequest": _error_response(
            "Malformed request, or an invalid notebook, parameters, kernel or GPU request"
        ),
        "Forbidden": _error_response(
            "Not authenticated or not authorized, or a path outside the server's root"
        ),
        "NotFound": _error_response("Unknown run, schedule, artifact or notebook file"),
        "Conflict": _error_response(
            "The run's state does not allow this (e.g. deleting an active run)"
        ),
    },
}

_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def _tidy(schema: Any) -> Any:
    """A pydantic schema as a reader wants it: no generated titles, no ``default: null``,
    ``type: [string, "null"]`` for a nullable plain type, one-line descriptions."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key == "description" and isinstance(value, str):
            value = " ".join(value.split())
        elif key == "properties":
            value = {name: _tidy(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA_LISTS:
            value = [_tidy(sub) for sub in value]
        elif key in ("items", "additionalProperties"):
            value = _tidy(value)
        out[key] = value
    return _ordered(_merge_null(out))


_FIRST_KEYS = ("type", "description")


def _ordered(schema: dict[str, Any]) -> dict[str, Any]:
    """``type`` and ``description`` first, as a person writes a schema."""
    first = {key: schema[key] for key in _FIRST_KEYS if key in schema}
    return {**first, **{k: v for k, v in schema.items() if k not in first}}


def _merge_null(schema: dict[str, Any]) -> dict[str, Any]:
    variants = schema.get("anyOf")
    if not variants or len(variants) != 2 or {"type": "null"} not in variants:
        return schema
    other = next(v for v in variants if v != {"type": "null"})
    if "$ref" in other or not isinstance(other.get("type"), str):
        return schema
    merged = {key: value for key, value in schema.items() if key != "anyOf"}
    return {
        "type": [other["type"], "null"],
        **{k: v for k, v in other.items() if k != "type"},
        **merged,
    }


def component_schemas() -> dict[str, Any]:
    """Every model (and every model or enum they use) as a named schema."""
    models = [(m, "validation") for m in REQUEST_MODELS]
    models += [(m, "serialization") for m in RESPONSE_MODELS]
    _, top = models_json_schema(models, ref_template=REF_PREFIX + "{model}")  # type: ignore[arg-type]
    schemas = top.get("$defs", {})
    clashes = [name for name in schemas if name.endswith(("-Input", "-Output"))]
    if clashes:
        raise RuntimeError(f"models used both ways with different shapes: {clashes}")
    return {name: _tidy(schema) for name, schema in schemas.items()}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def build_document() -> dict[str, Any]:
    components = {**SHARED_COMPONENTS, "schemas": component_schemas()}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "jupyter-mlops REST API", "version": "1", "description": DESCRIPTION},
        "servers": [
            {"url": "/mlops/api", "description": "relative to the Jupyter server's base URL"}
        ],
        "security": [{"token": []}, {"cookie": []}],
        "paths": api_paths(),
        "components": components,
    }
    for target in _refs(document):
        kind, _, name = target.removeprefix("#/components/").partition("/")
        if name not in components.get(kind, {}):
            raise RuntimeError(f"{target} is referenced but not a component")
    return document


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings as ``|`` blocks; no anchors for shared dicts."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    """Short lists of plain values (``required``, ``enum``, ``type``) on one line."""
    flat = all(isinstance(item, (str, int, float, bool)) or item is None for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


def _dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
    """References on one line: ``{$ref: '#/components/schemas/Run'}``."""
    flow = list(value) == ["$ref"]
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=flow)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)
_Dumper.add_representer(dict, _dict)


def render() -> str:
    header = "# Generated by `python -m jupyter_mlops.server.openapi`; do not edit.\n"
    body = yaml.dump(
        build_document(), Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True
    )
    return header + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 with a diff when the file is not current"
    )
    parser.add_argument("--output", type=Path, default=SPEC_FILE, help="the file to write")
    args = parser.parse_args(argv)
    wanted = render()
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    if args.check:
        if current == wanted:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            f"{args.output} (committed)",
            f"{args.output} (generated)",
        )
        sys.stdout.writelines(diff)
        print(
            f"\n{args.output} is stale: run `python -m jupyter_mlops.server.openapi`",
            file=sys.stderr,
        )
        return 1
    if current != wanted:
        args.output.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
