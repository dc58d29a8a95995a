"""Tests for jupyter_mlops.notebook: reading, parameter inspection, coercion, validation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

from jupyter_mlops.notebook.coercion import ParameterError, coerce_cli_value, validate_parameters
from jupyter_mlops.notebook.inspection import (
    Parameter,
    format_parameters,
    inspect_parameters,
    parameters_cell_index,
)
from jupyter_mlops.notebook.reading import (
    NotebookError,
    notebook_kernel_name,
    notebook_language,
    read_notebook,
)

PARAMS_SOURCE = """\
epochs = 3  # number of epochs
lr: float = 1e-3  # learning rate
name: Optional[str] = None
batch: int | None = None
layers: list[int] = [64, 32]
config = {"dropout": 0.1}
shape = (28, 28)
use_gpu = True
tag = "baseline"
model_path = None
"""


def make_nb(params_source: str | None = PARAMS_SOURCE, **metadata: Any) -> nbformat.NotebookNode:
    cells = [v4.new_markdown_cell("# Title")]
    if params_source is not None:
        cells.append(v4.new_code_cell(params_source, metadata={"tags": ["parameters"]}))
    cells.append(v4.new_code_cell("print(epochs)"))
    nb = v4.new_notebook(cells=cells)
    nb.metadata.update(metadata)
    return nb


def write_nb(tmp_path: Path, nb: nbformat.NotebookNode, name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def params_by_name(nb: Any) -> dict[str, Parameter]:
    return {p.name: p for p in inspect_parameters(nb)}


# ----------------------------------------------------------------------------- reading


def test_read_valid_notebook(tmp_path: Path) -> None:
    path = write_nb(tmp_path, make_nb())
    nb = read_notebook(path)
    assert isinstance(nb, nbformat.NotebookNode)
    assert nb.cells[1].source == PARAMS_SOURCE
    assert parameters_cell_index(nb) == 1


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="Notebook not found"):
        read_notebook(tmp_path / "nope.ipynb")


def test_read_directory(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="is a directory"):
        read_notebook(tmp_path)


def test_read_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ipynb"
    path.write_bytes('{"cells": [], "x": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(NotebookError, match=r"not UTF-8.*0xe9.*line 1"):
        read_notebook(path)


def test_read_utf8_bom_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + nbformat.writes(make_nb()).encode())
    assert len(read_notebook(path).cells) == 3


def test_read_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{\n  "cells": [\n    {"cell_type": "code",,}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(NotebookError, match=r"not valid JSON: .* line 3, column \d+"):
        read_notebook(path)


def test_read_merge_conflict_hint(tmp_path: Path) -> None:
    text = nbformat.writes(make_nb())
    path = tmp_path / "conflict.ipynb"
    path.write_text("<<<<<<< HEAD\n" + text + "=======\n", encoding="utf-8")
    with pytest.raises(NotebookError, match="merge conflict"):
        read_notebook(path)


def test_read_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ipynb"
    path.write_text("", encoding="utf-8")
    with pytest.raises(NotebookError, match="is empty"):
        read_notebook(path)


def test_read_json_that_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "list.ipynb"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(NotebookError, match="not a Jupyter notebook"):
        read_notebook(path)
    path.write_text('{"cells": []}', encoding="utf-8")
    with pytest.raises(NotebookError, match="not a Jupyter notebook"):
        read_notebook(path)


def test_read_nbformat_3_says_how_to_convert(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    old = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}
    path.write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(NotebookError, match=r"format v3.*nbconvert --to notebook --nbformat 4"):
        read_notebook(path)


def test_read_invalid_schema_summarized_in_one_line(tmp_path: Path) -> None:
    data = json.loads(nbformat.writes(make_nb()))
    data["cells"][1]["metadata"]["tags"] = "parameters"  # must be a list
    path = tmp_path / "badtags.ipynb"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NotebookError) as info:
        read_notebook(path)
    message = str(info.value)
    assert "\n" not in message
    assert "not of type 'array'" in message
    assert "cells[1].metadata.tags" in message


def test_read_missing_required_field(tmp_path: Path) -> None:
    data = json.loads(nbformat.writes(make_nb()))
    del data["cells"][2]["outputs"]
    path = tmp_path / "nooutputs.ipynb"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NotebookError, match=r"'outputs' is a required property \(at cells\[2\]\)"):
        read_notebook(path)


def test_read_fills_missing_cell_ids(tmp_path: Path) -> None:
    data = json.loads(nbformat.writes(make_nb()))
    for cell in data["cells"]:
        del cell["id"]
    path = tmp_path / "noids.ipynb"
    path.write_text(json.dumps(data), encoding="utf-8")
    nb = read_notebook(path)
    assert all(cell.get("id") for cell in nb.cells)


def test_module_import_does_not_load_nbformat_or_papermill() -> None:
    code = (
        "import sys, jupyter_mlops.notebook.coercion, jupyter_mlops.notebook.reading; "
        "print(sorted(x for x in ('nbformat', 'papermill', 'yaml') if x in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- metadata


def test_kernel_name_and_language() -> None:
    nb = make_nb(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python", "version": "3.11"},
    )
    assert notebook_kernel_name(nb) == "python3"
    assert notebook_language(nb) == "python"
    bare = make_nb()
    assert notebook_kernel_name(bare) is None
    assert notebook_language(bare) is None
    only_spec = make_nb(kernelspec={"name": "ir", "display_name": "R", "language": "R"})
    assert notebook_language(only_spec) == "r"


def test_parameters_cell_index_first_tagged_code_cell() -> None:
    nb = make_nb()
    nb.cells.append(v4.new_code_cell("epochs = 99", metadata={"tags": ["parameters"]}))
    assert parameters_cell_index(nb) == 1
    assert params_by_name(nb)["epochs"].default == 3
    assert parameters_cell_index(make_nb(None)) is None


def test_tagged_markdown_cell_before_code_cell_is_an_error() -> None:
    nb = make_nb()
    nb.cells[0].metadata["tags"] = ["parameters"]
    with pytest.raises(NotebookError, match="markdown cell tagged 'parameters'"):
        inspect_parameters(nb)


# ----------------------------------------------------------------------------- inspection


def test_inspect_types_defaults_and_help() -> None:
    params = params_by_name(make_nb())
    assert list(params) == [
        "epochs",
        "lr",
        "name",
        "batch",
        "layers",
        "config",
        "shape",
        "use_gpu",
        "tag",
        "model_path",
    ]
    epochs = params["epochs"]
    assert (epochs.type_name, epochs.default, epochs.default_source) == ("int", 3, "3")
    assert epochs.help == "number of epochs"
    assert epochs.annotation is None and not epochs.nullable
    lr = params["lr"]
    assert (lr.type_name, lr.default, lr.default_source, lr.annotation) == (
        "float",
        0.001,
        "1e-3",
        "float",
    )
    assert lr.help == "learning rate"
    assert (params["name"].type_name, params["name"].nullable) == ("str", True)
    assert params["name"].annotation == "Optional[str]"
    assert (params["batch"].type_name, params["batch"].nullable) == ("int", True)
    assert (params["layers"].type_name, params["layers"].default) == ("list", [64, 32])
    assert params["config"].type_name == "dict"
    assert (params["shape"].type_name, params["shape"].default) == ("tuple", (28, 28))
    assert params["use_gpu"].type_name == "bool"
    assert params["tag"].type_name == "str"
    assert (params["model_path"].type_name, params["model_path"].nullable) == ("NoneType", True)


@pytest.mark.parametrize(
    ("source", "type_name", "nullable"),
    [
        ("x: int = 1", "int", False),
        ("x: 'int' = 1", "int", False),
        ("x: typing.Optional[float] = None", "float", True),
        ("x: Union[int, None] = None", "int", True),
        ("x: Union[int, float] = 1", "float", False),
        ("x: int | float | None = 1", "float", True),
        ("x: List[str] = []", "list", False),
        ("x: dict[str, int] = {}", "dict", False),
        ("x: Tuple[int, ...] = ()", "tuple", False),
        ("x: Literal['a', 'b'] = 'a'", "str", False),
        ("x: Any = 1", "any", True),
        ("x: MyAlias = 2.5", "float", False),
        ("x: MyAlias = make()", "any", True),
        ("x = -1", "int", False),
        ("x = None  # type: int", "int", True),
        ("x = 'vit'  # type: resnet or vit", "str", False),
    ],
)
def test_inspect_annotations(source: str, type_name: str, nullable: bool) -> None:
    (param,) = inspect_parameters(make_nb(source))
    assert (param.type_name, param.nullable) == (type_name, nullable)


def test_inspect_non_literal_and_multi_targets() -> None:
    source = (
        "import os\n"
        "data_dir = os.path.join('a', 'b')\n"
        "a, b = 1, 'two'\n"
        "x = y = 0.5\n"
        "first, *rest = [1, 2, 3]\n"
        "steps = 10\n"
        "eval_steps = steps\n"
        "obj.attr = 3\n"
        "steps += 1\n"
        "declared: int\n"
        "if True:\n"
        "    hidden = 1\n"
        "steps = 20  # later wins\n"
    )
    params = params_by_name(make_nb(source))
    assert list(params) == ["data_dir", "a", "b", "x", "y", "steps", "eval_steps"]
    assert params["data_dir"].default is None
    assert params["data_dir"].default_source == "os.path.join('a', 'b')"
    assert params["data_dir"].type_name == "any"
    assert (params["a"].default, params["b"].default) == (1, "two")
    assert params["x"].default == params["y"].default == 0.5
    assert (params["steps"].default, params["steps"].help) == (20, "later wins")
    assert (params["eval_steps"].type_name, params["eval_steps"].default) == ("int", None)


def test_inspect_skips_magics_and_keeps_strings_intact() -> None:
    source = (
        "%matplotlib inline\n"
        "!pip install -q something\n"
        "%%capture is not first line here but still a magic\n"
        "epochs = 5\n"
        "if True:\n"
        "    %time pass\n"
        'fmt = """\n%d items\n!important\n"""\n'
    )
    params = params_by_name(make_nb(source))
    assert params["epochs"].default == 5
    assert params["fmt"].default == "\n%d items\n!important\n"


def test_inspect_syntax_error_names_the_cell() -> None:
    with pytest.raises(NotebookError, match=r"cell 2\) is not valid Python.*line 2.*y = = 2"):
        inspect_parameters(make_nb("x = 1\ny = = 2\n"))


def test_inspect_hash_in_string_is_not_a_comment() -> None:
    (param,) = inspect_parameters(make_nb("color = '#ff0000'  # plot color"))
    assert (param.default, param.help) == ("#ff0000", "plot color")


def test_inspect_raw_dict_with_list_source() -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": ["a = 1\n", "b = 'x'\n"],
            }
        ]
    }
    assert [p.name for p in inspect_parameters(nb)] == ["a", "b"]


def test_no_parameters_cell_has_no_parameters() -> None:
    assert inspect_parameters(make_nb(None)) == []


def test_to_dict_is_json_safe() -> None:
    params = inspect_parameters(make_nb())
    data = json.loads(json.dumps([p.to_dict() for p in params]))
    shape = next(d for d in data if d["name"] == "shape")
    assert shape == {
        "name": "shape",
        "type_name": "tuple",
        "default": [28, 28],
        "default_source": "(28, 28)",
        "annotation": None,
        "help": "",
        "nullable": False,
    }
    (odd,) = inspect_parameters(make_nb("s = {1, 2}"))
    assert odd.to_dict()["default"] is None


def test_format_parameters_listing() -> None:
    listing = format_parameters(inspect_parameters(make_nb()))
    assert "  epochs: int = 3   # number of epochs" in listing.splitlines()
    assert "  name: Optional[str] = None" in listing.splitlines()


# ----------------------------------------------------------------------------- coercion


@pytest.fixture
def params() -> dict[str, Parameter]:
    return params_by_name(make_nb())


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("epochs", "3", 3),
        ("epochs", " -2 ", -2),
        ("epochs", "1_000", 1000),
        ("lr", "1e-3", 0.001),
        ("lr", "3", 3.0),
        ("lr", "-.5", -0.5),
        ("use_gpu", "TRUE", True),
        ("use_gpu", "yes", True),
        ("use_gpu", "1", True),
        ("use_gpu", "False", False),
        ("use_gpu", "No", False),
        ("use_gpu", "0", False),
        ("layers", "[64, 32]", [64, 32]),
        ("layers", "64,32", [64, 32]),
        ("layers", "['a', \"b\"]", ["a", "b"]),
        ("layers", "[]", []),
        ("config", '{"dropout": 0.2}', {"dropout": 0.2}),
        ("config", "{dropout: 0.2, name: x}", {"dropout": 0.2, "name": "x"}),
        ("config", "{'dropout': 0.2}", {"dropout": 0.2}),
        ("shape", "(1, 2)", (1, 2)),
        ("shape", "[1, 2]", (1, 2)),
        ("tag", " spaced  ", " spaced  "),
        ("tag", "123", "123"),
        ("name", "None", None),
        ("epochs", "None", None),  # issue 11: papermill's None means None for any parameter
        ("name", "alice", "alice"),
        ("batch", "null", None),
        ("batch", "8", 8),
    ],
)
def test_coerce_typed(params: dict[str, Parameter], name: str, raw: str, expected: Any) -> None:
    value = coerce_cli_value(params[name], raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("epochs", "3.5"),
        ("epochs", "true"),
        ("epochs", ""),
        ("lr", "abc"),
        ("lr", "nan"),
        ("lr", "inf"),
        ("use_gpu", "maybe"),
        ("layers", '{"a": 1}'),
        ("layers", "not a list"),
        ("config", "[1, 2]"),
        ("config", "{1: 2}"),
    ],
)
def test_coerce_rejects(params: dict[str, Parameter], name: str, raw: str) -> None:
    with pytest.raises(ParameterError, match=rf"^{name}: expected"):
        coerce_cli_value(params[name], raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("true", True),
        ("False", False),
        ("None", None),
        ("[1, 2]", [1, 2]),
        ('{"a": [1]}', {"a": [1]}),
        ("hello world", "hello world"),
        ("2024-01-01", "2024-01-01"),
        ("inf", "inf"),
        ("[unclosed", "[unclosed"),
        ("{2024-01-01: x}", "{2024-01-01: x}"),
    ],
)
def test_coerce_untyped_guesses(raw: str, expected: Any) -> None:
    assert coerce_cli_value(None, raw) == expected
    untyped = Parameter("p", "any", None, "f()", None, "", nullable=True)
    assert coerce_cli_value(untyped, raw) == expected


# ----------------------------------------------------------------------------- validation


def test_validate_cli_strings(params: dict[str, Parameter]) -> None:
    values = {"epochs": "5", "lr": "1e-4", "layers": "[128]", "use_gpu": "no", "model_path": "m.pt"}
    result = validate_parameters(list(params.values()), values, raw_strings=True)
    assert result == {
        "epochs": 5,
        "lr": 0.0001,
        "layers": [128],
        "use_gpu": False,
        "model_path": "m.pt",
    }


def test_validate_typed_values(params: dict[str, Parameter]) -> None:
    values = {
        "epochs": 5,
        "lr": 1,
        "name": None,
        "batch": None,
        "shape": [3, 3],
        "config": {"a": [1, 2]},
        "model_path": {"anything": True},
    }
    result = validate_parameters(list(params.values()), values, raw_strings=False)
    assert result["lr"] == 1.0 and isinstance(result["lr"], float)
    assert result["shape"] == (3, 3)
    assert result["name"] is None and result["batch"] is None
    assert set(result) == set(values)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("epochs", True),
        ("lr", False),
        ("epochs", 2.0),
        ("epochs", "3"),
        ("epochs", None),
        ("tag", 3),
        ("use_gpu", 1),
        ("layers", {"a": 1}),
        ("config", {1: "x"}),
        ("config", {"s": {1, 2}}),
        ("lr", float("nan")),
    ],
)
def test_validate_typed_rejects(params: dict[str, Parameter], name: str, value: Any) -> None:
    with pytest.raises(ParameterError) as info:
        validate_parameters(list(params.values()), {name: value}, raw_strings=False)
    assert name in info.value.problems


def test_unknown_parameter_suggests_close_name(params: dict[str, Parameter]) -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'epoch' \(did you mean 'epochs'"):
        validate_parameters(list(params.values()), {"epoch": "3"}, raw_strings=True)


def test_all_problems_in_one_message_with_listing(params: dict[str, Parameter]) -> None:
    with pytest.raises(ParameterError) as info:
        validate_parameters(
            list(params.values()),
            {"epoch": "3", "lr": "fast", "use_gpu": "maybe", "epochs": "4"},
            raw_strings=True,
        )
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == "Invalid parameters:"
    assert "  - unknown parameter 'epoch' (did you mean 'epochs'?)" in lines
    assert "  - lr: expected float, got 'fast'" in lines
    assert any(line.startswith("  - use_gpu: expected bool") for line in lines)
    assert "The notebook's parameters are:" in lines
    assert "  epochs: int = 3   # number of epochs" in lines
    assert "  lr: float = 1e-3   # learning rate" in lines
    assert set(info.value.problems) == {"epoch", "lr", "use_gpu"}


def test_raw_strings_mode_type_checks_non_strings(params: dict[str, Parameter]) -> None:
    result = validate_parameters(
        list(params.values()), {"epochs": 4, "lr": "0.1"}, raw_strings=True
    )
    assert result == {"epochs": 4, "lr": 0.1}
    with pytest.raises(ParameterError, match="epochs: expected int, got bool"):
        validate_parameters(list(params.values()), {"epochs": True}, raw_strings=True)


def test_no_parameters_cell() -> None:
    nb = make_nb(None)
    params = inspect_parameters(nb)
    assert validate_parameters(params, {}, raw_strings=True) == {}
    with pytest.raises(ParameterError) as info:
        validate_parameters(params, {"epochs": "3"}, raw_strings=True)
    message = str(info.value)
    assert "no cell tagged 'parameters'" in message
    assert "property inspector" in message
    assert 'add the tag "parameters"' in message


def test_parameters_cell_without_assignments() -> None:
    params = inspect_parameters(make_nb("# nothing yet\n"))
    with pytest.raises(ParameterError, match=r"unknown parameter 'x'[\s\S]*\(none\)"):
        validate_parameters(params, {"x": 1}, raw_strings=False, has_parameters_cell=True)
