"""JSON that is always valid: NaN and infinities are written as ``null``.

Rows written by older versions may hold NaN or an infinity in a number column (a metric
value, a run's ``timeout_s``, a parameter's JSON, an environment record), which JSON cannot
carry: Python's ``json.dumps`` writes ``NaN``/``Infinity``, which browsers and ``jq``
refuse, so one such row used to break every later list page. Whatever the REST API sends
and the CLI prints as JSON goes through :func:`dumps_json`, which sends them as ``null``,
as metric values always were (the OpenAPI document says so). People reading the CLI's
text output see such a value as Python prints it (``nan``, ``inf``).

A module of its own, importing nothing heavy, so every CLI command can use it.
"""

from __future__ import annotations

import json
import math
from typing import Any


def json_safe(data: Any) -> Any:
    """``data`` with every NaN and infinity (in dicts, lists and tuples) replaced by None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(value) for value in data]
    return data


def dumps_json(data: Any, **options: Any) -> str:
    """``json.dumps`` that always writes valid JSON: NaN and infinities become ``null``
    (:func:`json_safe`, walked only when there is one, so the usual answer costs nothing
    more). ``options`` as for ``json.dumps`` (``indent``, ``default``)."""
    try:
        return json.dumps(data, allow_nan=False, **options)
    except ValueError as err:
        if "JSON compliant" not in str(err):
            raise
        return json.dumps(json_safe(data), allow_nan=False, **options)
