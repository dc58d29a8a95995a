"""Read notebooks, find their ``parameters`` cell, and check the values a run is given.

Every entry point (JupyterLab dialog, REST, CLI, scheduler) validates a run's parameters here
*before* the run is queued, so a typo in ``-p epoch 3`` fails in a second with a message that
lists what the notebook accepts, instead of failing minutes later inside the kernel (papermill
itself injects unknown names silently).

This module deliberately avoids importing papermill, and imports nbformat only inside
:func:`read_notebook`: ``import nbformat`` pulls in ``jsonschema`` whose format checkers can cost
close to a second, and parameter inspection only needs ``json`` and :mod:`ast`. All functions
that take a notebook accept a plain ``dict`` as well as an ``nbformat.NotebookNode``.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import io
import json
import math
import re
import tokenize
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import nbformat

__all__ = [
    "PARAMETERS_TAG",
    "TYPE_NAMES",
    "NotebookError",
    "Parameter",
    "ParameterError",
    "coerce_cli_value",
    "format_parameters",
    "inspect_parameters",
    "notebook_kernel_name",
    "notebook_language",
    "parameter_values",
    "parameters_cell_index",
    "read_notebook",
    "validate_parameters",
]

PARAMETERS_TAG = "parameters"
"""The cell tag papermill looks for; values are injected in a new cell right after it."""

TYPE_NAMES = ("int", "float", "str", "bool", "list", "dict", "tuple", "NoneType", "any")
"""Every value :attr:`Parameter.type_name` can take."""

_HOW_TO_TAG = (
    "To add one: put the default values in a code cell (e.g. `epochs = 10`), then in "
    "JupyterLab open the property inspector (gear icon in the right sidebar) -> Common Tools "
    '-> Cell Tags, and add the tag "parameters" to that cell.'
)


class NotebookError(ValueError):
    """Malformed or unreadable notebook; the message says what is wrong and how to fix it."""


class ParameterError(ValueError):
    """Unknown parameter or wrong type.

    The message lists every problem at once plus the notebook's parameters (name, type,
    default, help), because the person reading it usually needs exactly that list to fix
    the call. ``problems`` maps a parameter name to its problem so a form can highlight fields.
    """

    def __init__(self, message: str, problems: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems: dict[str, str] = dict(problems or {})


@dataclass(frozen=True)
class Parameter:
    """One assignment in the notebook's ``parameters`` cell.

    ``default`` is the literal value (via :func:`ast.literal_eval`) or ``None`` when the
    default is an expression; ``default_source`` always holds the text as written, which is
    what people recognise in listings. ``nullable`` says whether ``None`` is an acceptable
    value (default ``None``, ``Optional[...]``/``X | None`` annotation, or an untyped
    parameter).
    """

    name: str
    type_name: str
    default: Any
    default_source: str
    annotation: str | None
    help: str
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for REST and the store (tuples become lists; odd defaults -> None)."""
        return {
            "name": self.name,
            "type_name": self.type_name,
            "default": _json_safe_or_none(self.default),
            "default_source": self.default_source,
            "annotation": self.annotation,
            "help": self.help,
            "nullable": self.nullable,
        }

    def describe(self) -> str:
        """One listing line, e.g. ``epochs: int = 3   # number of epochs``."""
        text = f"{self.name}: {self.annotation or self.type_name} = {self.default_source}"
        if self.help:
            text += f"   # {self.help}"
        return text


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# metadata helpers
# --------------------------------------------------------------------------------------


