"""The notebook's own defaults, recorded with a run's overrides: the effective parameters.

A run used to record only the values given for it (papermill injects only those), so a
comparison could say no more than ``lr: default``. A run now also records, for every
declared parameter it was not given, the default of its ``parameters`` cell as inspected
at submit, marked ``overridden=False``. Only the overrides are injected, on the first run
and on a reproduction alike: the defaults are the snapshot's own, so the executed cell is
exactly the one that ran, whatever the notebook on disk says today.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any

from .inspection import Parameter
from .jsonsafe import json_safe_problem

EXPRESSION_TYPE = "expression"
"""``type_name`` of a default that is an expression (``out = os.path.join(base, "x")``):
its value is known only in the kernel, so its source text is recorded instead."""


def recorded_default(param: Parameter) -> tuple[Any, str]:
    """(value, type name) to record for a parameter left at its default: the literal
    value (tuples as lists, as JSON keeps them), else the expression's source text."""
    literal = param.default is not None or param.default_source.strip() == "None"
    if literal and json_safe_problem(param.default) is None:
        value = list(param.default) if isinstance(param.default, tuple) else param.default
        return value, param.type_name
    return param.default_source, EXPRESSION_TYPE


def default_rows(
    declared: Iterable[Parameter], given: Container[str]
) -> dict[str, tuple[Any, str, bool]]:
    """``{name: (value, type name, overridden=False)}`` for each declared parameter not in
    ``given``, in declaration order."""
    return {
        param.name: (*recorded_default(param), False)
        for param in declared
        if param.name not in given
    }
