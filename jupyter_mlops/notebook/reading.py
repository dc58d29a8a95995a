"""Read and validate a notebook file; the notebook's cells, kernel and language.

The file is parsed as JSON here (not with ``nbformat.read``) so each way it can be broken
gets its own message that says how to fix it; nbformat then checks the schema.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import nbformat


class NotebookError(ValueError):
    """Malformed or unreadable notebook; the message says what is wrong and how to fix it."""


def _load_notebook_json(path: Path) -> dict[str, Any]:
    """Parse the file as JSON and check the top-level shape, with a fix-it message per failure.

    Done with ``json`` ourselves (not ``nbformat.read``) because nbformat's errors for these
    cases are generic, and it logs rather than raises on schema errors.
    """
    hint = "" if path.suffix == ".ipynb" else " (expected a .ipynb file)"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotebookError(f"Notebook not found: {path}{hint}") from None
    except IsADirectoryError:
        raise NotebookError(f"{path} is a directory, not a notebook file") from None
    except PermissionError:
        raise NotebookError(f"Cannot read {path}: permission denied") from None
    except OSError as exc:
        raise NotebookError(f"Cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise NotebookError(
            f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}, "
            f"line {line}); notebooks must be saved as UTF-8 JSON{hint}"
        ) from None
    if not text.strip():
        raise NotebookError(f"{path} is empty; open it in JupyterLab and save it again")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        extra = ""
        if "<<<<<<<" in text or ">>>>>>>" in text:
            extra = " It contains git merge conflict markers; resolve them (e.g. with nbdime)."
        raise NotebookError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            f"{extra}{hint}"
        ) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        kind = type(data).__name__ if not isinstance(data, dict) else "object without 'nbformat'"
        raise NotebookError(
            f"{path} is JSON but not a Jupyter notebook (top level is {kind}; expected an "
            "object with 'cells', 'metadata' and 'nbformat')"
        )
    major = data.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookError(f"{path}: 'nbformat' must be an integer, got {major!r}")
    if major < 4:
        raise NotebookError(
            f"{path} uses notebook format v{major}; jupyter-mlops needs v4. Convert it with "
            f"`jupyter nbconvert --to notebook --nbformat 4 --inplace {path}` "
            "(or open and save it in JupyterLab)."
        )
    if major > 4:
        raise NotebookError(
            f"{path} uses notebook format v{major}, newer than this version understands (v4); "
            "upgrade nbformat/jupyter-mlops"
        )
    return data


def _summarize_validation_error(exc: Exception) -> str:
    """One line: the schema message plus where it is (``cells[3].metadata.tags``)."""
    message = str(getattr(exc, "message", "") or exc).splitlines()[0]
    parts = list(getattr(exc, "absolute_path", []) or [])
    where = ""
    for part in parts:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    if where:
        message += f" (at {where})"
    return message


def read_notebook(path: str | PathLike[str]) -> nbformat.NotebookNode:
    """Read and schema-validate a v4 notebook, raising :class:`NotebookError` with a fix-it hint.

    Missing cell ids (common in hand-made or older 4.x notebooks) are filled in rather than
    rejected, as nbformat does; anything else that breaks the schema is an error, since papermill
    would otherwise fail on it later, inside the runner.
    """
    path = Path(path)
    data = _load_notebook_json(path)
    import nbformat  # lazy: ~0.3-0.9 s of jsonschema imports that inspection does not need
    from nbformat.validator import normalize

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, data = normalize(data)
            nbformat.validate(data)
    except nbformat.ValidationError as exc:
        raise NotebookError(
            f"{path} is not a valid notebook: {_summarize_validation_error(exc)}"
        ) from None
    except (KeyError, TypeError, AttributeError) as exc:  # shape too broken for the validator
        raise NotebookError(f"{path} is not a valid notebook: {exc!r}") from None
    return nbformat.v4.to_notebook_json(data)


def notebook_cells(nb: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The cells, skipping anything that is not a mapping (a hand-edited file may hold one)."""
    cells = nb.get("cells") or []
    return [c for c in cells if isinstance(c, Mapping)]


def cell_tags(cell: Mapping[str, Any]) -> list[str]:
    """The cell's string tags; a malformed ``tags`` value counts as none."""
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def cell_source(cell: Mapping[str, Any]) -> str:
    """The cell's source as one string (nbformat stores a string or a list of lines)."""
    src = cell.get("source") or ""
    return "".join(src) if isinstance(src, list) else str(src)


def notebook_kernel_name(nb: Mapping[str, Any]) -> str | None:
    """``metadata.kernelspec.name``: the kernel the notebook was last saved with."""
    spec = (nb.get("metadata") or {}).get("kernelspec") or {}
    name = spec.get("name") if isinstance(spec, Mapping) else None
    return name if isinstance(name, str) and name else None


def notebook_language(nb: Mapping[str, Any]) -> str | None:
    """The notebook's language (``language_info.name``, else ``kernelspec.language``)."""
    metadata = nb.get("metadata") or {}
    for key in ("language_info", "kernelspec"):
        section = metadata.get(key) or {}
        value = section.get("name" if key == "language_info" else "language")
        if isinstance(value, str) and value:
            return value.lower()
    return None
