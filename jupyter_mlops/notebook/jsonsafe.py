"""What survives a JSON round trip: run parameters are stored as JSON and injected again
on reproduce, so a value that would come back different is refused up front."""

from __future__ import annotations

import json
import math
from typing import Any


def json_safe_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored as JSON and injected back identically, or ``None``.

    Run parameters are stored as JSON and re-injected on reproduce, so anything that would
    not survive the round trip (sets, dates from YAML, NaN, non-string dict keys) is refused.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"non-finite number {value!r} is not allowed"
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = json_safe_problem(item)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"dict keys must be strings, got {key!r}"
            problem = json_safe_problem(item)
            if problem:
                return problem
        return None
    return f"values of type {type(value).__name__} cannot be stored"


def json_safe_or_none(value: Any) -> Any:
    if json_safe_problem(value) is not None:
        return None
    return json.loads(json.dumps(value))
