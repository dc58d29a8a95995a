"""papermill's value rules (issue 11, item 6), checked against papermill's own code where it
has one: how ``-p`` strings are read, how the parameters cell is inspected, YAML dates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from papermill.cli import _resolve_type
from papermill.iorw import NoDatesSafeLoader
from papermill.translators import PythonTranslator

from jupyter_mlops.cli.parameters import load_yaml_mapping, split_parameters
from jupyter_mlops.notebook.coercion import (
    coerce_cli_value,
    parameter_values,
    untagged_parameter_values,
)
from jupyter_mlops.notebook.inspection import (
    Parameter,
    in_cell_order,
    inspect_parameters,
    inspect_parameters_leniently,
)
from jupyter_mlops.notebook.reading import NotebookError

NOTEBOOKS = Path(__file__).parent / "notebooks"


def make_nb(source: str) -> dict[str, Any]:
    return {
        "cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": source}]
    }


def by_name(source: str) -> dict[str, Parameter]:
    return {p.name: p for p in inspect_parameters(make_nb(source))}


# -------------------------------------------------------------- -p strings, untyped parameters


@pytest.mark.parametrize("raw", ["3", "-7", "0.5", "1e-3", "True", "False", "None", "hello"])
def test_untyped_values_read_as_papermill_reads_them(raw: str) -> None:
    """Where papermill converts (True/False/None, ints, finite floats) we do the same."""
    assert coerce_cli_value(None, raw) == _resolve_type(raw)
    assert type(coerce_cli_value(None, raw)) is type(_resolve_type(raw))


@pytest.mark.parametrize(
    ("raw", "ours", "papermills"),
    [("true", True, "true"), ("[1, 2]", [1, 2], "[1, 2]"), ("inf", "inf", float("inf"))],
)
def test_documented_differences_for_untyped_values(raw: str, ours: Any, papermills: Any) -> None:
    """The README's table: lower-case booleans and lists are read, non-finite floats are not."""
    assert coerce_cli_value(None, raw) == ours
    assert _resolve_type(raw) == papermills


@pytest.mark.parametrize("source", ['name = "alice"', "epochs = 3", "flag = False", "lr = 0.1"])
def test_none_means_none_for_any_parameter(source: str) -> None:
    (param,) = inspect_parameters(make_nb(source))
    assert not param.nullable
    assert coerce_cli_value(param, "None") is None
    assert _resolve_type("None") is None


def test_typed_parameters_are_coerced_to_the_declared_type() -> None:
    """The deliberate difference: papermill injects "true" as a string; we read the default."""
    params = by_name("flag = False\nepochs = 3\nlabel = 'x'")
    assert coerce_cli_value(params["flag"], "true") is True
    assert coerce_cli_value(params["epochs"], "3") == 3
    assert coerce_cli_value(params["label"], "3") == "3"
    assert coerce_cli_value(params["label"], "null") == "null"


def test_values_come_back_in_cell_order() -> None:
    params = inspect_parameters(make_nb("a = 1\nb = 2\nc = 3\n"))
    values = parameter_values(params, {"c": 30}, {"b": "20", "a": "10"})
    assert list(values) == ["a", "b", "c"]


def test_in_cell_order_reads_the_notebook() -> None:
    path = NOTEBOOKS / "params.ipynb"
    values = in_cell_order(path, {"seed": 1, "name": "n", "lr": 0.1})
    assert list(values) == ["lr", "name", "seed"]


def test_untagged_values_are_untyped_with_a_warning() -> None:
    values, warning = untagged_parameter_values({"x": [1]}, {"y": "2", "z": "true"})
    assert values == {"x": [1], "y": 2, "z": True}
    assert "no cell tagged 'parameters'" in warning and "x, y, z" in warning


# ---------------------------------------------------------------------------- command line


def test_split_parameters_takes_papermills_options() -> None:
    argv = ["nb.ipynb", "-p", "a", "1", "-r", "b", "2", "-y", "c: 3\nd: 2026-01-01", "--wait"]
    argv += ["-p", "b", "9", "--parameters_raw", "e", "True", "--parameters_yaml", "a: 5"]
    given, rest = split_parameters(argv)
    assert rest == ["nb.ipynb", "--wait"]
    assert given.raw == {"a": "1"}  # -r b beats -p b, as in papermill
    assert given.typed == {"c": 3, "d": "2026-01-01", "a": 5, "b": "2", "e": "True"}


@pytest.mark.parametrize("text", ["d: 2026-01-01", "d: 2026-01-01 10:30:00", "d: [2026-01-01]"])
def test_yaml_dates_stay_strings_like_papermill(text: str) -> None:
    import yaml

    assert load_yaml_mapping(text, "-y") == yaml.load(text, Loader=NoDatesSafeLoader)


def test_yaml_that_is_not_a_mapping_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        split_parameters(["-y", "[1, 2]"])
    assert info.value.code == 2
    assert "mapping" in capsys.readouterr().err


# ------------------------------------------------------------------------------ inspection


def papermill_view(source: str) -> dict[str, tuple[str, str]]:
    """papermill's inspection: name -> (type name, help)."""
    found = PythonTranslator.inspect({"source": source})
    return {p.name: (p.inferred_type_name, p.help) for p in found}


def test_type_comment_with_help_as_papermill() -> None:
    source = "x = 1  # type: int  the number of things\ny = 'a'  # type: str\n"
    ours = by_name(source)
    theirs = papermill_view(source)
    for name in ("x", "y"):
        assert (ours[name].type_name, ours[name].help) == theirs[name]
    assert ours["x"].annotation == "int"


def test_a_help_text_that_starts_with_type_stays_help() -> None:
    (param,) = inspect_parameters(make_nb("arch = 'vit'  # type: resnet or vit\n"))
    assert param.type_name == "str" and param.help == "type: resnet or vit"


def test_comparison_lines_are_skipped_as_papermill_does() -> None:
    source = "a = 1\nd = a == 3\ne = a >= 2\nf = a < 2\n"
    ours = set(by_name(source))
    assert "d" not in papermill_view(source) and "e" not in papermill_view(source)
    assert ours == {"a", "f"}
    inspection = inspect_parameters_leniently(make_nb(source))
    assert [p.split(":")[0] for p in inspection.problems] == ["line 2", "line 3"]


def test_one_bad_line_costs_only_that_line() -> None:
    nb = make_nb("alpha = 0.5  # smoothing\nbeta = = 2\ngamma = [1, 2]\n")
    inspection = inspect_parameters_leniently(nb)
    assert [p.name for p in inspection.parameters] == ["alpha", "gamma"]
    (problem,) = inspection.problems
    assert "line 2" in problem and "beta = = 2" in problem and "skipped" in problem
    with pytest.raises(NotebookError, match="line 2"):  # a run still refuses it
        inspect_parameters(nb)


def test_bad_indentation_and_unfinished_brackets() -> None:
    inspection = inspect_parameters_leniently(make_nb("a = 1\n  b = 2\nc = 3\n"))
    assert [p.name for p in inspection.parameters] == ["a", "c"]
    assert len(inspection.problems) == 1
    inspection = inspect_parameters_leniently(make_nb("a = 1\nb = [1,\n"))
    assert inspection.problems  # reported, never raised
