"""Strict value checks shared by every entry point (REST, CLI, schedules).

Plain Python on purpose: ``jobs`` runs in the CLI and the runner, which should not pay for
importing pydantic to ask whether a value is an integer. The REST models express the same
rule with pydantic's ``Strict()`` integers.
"""

from __future__ import annotations

from typing import Any


def is_strict_int(value: Any) -> bool:
    """Whether ``value`` is an integer (not a bool, not a float, not a numeric string)."""
    return isinstance(value, int) and not isinstance(value, bool)
