"""papermill's parameter options on the command line: ``-p NAME VALUE`` (converted),
``-r NAME VALUE`` (a raw string, never converted), ``-y YAML`` (a mapping) and the
``-f params.yaml`` file, read the way papermill reads them (YAML dates stay strings).

Taken out of argv before traitlets sees it, because traitlets has no two-value options.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

EXIT_USAGE = 2  # as in .base (which imports this module)

_PAIRS = {"-p": "-p", "--parameter": "-p", "-r": "-r", "--parameters_raw": "-r"}
_YAML = ("-y", "--parameters_yaml")


@functools.cache
def no_dates_loader() -> type:
    """papermill's ``NoDatesSafeLoader``: ``d: 2026-01-01`` is the string ``"2026-01-01"``
    as written, not a ``date`` (which JSON, the store and REST cannot carry). Built on first
    use so commands without parameters do not import yaml."""
    import yaml

    resolvers = {
        key: [r for r in found if r[0] != "tag:yaml.org,2002:timestamp"]
        for key, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return type("NoDatesSafeLoader", (yaml.SafeLoader,), {"yaml_implicit_resolvers": resolvers})


@dataclass
class CommandLineParameters:
    """``raw``: ``-p`` strings, converted to the declared types later; ``typed``: ``-y``
    mappings then ``-r`` strings, in papermill's precedence (``-r`` beats ``-p`` beats
    ``-y``; ``-f`` is below them all)."""

    raw: dict[str, str] = field(default_factory=dict)
    typed: dict[str, Any] = field(default_factory=dict)


def _usage(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def load_yaml_mapping(text: str, what: str) -> dict[str, Any]:
    """A YAML (or JSON) mapping of name: value; anything else exits with 2, said in one line."""
    import yaml

    try:
        data = yaml.load(text, Loader=no_dates_loader())
    except yaml.YAMLError as err:
        _usage(f"{what} is not valid YAML/JSON: {err}")
    except RecursionError:
        _usage(f"{what} is nested too deeply")
    if data is None:
        return {}
    if not isinstance(data, dict):
        _usage(f"{what} must hold a mapping of name: value")
    return data


def load_parameters_file(path: Path) -> dict[str, Any]:
    """``-f params.yaml``: a mapping of name: value (JSON is YAML too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _usage(f"parameters file {path} does not exist")
    except UnicodeDecodeError as err:
        _usage(f"parameters file {path} is not valid YAML/JSON: {err}")
    return load_yaml_mapping(text, f"parameters file {path}")


def split_parameters(argv: list[str] | None) -> tuple[CommandLineParameters, list[str]]:
    """Take ``-p``/``-r NAME VALUE`` and ``-y YAML`` out of argv (``None``: this process's
    arguments); an option without its values exits with 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    converted: dict[str, str] = {}
    raw_strings: dict[str, str] = {}
    yaml_values: dict[str, Any] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        option = _PAIRS.get(args[i])
        if option is not None:
            if i + 2 >= len(args):
                _usage(f"{args[i]} needs a name and a value: {option} NAME VALUE")
            (converted if option == "-p" else raw_strings)[args[i + 1]] = args[i + 2]
            i += 3
        elif args[i] in _YAML:
            if i + 1 >= len(args):
                _usage(f"{args[i]} needs a YAML mapping, e.g. -y 'lr: 0.01'")
            yaml_values.update(load_yaml_mapping(args[i + 1], f"{args[i]} value"))
            i += 2
        else:
            rest.append(args[i])
            i += 1
    raw = {name: value for name, value in converted.items() if name not in raw_strings}
    return CommandLineParameters(raw=raw, typed={**yaml_values, **raw_strings}), rest
