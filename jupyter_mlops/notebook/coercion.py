"""Convert and check the values a run is given against the notebook's parameters.

Command-line strings (``-p epochs 3``) are converted to the declared type; typed values
(YAML, JSON, REST) are only checked. Every problem is reported at once, with the list of
what the notebook accepts, because that list is what the person needs to fix the call.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

from .inspection import Parameter, format_parameters, in_declared_order
from .jsonsafe import json_safe_problem

_HOW_TO_TAG = (
    "To add one: put the default values in a code cell (e.g. `epochs = 10`), then in "
    "JupyterLab open the property inspector (gear icon in the right sidebar) -> Common Tools "
    '-> Cell Tags, and add the tag "parameters" to that cell.'
)


class ParameterError(ValueError):
    """Unknown parameter or wrong type.

    The message lists every problem at once plus the notebook's parameters (name, type,
    default, help), because the person reading it usually needs exactly that list to fix
    the call. ``problems`` maps a parameter name to its problem so a form can highlight fields.
    """

    def __init__(self, message: str, problems: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems: dict[str, str] = dict(problems or {})


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
_NONE_WORDS = {"none", "null"}
PAPERMILL_NONE = "None"
"""``-p NAME None`` is None for every parameter, typed or not, as papermill reads it."""
_INT_RE = re.compile(r"^[+-]?\d[\d_]*$")


def _parse_structured(raw: str) -> list[Any]:
    """Candidate parses of a CLI string: YAML (JSON is YAML) then Python literal syntax."""
    import yaml  # lazy: only needed for structured CLI values

    candidates: list[Any] = []
    with contextlib.suppress(yaml.YAMLError):
        candidates.append(yaml.safe_load(raw))
    with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        candidates.append(ast.literal_eval(raw.strip()))
    return candidates


def _guess(raw: str) -> Any:
    """Best guess for an untyped parameter: bool / None / int / float / list / dict, else str."""
    text = raw.strip()
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered in _NONE_WORDS:
        return None
    if _INT_RE.match(text):
        return int(text)
    if any(ch.isdigit() for ch in text):
        try:
            value = float(text)
            if math.isfinite(value):
                return value
        except ValueError:
            pass
    if text[:1] in "[{(":
        for candidate in _parse_structured(text):
            if isinstance(candidate, (list, dict, tuple)) and json_safe_problem(candidate) is None:
                return candidate
    return raw


def _expected(param: Parameter) -> str:
    return param.type_name + (" or None" if param.nullable and param.type_name != "any" else "")


def coerce_cli_value(param: Parameter | None, raw: str) -> Any:
    """Convert a command-line string (``-p epochs 3``) to the parameter's type.

    Raises :class:`ParameterError` (message without the listing; :func:`validate_parameters`
    adds it). Untyped parameters get a guess, falling back to the string as given.
    """
    if param is None or param.type_name in ("any", "NoneType"):
        return _guess(raw)
    name, type_name, text = param.name, param.type_name, raw.strip()
    if text == PAPERMILL_NONE:
        return None  # papermill's word for None, whatever the declared type (see README)

    def fail(detail: str = "") -> ParameterError:
        msg = f"{name}: expected {_expected(param)}, got {raw!r}"
        msg += f" ({detail})" if detail else ""
        return ParameterError(msg, {name: msg})

    if param.nullable and text.lower() in _NONE_WORDS:
        return None
    if type_name == "str":
        return raw
    if type_name == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise fail("use true/false, yes/no or 1/0")
    if type_name == "int":
        if _INT_RE.match(text):
            return int(text)
        raise fail()
    if type_name == "float":
        try:
            value = float(text)
        except ValueError:
            raise fail() from None
        if not math.isfinite(value):
            raise fail("must be a finite number")
        return value
    # list / dict / tuple
    for candidate in _parse_structured(text):
        if type_name == "list" and isinstance(candidate, tuple):
            candidate = list(candidate)  # "64,32" parses as a tuple
        if type_name == "tuple" and isinstance(candidate, list):
            candidate = tuple(candidate)
        if type(candidate).__name__ == type_name:
            problem = json_safe_problem(candidate)
            if problem:
                raise fail(problem)
            return candidate
    example = {"list": "[64, 32]", "dict": '{"a": 1}', "tuple": "(1, 2)"}[type_name]
    raise fail(f"write it as YAML/JSON or a Python literal, e.g. {example}")


def _check_typed(param: Parameter, value: Any) -> Any:
    """Type-check an already-typed value (YAML/JSON/REST); returns the normalised value."""
    name, type_name = param.name, param.type_name

    def fail(detail: str = "") -> ParameterError:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        msg = f"{name}: expected {_expected(param)}, got {type(value).__name__} {shown}"
        msg += f" ({detail})" if detail else ""
        return ParameterError(msg, {name: msg})

    if value is None:
        if param.nullable:
            return None
        raise fail()
    if type_name in ("any", "NoneType"):
        ok = True
    elif type_name == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif type_name == "str":
        ok = isinstance(value, str)
    elif type_name == "bool":
        ok = isinstance(value, bool)
    elif type_name == "list":
        ok = isinstance(value, (list, tuple))
        value = list(value) if ok else value
    elif type_name == "tuple":
        ok = isinstance(value, (list, tuple))  # JSON has no tuples
        value = tuple(value) if ok else value
    elif type_name == "dict":
        ok = isinstance(value, dict)
    else:
        ok = True
    if not ok:
        raise fail()
    problem = json_safe_problem(value)
    if problem:
        raise fail(problem)
    return value


def parameter_values(
    params: list[Parameter],
    typed: Mapping[str, Any] | None,
    raw: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The values of a run: ``typed`` ones (REST, YAML) checked, ``raw`` CLI strings
    converted (see :func:`validate_parameters`); a name given both ways takes the CLI's.

    The result is in the order of the parameters cell, not the order given: papermill
    users read the injected cell against the defaults above it."""
    values: dict[str, Any] = {}
    if typed:
        values.update(validate_parameters(params, typed, raw_strings=False))
    if raw:
        values.update(validate_parameters(params, raw, raw_strings=True))
    return in_declared_order(params, values)