def _cells(nb: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    cells = nb.get("cells") or []
    return [c for c in cells if isinstance(c, Mapping)]


def _tags(cell: Mapping[str, Any]) -> list[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source") or ""
    return "".join(src) if isinstance(src, list) else str(src)


def parameters_cell_index(nb: Mapping[str, Any]) -> int | None:
    """Index (in ``nb["cells"]``) of the first code cell tagged ``parameters``, or ``None``."""
    for index, cell in enumerate(_cells(nb)):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in _tags(cell):
            return index
    return None


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


# --------------------------------------------------------------------------------------
# inspection
# --------------------------------------------------------------------------------------

_SIMPLE_TYPES = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "list": "list",
    "dict": "dict",
    "tuple": "tuple",
    "None": "NoneType",
    "NoneType": "NoneType",
    "List": "list",
    "Sequence": "list",
    "MutableSequence": "list",
    "Dict": "dict",
    "Mapping": "dict",
    "MutableMapping": "dict",
    "Tuple": "tuple",
}
_UNKNOWN = ""  # annotation we cannot map (e.g. a user type alias); not the same as `Any`
_TYPE_COMMENT = re.compile(r"^type:\s*(?P<type>.+?)\s*$")


def _annotation_type(node: ast.expr | None) -> tuple[str, bool]:
    """Map an annotation to ``(type_name, accepts_none)``.

    Unknown shapes give ``_UNKNOWN`` (not ``"any"``) so the caller can fall back to the
    default's type, while an explicit ``Any`` stays "any".
    """
    if node is None:
        return _UNKNOWN, False
    if isinstance(node, ast.Constant):
        if node.value is None:
            return "NoneType", True
        if isinstance(node.value, str):  # string annotation: "int", "Optional[int]"
            try:
                return _annotation_type(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return _UNKNOWN, False
        return _UNKNOWN, False
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name == "Any":
            return "any", True
        return _SIMPLE_TYPES.get(name, _UNKNOWN), False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_type([node.left, node.right])
    if isinstance(node, ast.Subscript):
        base = node.value
        name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if name == "Optional":
            type_name, _ = _annotation_type(args[0])
            return type_name, True
        if name == "Union":
            return _union_type(args)
        if name == "Literal":
            values = []
            for arg in args:
                try:
                    values.append(ast.literal_eval(arg))
                except ValueError:
                    return _UNKNOWN, False
            names = {_value_type(v) for v in values if v is not None}
            return (names.pop() if len(names) == 1 else "any"), None in values
        if name == "Annotated":
            return _annotation_type(args[0])
        return _SIMPLE_TYPES.get(name, _UNKNOWN), False
    return _UNKNOWN, False


def _union_type(members: Iterable[ast.expr]) -> tuple[str, bool]:
    """``X | None`` -> X (nullable); ``int | float`` -> float; anything else mixed -> any."""
    names: set[str] = set()
    nullable = False
    stack = list(members)
    while stack:
        member = stack.pop()
        if isinstance(member, ast.BinOp) and isinstance(member.op, ast.BitOr):
            stack += [member.left, member.right]
            continue
        type_name, accepts_none = _annotation_type(member)
        nullable = nullable or accepts_none
        if type_name == "NoneType":
            nullable = True
        else:
            names.add(type_name)
    if not names:
        return "NoneType", True
    if names == {"int", "float"}:
        return "float", nullable
    if len(names) == 1:
        return names.pop(), nullable  # may be _UNKNOWN: `Path | None` -> use the default's type
    return "any", nullable


def _value_type(value: Any) -> str:
    name = type(value).__name__
    return name if name in TYPE_NAMES else "any"


def _comments_by_line(source: str) -> dict[int, str]:
    """Map line number -> trailing ``# comment`` text (tokenize, so ``#`` in strings is safe)."""
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return comments


def _parse_cell(source: str, cell_index: int) -> tuple[ast.Module, str]:
    """Parse the cell as Python, neutralising IPython magic and shell lines; errors name the cell.

    A line such as ``%matplotlib inline`` or ``!pip install x`` is always where parsing fails,
    so each failing line that starts with ``%`` or ``!`` is replaced by ``pass`` at the same
    indentation and parsing retried. Repairing only the reported line (rather than every line
    starting with ``%``) leaves the inside of multi-line strings alone; keeping a statement keeps
    line numbers and enclosing blocks valid, so ``ast`` positions still match the user's text.
    """
    lines = source.split("\n")
    while True:
        text = "\n".join(lines)
        try:
            return ast.parse(text), text
        except SyntaxError as exc:
            lineno = exc.lineno or 0
            line = lines[lineno - 1] if 1 <= lineno <= len(lines) else ""
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):
                lines[lineno - 1] = line[: len(line) - len(stripped)] + "pass"
                continue
            line_text = (exc.text or "").strip()
            where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
            shown = f": `{line_text}`" if line_text else ""
            raise NotebookError(
                f"The cell tagged 'parameters' (cell {cell_index + 1}) is not valid Python: "
                f"{exc.msg} at {where}{shown}. Fix it so parameters can be read and injected."
            ) from None


def inspect_parameters(nb: Mapping[str, Any]) -> list[Parameter]:
    """List the parameters the notebook's ``parameters`` cell defines, in source order.

    Only top-level ``name = value`` / ``name: T = value`` statements count (also ``a = b = 1``
    and ``a, b = 1, 2``); later assignments to the same name replace earlier ones, as they
    would at run time. The type comes from the annotation (or a ``# type: T`` comment),
    else from the literal default, else from a parameter the default refers to, else "any".
    A bare ``name: T`` (no value) is not a parameter: papermill has nothing to override.
    """
    cells = _cells(nb)
    index = parameters_cell_index(nb)
    if index is None:
        return []
    for earlier, cell in enumerate(cells[:index]):
        if PARAMETERS_TAG in _tags(cell):
            raise NotebookError(
                f"Cell {earlier + 1} is a {cell.get('cell_type')} cell tagged 'parameters'; "
                "papermill injects values after the first tagged cell of any type, so the "
                f"defaults in code cell {index + 1} would override them. Remove the tag from "
                f"cell {earlier + 1}."
            )
    module, source = _parse_cell(_source(cells[index]), index)
    comments = _comments_by_line(source)
    found: dict[str, Parameter] = {}

    def add(name: str, value: ast.expr, annotation: ast.expr | None, lineno: int) -> None:
        comment = comments.get(lineno) or comments.get(value.end_lineno or lineno, "")
        help_text = comment
        annotation_src = ast.get_source_segment(source, annotation) if annotation else None
        if annotation is None and comment:
            match = _TYPE_COMMENT.match(comment)
            if match:  # "# type: int"; a help text like "type: resnet or vit" stays help
                with contextlib.suppress(SyntaxError):
                    parsed = ast.parse(match["type"], mode="eval").body
                    if _annotation_type(parsed)[0] != _UNKNOWN:
                        annotation, annotation_src, help_text = parsed, match["type"], ""
        default_source = ast.get_source_segment(source, value) or ""
        try:
            default: Any = ast.literal_eval(value)
            literal = True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            default, literal = None, False
        type_name, nullable = _annotation_type(annotation)
        if type_name == _UNKNOWN:
            if literal:
                type_name = _value_type(default)
            elif isinstance(value, ast.Name) and value.id in found:
                type_name = found[value.id].type_name
            else:
                type_name = "any"
        if literal and default is None:
            nullable = True
        if type_name in ("any", "NoneType"):
            nullable = True
        found[name] = Parameter(
            name=name,
            type_name=type_name,
            default=default,
            default_source=default_source,
            annotation=annotation_src,
            help=help_text,
            nullable=nullable,
        )

    for stmt in module.body:
        if isinstance(stmt, ast.AnnAssign):
            if isinstance(stmt.target, ast.Name) and stmt.value is not None:
                add(stmt.target.id, stmt.value, stmt.annotation, stmt.lineno)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    add(target.id, stmt.value, None, stmt.lineno)
                elif (
                    isinstance(target, (ast.Tuple, ast.List))
                    and isinstance(stmt.value, (ast.Tuple, ast.List))
                    and len(target.elts) == len(stmt.value.elts)
                    and not any(isinstance(e, ast.Starred) for e in target.elts)
                ):
                    for sub_target, sub_value in zip(target.elts, stmt.value.elts, strict=True):
                        if isinstance(sub_target, ast.Name):
                            add(sub_target.id, sub_value, None, stmt.lineno)
    return list(found.values())


# --------------------------------------------------------------------------------------
# coercion and validation
# --------------------------------------------------------------------------------------

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
_NONE_WORDS = {"none", "null"}
_INT_RE = re.compile(r"^[+-]?\d[\d_]*$")


def _json_safe_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored as JSON and injected back identically, or ``None``.

    Run parameters are stored as JSON and re-injected on reproduce, so anything that would
    not survive the round trip (sets, dates from YAML, NaN, non-string dict keys) is refused.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"non-finite number {value!r} is not allowed"
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = _json_safe_problem(item)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"dict keys must be strings, got {key!r}"
            problem = _json_safe_problem(item)
            if problem:
                return problem
        return None
    return f"values of type {type(value).__name__} cannot be stored"


def _json_safe_or_none(value: Any) -> Any:
    if _json_safe_problem(value) is not None:
        return None
    return json.loads(json.dumps(value))


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
            if isinstance(candidate, (list, dict, tuple)) and _json_safe_problem(candidate) is None:
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
            problem = _json_safe_problem(candidate)
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
    problem = _json_safe_problem(value)
    if problem:
        raise fail(problem)
    return value


def format_parameters(params: Iterable[Parameter]) -> str:
    """The listing used in error messages and ``jupyter mlops`` help, one parameter a line."""
    lines = [f"  {p.describe()}" for p in params]
    return "\n".join(lines) if lines else "  (none)"


def parameter_values(
    params: list[Parameter],
    typed: Mapping[str, Any] | None,
    raw: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The values of a run: ``typed`` ones (REST, YAML) checked, ``raw`` CLI strings
    converted (see :func:`validate_parameters`); a name given both ways takes the CLI's."""
    values: dict[str, Any] = {}
    if typed:
        values.update(validate_parameters(params, typed, raw_strings=False))
    if raw:
        values.update(validate_parameters(params, raw, raw_strings=True))
    return values


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
