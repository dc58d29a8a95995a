"""Tests for jupyter_mlops.kernels, against real kernelspecs (extra ones via JUPYTER_PATH)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from nbformat import v4

from jupyter_mlops.kernels import (
    DEFAULT_KERNEL,
    KernelNotFound,
    kernel_python,
    list_kernelspecs,
    resolve_kernel,
)


def add_kernel(root: Path, name: str, argv: list[str], language: str = "python") -> Path:
    directory = root / "kernels" / name
    directory.mkdir(parents=True)
    spec = {"argv": argv, "display_name": f"Test {name}", "language": language}
    (directory / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return directory


def nb_with_kernel(name: str | None) -> Any:
    nb = v4.new_notebook()
    if name:
        nb.metadata["kernelspec"] = {"name": name, "display_name": name, "language": "python"}
    return nb


def test_list_kernelspecs_has_native_python() -> None:
    specs = list_kernelspecs()
    assert DEFAULT_KERNEL in specs
    spec = specs[DEFAULT_KERNEL]
    assert set(spec) == {"display_name", "language", "argv", "resource_dir"}
    assert spec["language"] == "python"
    assert "ipykernel" in " ".join(spec["argv"]) or "ipykernel_launcher" in spec["argv"]


def test_list_sees_kernel_added_on_jupyter_path(jupyter_path: Path) -> None:
    directory = add_kernel(jupyter_path, "extra-env", ["/opt/env/bin/python", "-m", "x"])
    spec = list_kernelspecs()["extra-env"]
    assert spec["display_name"] == "Test extra-env"
    assert Path(spec["resource_dir"]) == directory


def test_resolve_order(jupyter_path: Path) -> None:
    add_kernel(jupyter_path, "other", [sys.executable, "-m", "ipykernel_launcher"])
    assert resolve_kernel("other", nb_with_kernel("python3")) == "other"
    assert resolve_kernel(None, nb_with_kernel("other")) == "other"
    assert resolve_kernel(None, nb_with_kernel(None)) == DEFAULT_KERNEL
    assert resolve_kernel(None, None) == DEFAULT_KERNEL


def test_missing_requested_kernel_lists_installed() -> None:
    with pytest.raises(KernelNotFound) as info:
        resolve_kernel("no-such-kernel", nb_with_kernel("python3"))
    message = str(info.value)
    assert "'no-such-kernel' was requested but is not installed" in message
    assert "Installed kernels:" in message
    assert "  python3  (" in message


def test_missing_notebook_kernel_says_it_came_from_metadata() -> None:
    with pytest.raises(KernelNotFound) as info:
        resolve_kernel(None, nb_with_kernel("conda-env-gone-py"))
    message = str(info.value)
    assert "notebook's metadata" in message
    assert "--kernel python3" in message
    assert "python3" in message.split("Installed kernels:")[1]


def test_kernel_python_of_native_spec_is_current_interpreter() -> None:
    # ipykernel ships argv[0] = "python"; jupyter_client launches that as sys.executable.
    assert kernel_python(DEFAULT_KERNEL) == sys.executable


def test_kernel_python_variants(jupyter_path: Path) -> None:
    add_kernel(jupyter_path, "abs", ["/opt/env/bin/python3.10", "-m", "ipykernel_launcher"])
    add_kernel(jupyter_path, "bare", ["python", "-m", "ipykernel_launcher", "-f", "{c}"])
    res = add_kernel(jupyter_path, "res", ["{resource_dir}/bin/python", "-m", "ipykernel"])
    add_kernel(jupyter_path, "r", ["R", "--slave", "-e", "IRkernel::main()"], language="R")
    add_kernel(
        jupyter_path,
        "wrapped",
        ["/usr/bin/env", "FOO=1", "/opt/env/bin/python", "-m", "ipykernel_launcher"],
    )
    add_kernel(jupyter_path, "conda", ["conda", "run", "-n", "x", "python", "-m", "ipykernel"])
    assert kernel_python("abs") == "/opt/env/bin/python3.10"
    assert kernel_python("bare") == sys.executable
    assert kernel_python("res") == f"{res}/bin/python"
    assert kernel_python("r") is None
    assert kernel_python("wrapped") == "/opt/env/bin/python"
    assert kernel_python("conda") is None


def test_kernel_python_unknown_kernel() -> None:
    with pytest.raises(KernelNotFound, match="Installed kernels"):
        kernel_python("no-such-kernel")
