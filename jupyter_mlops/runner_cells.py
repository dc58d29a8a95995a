"""How a run's cells ended, in the words a notebook user knows.

* A cell is numbered as JupyterLab numbers it, ``In [3]`` (its execution count), not by
  its 0-based index among all cells (markdown and the injected parameters included).
* A notebook that stops on ``sys.exit(0)`` (or ``sys.exit()``) succeeds, as in papermill,
  but the run says so: the cell is ``exited``, not ``error``, and the reason names it and
  how many cells did not run.
* A cell cut short by a stop (timeout, cancel, lost host) is recorded with that status and
  not counted as done: a timed-out one-cell notebook is "0/1 cells", not "1/1 ok".
"""

from __future__ import annotations

from typing import Any

CELL_OK = "ok"
CELL_ERROR = "error"
CELL_EXITED = "exited"
"""The cell ended the notebook with ``sys.exit(0)``: later cells did not run."""

CLEAN_EXIT_VALUES = ("", "0", "None")
"""``SystemExit`` values papermill takes for a clean exit (``sys.exit()``, ``sys.exit(0)``)."""


def _outputs(cell: Any) -> list[Any]:
    return list(cell.get("outputs", []) if hasattr(cell, "get") else [])


def exits_cleanly(cell: Any) -> bool:
    """The cell raised ``SystemExit`` with a clean exit value."""
    return any(
        o.get("output_type") == "error"
        and o.get("ename") == "SystemExit"
        and str(o.get("evalue", "")).strip() in CLEAN_EXIT_VALUES
        for o in _outputs(cell)
    )


def cell_status(cell: Any, failed: bool) -> str:
    """``ok``, ``error`` or ``exited`` for a cell papermill finished."""
    if exits_cleanly(cell):
        return CELL_EXITED
    return CELL_ERROR if failed else CELL_OK


def cell_label(nb: Any, index: int | None) -> str:
    """``In [3]`` for the cell at ``index`` of the executed notebook; ``cell N`` (1-based)
    when it has no execution count (it never started)."""
    return execution_label(execution_count(nb, index), index)


def execution_label(count: Any, index: int | None) -> str:
    """``In [n]`` for an execution count, else ``cell N`` (1-based) for the index."""
    if isinstance(count, int):
        return f"In [{count}]"
    return f"cell {index + 1}" if index is not None else "a cell"


def execution_count(nb: Any, index: int | None) -> int | None:
    """The execution count of the cell at ``index`` of the executed notebook, if any."""
    try:
        count = nb.cells[index].get("execution_count")
    except (AttributeError, IndexError, TypeError):
        return None
    return count if isinstance(count, int) else None


def early_exit_reason(nb: Any) -> str | None:
    """Why a succeeded run ran fewer cells than it has: the cell that called
    ``sys.exit(0)`` and how many code cells after it did not run; None otherwise."""
    cells = list(getattr(nb, "cells", []) or [])
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and exits_cleanly(cell):
            skipped = sum(1 for c in cells[index + 1 :] if c.get("cell_type") == "code")
            label = cell_label(nb, index)
            return (
                f"stopped early: {label} called sys.exit(0); "
                f"{skipped} later code cell{'s' if skipped != 1 else ''} did not run"
            )
    return None
