"""Volatile text in outputs: what two honest runs of one notebook may print differently.

A reproduction that prints another memory address, timestamp or duration has not
reproduced anything worse; such spans are replaced by a placeholder before outputs are
compared, and a difference that only they make is reported as ``equivalent``, never as
``identical``. The patterns are plain regular expressions: the defaults below,
``c.MLOps.verify_normalize`` (replacing them) and ``--normalize REGEX`` (added).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

PLACEHOLDER = "<…>"

DEFAULT_PATTERNS: tuple[str, ...] = (
    # object reprs and ids: <Foo object at 0x7f3a5c2e1d90>
    r"0x[0-9a-fA-F]{6}[0-9a-fA-F]*",
    # ISO 8601 instants: 2026-12-02T00:41:07.123456+00:00, 2026-12-02 00:41:07
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.]\d+)?(?:Z|[+-]\d\d:?\d\d)?",
    # durations: 1.23 s, 450ms, 3.2 µs, Wall time: 12 ms (not bare numbers)
    r"\b\d+(?:[.]\d+)?\s?(?:ns|us|µs|ms|s|sec|secs|seconds|min)\b",
)
"""Memory addresses, ISO timestamps and durations. No commas in them, so the list
survives the comma-separated ``JUPYTER_MLOPS_VERIFY_NORMALIZE`` variable."""


def check_patterns(patterns: Iterable[str]) -> list[str]:
    """``patterns`` as a list, each compiled once to refuse a broken one with its error."""
    checked = []
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as err:
            raise ValueError(f"normalization pattern {pattern!r} is not a regex: {err}") from None
        checked.append(pattern)
    return checked


class Normalizer:
    """Replaces every match of the patterns by :data:`PLACEHOLDER`."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = check_patterns(patterns)
        self._regex = (
            re.compile("|".join(f"(?:{p})" for p in self.patterns)) if self.patterns else None
        )

    def __call__(self, text: str) -> str:
        if self._regex is None:
            return text
        return self._regex.sub(PLACEHOLDER, text)
