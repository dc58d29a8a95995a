"""Find a notebook's ``parameters`` cell and what each parameter in it is.

Only the cell's source is read, with :mod:`ast` and :mod:`tokenize`: nothing is executed,
so inspecting a notebook is safe and takes milliseconds.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .jsonsafe import json_safe_or_none
from .reading import NotebookError, cell_source, cell_tags, notebook_cells

PARAMETERS_TAG = "parameters"
"""The cell tag papermill looks for; values are injected in a new cell right after it."""

TYPE_NAMES = ("int", "float", "str", "bool", "list", "dict", "tuple", "NoneType", "any")
"""Every value :attr:`Parameter.type_name` can take."""


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
    dataset: bool = False
    """Declared ``# mlops: dataset``: the runner records its value as an input."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for REST and the store (tuples become lists; odd defaults -> None)."""
        return {
            "name": self.name,
            "type_name": self.type_name,
            "default": json_safe_or_none(self.default),
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


def parameters_cell_index(nb: Mapping[str, Any]) -> int | None:
    """Index (in ``nb["cells"]``) of the first code cell tagged ``parameters``, or ``None``."""
    for index, cell in enumerate(notebook_cells(nb)):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in cell_tags(cell):
            return index
    return None


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
_DATASET_MARK = re.compile(r"(?:^|\s*#?\s*)mlops:\s*dataset\b\s*", re.IGNORECASE)
"""``# mlops: dataset`` in a parameter's comment (before or after other text)."""


_PAPERMILL_SKIPPED_COMPARISONS = (ast.Eq, ast.NotEq, ast.LtE, ast.GtE)
"""papermill's inspection skips a line with more than one ``=``: ``d = a == 3``."""


def _type_comment(comment: str) -> tuple[ast.expr, str, str] | None:
    """``type: int`` or papermill's ``type: int  the number of things`` ->
    (annotation, its text, help); ``None`` when the comment names no type we know."""
    match = _TYPE_COMMENT.match(comment)
    if not match:
        return None
    whole = match["type"]
    first, _, rest = whole.partition(" ")
    for text, help_text in ((whole, ""), (first, rest.strip())):
        with contextlib.suppress(SyntaxError):
            parsed = ast.parse(text, mode="eval").body
            if _annotation_type(parsed)[0] != _UNKNOWN:
                return parsed, text, help_text
    return None


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


def _syntax_problem(exc: SyntaxError, cell_index: int) -> str:
    line_text = (exc.text or "").strip()
    where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
    shown = f": `{line_text}`" if line_text else ""
    return (
        f"The cell tagged 'parameters' (cell {cell_index + 1}) is not valid Python: "
        f"{exc.msg} at {where}{shown}."
    )


def _parse_cell(
    source: str, cell_index: int, problems: list[str] | None = None
) -> tuple[ast.Module, str]:
    """Parse the cell as Python, neutralising IPython magic and shell lines; errors name the cell.

    A line such as ``%matplotlib inline`` or ``!pip install x`` is always where parsing fails,
    so each failing line that starts with ``%`` or ``!`` is replaced by ``pass`` at the same
    indentation and parsing retried. Repairing only the reported line (rather than every line
    starting with ``%``) leaves the inside of multi-line strings alone; keeping a statement keeps
    line numbers and enclosing blocks valid, so ``ast`` positions still match the user's text.

    With ``problems`` (a form that lists parameters), any other failing line is blanked the
    same way and its message appended, so one typo costs that line, not the whole form;
    without it, the first such line raises :class:`NotebookError` (a run must not start).
    """
    lines = source.split("\n")
    blanked: set[int] = set()
    while True:
        text = "\n".join(lines)
        try:
            return ast.parse(text), text
        except SyntaxError as exc:
            lineno = exc.lineno or 0
            line = lines[lineno - 1] if 1 <= lineno <= len(lines) else ""
            stripped = line.lstrip()
            indent = line[: len(line) - len(stripped)]
            if stripped.startswith(("%", "!")):
                lines[lineno - 1] = indent + "pass"
                continue
            if problems is None:
                raise NotebookError(
                    _syntax_problem(exc, cell_index)
                    + " Fix it so parameters can be read and injected."
                ) from None
            if not 1 <= lineno <= len(lines) or lineno in blanked:
                problems.append(_syntax_problem(exc, cell_index) + " No parameters were read.")
                return ast.parse(""), ""
            problems.append(
                _syntax_problem(exc, cell_index)
                + " That line was skipped; the other parameters were read."
            )
            blanked.add(lineno)
            keep_block = not isinstance(exc, IndentationError) and stripped
            lines[lineno - 1] = indent + "pass" if keep_block else ""


@dataclass(frozen=True)
class ParametersInspection:
    """The parameters a form can offer, and what could not be read (one message a line)."""

    parameters: list[Parameter]
    problems: list[str]


def inspect_parameters(nb: Mapping[str, Any]) -> list[Parameter]:
    """The notebook's parameters; a parameters cell that is not valid Python raises
    :class:`NotebookError` (what a run needs: it would fail in the kernel anyway)."""
    return _inspect(nb, problems=None)


def inspect_parameters_leniently(nb: Mapping[str, Any]) -> ParametersInspection:
    """The parameters that can be read, plus a message per line that cannot (a syntax error,
    a comparison papermill skips): what the Run-as-job form shows instead of a 400."""
    problems: list[str] = []
    return ParametersInspection(_inspect(nb, problems=problems), problems)


def _inspect(nb: Mapping[str, Any], problems: list[str] | None) -> list[Parameter]:
    """List the parameters the notebook's ``parameters`` cell defines, in source order.

    Only top-level ``name = value`` / ``name: T = value`` statements count (also ``a = b = 1``
    and ``a, b = 1, 2``); later assignments to the same name replace earlier ones, as they
    would at run time. The type comes from the annotation (or a ``# type: T`` comment),
    else from the literal default, else from a parameter the default refers to, else "any".
    A bare ``name: T`` (no value) is not a parameter: papermill has nothing to override.
    """
    cells = notebook_cells(nb)
    index = parameters_cell_index(nb)
    if index is None:
        return []
    for earlier, cell in enumerate(cells[:index]):
        if PARAMETERS_TAG in cell_tags(cell):
            raise NotebookError(
                f"Cell {earlier + 1} is a {cell.get('cell_type')} cell tagged 'parameters'; "
                "papermill injects values after the first tagged cell of any type, so the "
                f"defaults in code cell {index + 1} would override them. Remove the tag from "
                f"cell {earlier + 1}."
            )
    module, source = _parse_cell(cell_source(cells[index]), index, problems)
    comments = _comments_by_line(source)
    found: dict[str, Parameter] = {}

    def add(name: str, value: ast.expr, annotation: ast.expr | None, lineno: int) -> None:
        comment = comments.get(lineno) or comments.get(value.end_lineno or lineno, "")
        comment, marks = _DATASET_MARK.subn(" ", comment)
        comment = comment.strip()
        help_text = comment
        annotation_src = ast.get_source_segment(source, annotation) if annotation else None
        if annotation is None and comment:
            typed = _type_comment(comment)
            if typed is not None:  # a help text like "type: resnet or vit" stays help
                annotation, annotation_src, help_text = typed
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
            dataset=marks > 0,
        )

    for stmt in module.body:
        value = getattr(stmt, "value", None)
        if isinstance(value, ast.Compare) and any(
            isinstance(op, _PAPERMILL_SKIPPED_COMPARISONS) for op in value.ops
        ):
            if problems is not None:
                shown = ast.get_source_segment(source, stmt) or ""
                problems.append(
                    f"line {stmt.lineno}: `{shown}` assigns a comparison, so it is not a "
                    "parameter (papermill skips it too)."
                )
            continue
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


def in_declared_order(params: Iterable[Parameter], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` reordered as ``params`` are declared; names not declared keep their order
    after them (a notebook without a parameters cell)."""
    rank = {p.name: i for i, p in enumerate(params)}
    names = sorted(values, key=lambda name: rank.get(name, len(rank)))  # stable sort
    return {name: values[name] for name in names}


def in_cell_order(notebook: Path, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` in the order the notebook's parameters cell declares them (the store keeps
    them by name), so the injected cell reads like the defaults above it, as in papermill."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        declared = _inspect(nb, problems=[])
    except (OSError, ValueError, TypeError, AttributeError, NotebookError):
        return dict(values)  # the run reports the unreadable notebook itself
    return in_declared_order(declared, values)


def format_parameters(params: Iterable[Parameter]) -> str:
    """The listing used in error messages and ``jupyter mlops`` help, one parameter a line."""
    lines = [f"  {p.describe()}" for p in params]
    return "\n".join(lines) if lines else "  (none)"
