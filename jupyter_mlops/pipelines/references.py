"""``${steps.NAME.KIND.OUTPUT}`` references in parameter values.

A value that *is* one reference takes the output's own type (a metric stays a float);
a reference inside a longer text is replaced by the output as text. References may sit
anywhere in a value (inside lists and mappings). Every reference is also a dependency.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

OUTPUT_KINDS = ("artifacts", "models", "metrics", "run_id")
"""What a reference can name: an artifact (local path), a model (URI), a metric (latest
value), or the run id of the step's run."""

REFERENCE_RE = re.compile(r"\$\{\s*steps\.([^.}\s]+)\.([^.}\s]+)(?:\.([^}]+?))?\s*\}")
"""``${steps.NAME.KIND}`` (``run_id``) or ``${steps.NAME.KIND.OUTPUT}``; an output name may
hold dots and slashes (``train/mse``)."""


@dataclass(frozen=True)
class Reference:
    step: str
    kind: str
    output: str | None
    text: str

    def problem(self, steps: set[str]) -> str | None:
        """What is wrong with this reference in a file with ``steps`` (None: fine)."""
        if self.step not in steps:
            return f"{self.text} names an unknown step {self.step!r}"
        if self.kind not in OUTPUT_KINDS:
            kinds = ", ".join(OUTPUT_KINDS)
            return f"{self.text}: unknown output kind {self.kind!r} (use one of {kinds})"
        if self.kind == "run_id" and self.output is not None:
            return f"{self.text}: run_id takes no output name (write ${{steps.{self.step}.run_id}})"
        if self.kind != "run_id" and not self.output:
            return (
                f"{self.text}: name the {self.kind[:-1]} (${{steps.{self.step}.{self.kind}.NAME}})"
            )
        return None

    @property
    def value_type(self) -> str:
        """The parameter type the resolved value has."""
        return "float" if self.kind == "metrics" else "str"


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def references_in(value: Any) -> list[Reference]:
    """Every reference anywhere in ``value``."""
    return [
        Reference(m.group(1), m.group(2), m.group(3), m.group(0))
        for text in _texts(value)
        for m in REFERENCE_RE.finditer(text)
    ]


def whole_reference(value: Any) -> Reference | None:
    """The reference ``value`` consists of (a string that is one reference), else None."""
    if isinstance(value, str):
        m = REFERENCE_RE.fullmatch(value.strip())
        if m:
            return Reference(m.group(1), m.group(2), m.group(3), m.group(0))
    return None


def substitute(value: Any, resolve: Callable[[Reference], Any]) -> Any:
    """``value`` with every reference replaced by ``resolve(reference)``."""
    whole = whole_reference(value)
    if whole is not None:
        return resolve(whole)
    if isinstance(value, str):
        return REFERENCE_RE.sub(
            lambda m: str(resolve(Reference(m.group(1), m.group(2), m.group(3), m.group(0)))),
            value,
        )
    if isinstance(value, dict):
        return {k: substitute(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, resolve) for v in value]
    return value