def run_parameter_values(
    params: list[Parameter],
    checked: bool,
    typed: Mapping[str, Any] | None,
    raw: Mapping[str, str] | None,
) -> tuple[dict[str, Any], str | None]:
    """The values a run is given, plus a warning to show and record: :func:`parameter_values`
    when ``checked`` (the notebook has a parameters cell, or the caller wants values for a
    notebook without one refused), else papermill's way (:func:`untagged_parameter_values`)."""
    if checked or not (typed or raw):
        return parameter_values(params, typed, raw), None
    return untagged_parameter_values(typed, raw)


def untagged_parameter_values(
    typed: Mapping[str, Any] | None, raw: Mapping[str, str] | None
) -> tuple[dict[str, Any], str]:
    """Values for a notebook without a ``parameters`` cell, as papermill takes them:
    untyped (CLI strings guessed like an untyped parameter), injected at the top; plus the
    warning to show and record, since no name can be checked against the notebook."""
    values: dict[str, Any] = {}
    for name, value in (typed or {}).items():
        values[name] = _check_typed(Parameter(name, "any", None, "", None, "", True), value)
    for name, text in (raw or {}).items():
        values[name] = _guess(text)
    names = ", ".join(values)
    warning = (
        f"The notebook has no cell tagged 'parameters': {names} were injected untyped in a "
        f"new cell at the top (as papermill does), so nothing checked the names or types. "
        f"{_HOW_TO_TAG}"
    )
    return values, warning


def validate_parameters(
    params: list[Parameter],
    values: Mapping[str, Any],
    *,
    raw_strings: bool,
    has_parameters_cell: bool | None = None,
) -> dict[str, Any]:
    """Check ``values`` against the notebook's parameters and return them converted.

    ``raw_strings=True``: values are CLI strings, coerced with :func:`coerce_cli_value`
    (non-string values are type-checked as typed values). ``raw_strings=False``: values come
    typed from YAML/JSON/REST and are only checked (an int is fine for a float, a bool is not
    an int, ``None`` only where the parameter is nullable). Only the given names are returned,
    no defaults: papermill injects overrides, the notebook keeps its own defaults.

    All problems are reported together in one :class:`ParameterError`. ``has_parameters_cell``
    (default: ``bool(params)``) distinguishes "no tagged cell" from "tagged cell without
    assignments" in the message.
    """
    if not values:
        return {}
    if has_parameters_cell is None:
        has_parameters_cell = bool(params)
    if not has_parameters_cell:
        names = ", ".join(sorted(values))
        raise ParameterError(
            f"The notebook has no cell tagged 'parameters', so it cannot take parameters "
            f"(given: {names}). {_HOW_TO_TAG}",
            dict.fromkeys(values, "the notebook has no parameters cell"),
        )
    by_name = {p.name: p for p in params}
    result: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, value in values.items():
        param = by_name.get(name)
        if param is None:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems[name] = f"unknown parameter '{name}'{hint}"
            continue
        try:
            if raw_strings and isinstance(value, str):
                result[name] = coerce_cli_value(param, value)
            else:
                result[name] = _check_typed(param, value)
        except ParameterError as exc:
            problems[name] = exc.problems.get(name, str(exc))
    if problems:
        listing = format_parameters(params)
        body = "\n".join(f"  - {problem}" for problem in problems.values())
        raise ParameterError(
            f"Invalid parameters:\n{body}\nThe notebook's parameters are:\n{listing}", problems
        )
    return result
