"""Outputs of two executed notebooks, compared cell by cell.

What a cell *showed* is compared, not how it was recorded: stream text is joined per
stream (the kernel may flush it in other chunks), rich outputs by their data (``text/*``
and JSON as text, images and other binary data exactly), errors by name, value and
traceback. Execution counts, cell and output metadata, display ids and papermill's timing
are ignored. Each cell is then ``identical``, ``equivalent`` (equal after the volatile
text is normalized) or ``differs``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .normalize import Normalizer

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
DIFF_LINES = 40
"""Most lines of the unified diff kept per differing cell."""
TEXT_LIMIT = 4000
"""Most characters of each side's text kept per differing cell."""


@dataclass
class CellDifference:
    """A cell whose outputs are not identical."""

    cell_index: int
    """The cell's position in the notebook (0-based, as JupyterLab's model and the run's
    cell progress count them)."""
    outcome: str
    """``equivalent`` or ``differs``."""
    original: str
    reproduction: str
    diff: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "cell_index": self.cell_index,
            "outcome": self.outcome,
            "original": self.original[:TEXT_LIMIT],
            "reproduction": self.reproduction[:TEXT_LIMIT],
            "diff": self.diff,
            "source": self.source[:TEXT_LIMIT],
        }


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _data_text(mime: str, value: Any) -> str:
    if mime.startswith("text/") or mime.endswith("+json") or mime == "application/json":
        return _text(value) if not isinstance(value, (dict, list)) else json.dumps(value)
    return f"<{mime} {_text(value)}>"


def cell_output_text(outputs: Iterable[dict[str, Any]]) -> str:
    """One cell's outputs as the text that is compared (see the module)."""
    streams: dict[str, list[str]] = {}
    parts: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = str(output.get("name", "stdout"))
            if name not in streams:
                streams[name] = []
                parts.append(f"\0stream:{name}")
            streams[name].append(_text(output.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data") or {}
            for mime in sorted(data):
                parts.append(f"[{mime}]\n{_data_text(mime, data[mime])}")
        elif kind == "error":
            trace = ANSI.sub("", "\n".join(output.get("traceback") or []))
            parts.append(f"[error] {output.get('ename')}: {output.get('evalue')}\n{trace}")
    text = []
    for part in parts:
        if part.startswith("\0stream:"):
            name = part[len("\0stream:") :]
            text.append(f"[{name}]\n{''.join(streams[name])}")
        else:
            text.append(part)
    return "\n".join(text)


def _unified(original: str, reproduction: str) -> str:
    lines = list(
        difflib.unified_diff(
            original.splitlines(),
            reproduction.splitlines(),
            "original",
            "reproduction",
            lineterm="",
        )
    )
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... ({len(lines) - DIFF_LINES} more lines)"]
    return "\n".join(lines)


def compare_notebooks(
    original: dict[str, Any], reproduction: dict[str, Any], normalize: Normalizer
) -> tuple[list[CellDifference], int]:
    """The cells whose outputs are not identical, in notebook order, and how many cells
    were compared. A cell missing on one side counts as differing (its text is empty)."""
    first = original.get("cells") or []
    second = reproduction.get("cells") or []
    differences: list[CellDifference] = []
    compared = 0
    for index in range(max(len(first), len(second))):
        a = first[index] if index < len(first) else None
        b = second[index] if index < len(second) else None
        if (a or b or {}).get("cell_type") != "code":
            continue
        compared += 1
        text_a = cell_output_text((a or {}).get("outputs") or [])
        text_b = cell_output_text((b or {}).get("outputs") or [])
        if a is not None and b is not None and text_a == text_b:
            continue
        same = a is not None and b is not None and normalize(text_a) == normalize(text_b)
        differences.append(
            CellDifference(
                cell_index=index,
                outcome="equivalent" if same else "differs",
                original=text_a,
                reproduction=text_b,
                diff=_unified(text_a, text_b),
                source=_text((a or b or {}).get("source", "")),
            )
        )
    return differences, compared
