"""Check a whole pipeline against its notebooks before anything runs, collecting every
problem: unknown notebooks, unknown parameters and wrong types (from each notebook's
``parameters`` cell, :mod:`jupyter_mlops.notebook.inspection`), unknown kernels, unknown
steps or output kinds in references and ``needs``, and cycles."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..notebook.coercion import ParameterError, coerce_cli_value, validate_parameters
from ..notebook.inspection import Parameter, inspect_parameters
from .plan import dependencies, find_cycles
from .references import Reference, references_in, whole_reference
from .spec import PipelineInvalid, PipelineSpec

ReadFile = Callable[[str], bytes | None]
"""Bytes of a file of the pipeline's tree by POSIX path relative to its root (None: absent)."""

_TYPES_FOR_OUTPUT = {"str": {"str", "any"}, "float": {"float", "any"}}


@dataclass(frozen=True)
class CheckedStep:
    """What validation learnt about a step: its notebook's tree path, declared
    parameters and kernel (the orchestrator submits with them)."""

    relpath: str
    declared: list[Parameter]
    kernel: str


def notebook_relpath(pipeline_relpath: str, notebook: str) -> str:
    """A step's notebook as a tree path: relative to the pipeline file's directory."""
    base = posixpath.dirname(pipeline_relpath)
    return posixpath.normpath(posixpath.join(base, notebook.replace("\\", "/")))


def split_overrides(
    raw: Mapping[str, str], steps: Mapping[str, Any]
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """``-p STEP.NAME VALUE`` as {step: {name: text}}, and the problems of the names."""
    out: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for key, text in raw.items():
        step, dot, name = key.partition(".")
        if not dot or not name:
            problems.append(f"-p {key}: write the parameter as STEP.NAME (e.g. train.lr)")
        elif step not in steps:
            problems.append(f"-p {key}: unknown step {step!r}")
        else:
            out.setdefault(step, {})[name] = text
    return out, problems


def _reference_type_problem(where: str, ref: Reference, param: Parameter | None) -> str | None:
    if param is None:
        return None
    allowed = _TYPES_FOR_OUTPUT[ref.value_type]
    if param.type_name in allowed:
        return None
    return (
        f"{where}: {ref.text} gives a {ref.value_type}, but parameter {param.name!r} is "
        f"declared {param.type_name}"
    )


def _check_parameters(
    where: str,
    declared: list[Parameter],
    values: Mapping[str, Any],
    overrides: Mapping[str, str],
) -> list[str]:
    problems: list[str] = []
    by_name = {p.name: p for p in declared}
    plain: dict[str, Any] = {}
    for name, value in values.items():
        ref = whole_reference(value)
        if ref is not None:
            if name not in by_name:
                problems.append(f"{where}: unknown parameter {name!r}")
            else:
                problem = _reference_type_problem(where, ref, by_name[name])
                if problem:
                    problems.append(problem)
        elif references_in(value):
            if name not in by_name:
                problems.append(f"{where}: unknown parameter {name!r}")
        else:
            plain[name] = value
    for checked, raw in ((plain, False), (dict(overrides), True)):
        try:
            validate_parameters(declared, checked, raw_strings=raw, has_parameters_cell=True)
        except ParameterError as err:
            label = f"{where} (-p)" if raw else where
            problems += [f"{label}: {p}" for p in err.problems.values()]
    return problems


def _read_step(relpath: str, read: ReadFile, where: str) -> tuple[Any, list[str]]:
    data = read(relpath)
    if data is None:
        return None, [f"{where}: notebook {relpath} not found"]
    try:
        return json.loads(data), []
    except ValueError as err:
        return None, [f"{where}: {relpath} is not a notebook ({err})"]


def validate_pipeline(
    spec: PipelineSpec,
    pipeline_relpath: str,
    read: ReadFile,
    raw_overrides: Mapping[str, str] = {},
) -> dict[str, CheckedStep]:
    """Every problem at once as :class:`PipelineInvalid`; else what each step runs."""
    from ..kernels import resolve_kernel

    names = set(spec.steps)
    overrides, problems = split_overrides(raw_overrides, spec.steps)
    checked: dict[str, CheckedStep] = {}
    for name, step in spec.steps.items():
        where = f"steps.{name}"
        for need in step.needs:
            if need not in names:
                problems.append(f"{where}.needs: unknown step {need!r}")
        for ref in references_in(step.parameters):
            problem = ref.problem(names)
            if problem:
                problems.append(f"{where}.parameters: {problem}")
        relpath = notebook_relpath(pipeline_relpath, step.notebook)
        if not relpath.endswith(".ipynb"):
            problems.append(f"{where}: {step.notebook!r} is not a notebook (a .ipynb file)")
            continue
        nb, read_problems = _read_step(relpath, read, where)
        problems += read_problems
        if nb is None:
            continue
        try:
            declared = inspect_parameters(nb)
        except ValueError as err:
            problems.append(f"{where}: {relpath}: {err}")
            continue
        problems += _check_parameters(
            f"{where}.parameters", declared, step.parameters, overrides.get(name, {})
        )
        try:
            kernel = resolve_kernel(step.kernel, nb)
        except ValueError as err:
            problems.append(f"{where}: {str(err).splitlines()[0]}")
            continue
        checked[name] = CheckedStep(relpath, declared, kernel)
    for cycle in find_cycles(dependencies(spec)):
        problems.append(f"cycle: {' -> '.join(cycle)}")
    if problems:
        raise PipelineInvalid(problems, pipeline_relpath)
    return checked


def coerce_overrides(
    checked: Mapping[str, CheckedStep], overrides: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, Any]]:
    """The ``-p`` texts converted to each parameter's declared type (already validated)."""
    out: dict[str, dict[str, Any]] = {}
    for step, values in overrides.items():
        by_name = {p.name: p for p in checked[step].declared}
        out[step] = {n: coerce_cli_value(by_name.get(n), t) for n, t in values.items()}
    return out
