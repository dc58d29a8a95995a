"""Promotion requirements: ``METRIC OP NUMBER`` or ``METRIC OP baseline [+|- NUMBER]``.

``OP`` is one of ``< <= > >= ==``; ``baseline`` is the value the alias's current holder got
from the same validation notebook (same parameters, same seed). A requirement that names
the baseline holds when the alias names no version yet: there is nothing to beat. A metric
that the validation run did not log (or logged as NaN) fails the requirement: a gate
that cannot check must not open.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PATTERN = re.compile(
    rf"^\s*(?P<metric>[^\s<>=]+)\s*(?P<op><=|>=|==|<|>)\s*"
    rf"(?:(?P<number>{_NUMBER})|(?P<baseline>baseline)\s*(?:(?P<sign>[-+])\s*(?P<offset>{_NUMBER}))?)"
    r"\s*$"
)
EXAMPLES = '"eval/loss <= baseline", "accuracy >= baseline - 0.01", "latency_ms < 50"'


class RequirementError(ValueError):
    """A requirement that does not parse (the message shows the accepted forms)."""


@dataclass(frozen=True)
class Requirement:
    text: str
    metric: str
    op: str
    number: float | None = None
    """The fixed threshold; None when the threshold is the baseline (plus ``offset``)."""
    offset: float = 0.0

    @property
    def uses_baseline(self) -> bool:
        return self.number is None


@dataclass(frozen=True)
class Verdict:
    """One requirement checked: both values, the threshold, whether it holds, and why."""

    requirement: str
    metric: str
    candidate: float | None
    baseline: float | None
    threshold: float | None
    holds: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_requirement(text: str) -> Requirement:
    if not isinstance(text, str) or not text.strip():
        raise RequirementError(f"empty requirement; write one like {EXAMPLES}")
    match = _PATTERN.match(text)
    if match is None:
        raise RequirementError(
            f"cannot read requirement {text!r}: write METRIC OP NUMBER or METRIC OP baseline "
            f"[+|- NUMBER], OP one of < <= > >= ==, e.g. {EXAMPLES}"
        )
    number = match["number"]
    offset = float(match["offset"]) if match["offset"] else 0.0
    if match["sign"] == "-":
        offset = -offset
    values = [float(number)] if number is not None else []
    if not all(math.isfinite(v) for v in [*values, offset]):
        raise RequirementError(f"requirement {text!r} needs finite numbers")
    return Requirement(
        text=" ".join(text.split()),
        metric=match["metric"],
        op=match["op"],
        number=float(number) if number is not None else None,
        offset=offset,
    )


def parse_requirements(texts: Sequence[str]) -> list[Requirement]:
    return [parse_requirement(t) for t in texts]


def _value(metrics: Mapping[str, float | None], key: str) -> float | None:
    value = metrics.get(key)
    return value if value is not None and math.isfinite(value) else None


def evaluate(
    requirement: Requirement,
    candidate: Mapping[str, float | None],
    baseline: Mapping[str, float | None] | None,
) -> Verdict:
    """Check one requirement against the candidate's and the baseline's metrics
    (``baseline`` None: the alias names no version yet)."""
    req = requirement
    mine = _value(candidate, req.metric)
    theirs = _value(baseline, req.metric) if baseline is not None else None

    def verdict(holds: bool, threshold: float | None, message: str) -> Verdict:
        return Verdict(req.text, req.metric, mine, theirs, threshold, holds, message)

    if mine is None:
        return verdict(
            False,
            None,
            f"{req.text}: the candidate's validation run logged no finite value of {req.metric!r}",
        )
    if req.uses_baseline:
        if baseline is None:
            return verdict(
                True,
                None,
                f"{req.text}: holds (no current holder to compare with; candidate {mine:g})",
            )
        if theirs is None:
            return verdict(
                False,
                None,
                f"{req.text}: the baseline's validation run logged no "
                f"finite value of {req.metric!r} (candidate {mine:g})",
            )
        threshold = theirs + req.offset
    else:
        threshold = req.number
    assert threshold is not None
    holds = OPERATORS[req.op](mine, threshold)
    against = f"baseline {theirs:g}" if req.uses_baseline else f"threshold {threshold:g}"
    if req.uses_baseline and req.offset:
        against += f", threshold {threshold:g}"
    state = "holds" if holds else "failed"
    return verdict(holds, threshold, f"{req.text}: {state} (candidate {mine:g}, {against})")
