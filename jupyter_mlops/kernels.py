"""Find the kernel a run will use, and the Python interpreter behind it.

A run fails late and confusingly when the notebook names a kernel that is not installed here
(notebooks travel between machines with names like ``conda-env-foo-py``), so the kernel is
resolved and checked at submit time, and the error lists what *is* installed.

The interpreter matters for reproducibility: the packages recorded for a run must be those of
the kernel's Python, not of the server's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_KERNEL",
    "KernelNotFound",
    "kernel_python",
    "list_kernelspecs",
    "resolve_kernel",
]

DEFAULT_KERNEL = "python3"
"""Used when neither the caller nor the notebook names a kernel (ipykernel's native kernel)."""

_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?w?(\.exe)?$", re.IGNORECASE)


class KernelNotFound(ValueError):
    """The requested kernel is not installed; the message lists the installed kernels."""


def list_kernelspecs() -> dict[str, dict[str, Any]]:
    """Installed kernels: name -> ``{"display_name", "language", "argv", "resource_dir"}``.

    Read fresh on each call (no caching) so a kernel installed while the server runs is seen.
    ``kernel.json`` files are read directly: ``KernelSpecManager.get_all_specs`` imports
    ipykernel for the native ``python3`` kernel (~0.2 s) even when its spec is on disk; the
    manager is only asked for specs that have no ``kernel.json`` (ipykernel's built-in one).
    """
    from jupyter_client.kernelspec import KernelSpecManager  # lazy: ~80 ms of imports

    manager = KernelSpecManager(kernel_dirs=_kernel_dirs())
    specs: dict[str, dict[str, Any]] = {}
    for name, resource_dir in sorted(manager.find_kernel_specs().items()):
        try:
            spec = json.loads((Path(resource_dir) / "kernel.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            try:
                spec = manager.get_kernel_spec(name).to_dict()
            except Exception:  # a broken spec must not hide the others
                continue
        if not isinstance(spec, dict):
            continue
        specs[name] = {
            "display_name": spec.get("display_name") or name,
            "language": spec.get("language") or "",
            "argv": [str(a) for a in spec.get("argv") or []],
            "resource_dir": str(resource_dir),
        }
    return specs


def _kernel_dirs() -> list[str]:
    """The directories ``KernelSpecManager`` searches by default, computed without IPython.

    Its default adds ``<ipython dir>/kernels`` by importing ``IPython.paths``, which imports
    all of IPython (~0.16 s); the IPython directory is ``$IPYTHONDIR`` or ``~/.ipython``.
    """
    from jupyter_core.paths import jupyter_path

    ipython_dir = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
    return [*jupyter_path("kernels"), os.path.join(ipython_dir, "kernels")]


def _installed_listing(specs: Mapping[str, Mapping[str, Any]]) -> str:
    if not specs:
        return "No kernels are installed (install one with `python -m ipykernel install --user`)."
    lines = [
        f"  {name}  ({spec['display_name']}, {spec['language']})" for name, spec in specs.items()
    ]
    return "Installed kernels:\n" + "\n".join(lines)


def resolve_kernel(requested: str | None, nb: Mapping[str, Any] | None) -> str:
    """The kernel a run uses: ``requested``, else the notebook's kernel, else ``python3``.

    Raises :class:`KernelNotFound` when it is not installed, saying where the name came from,
    since a name from notebook metadata surprises people who never chose it.
    """
    from jupyter_mlops.notebook import notebook_kernel_name

    from_notebook = notebook_kernel_name(nb) if nb is not None else None
    name = requested or from_notebook or DEFAULT_KERNEL
    specs = list_kernelspecs()
    if name in specs:
        return name
    if requested:
        origin = "was requested"
        fix = "Pick one of the installed kernels"
    elif from_notebook:
        origin = "is named in the notebook's metadata (kernelspec.name)"
        fix = (
            "Choose an installed kernel for this run (e.g. `--kernel python3`), or install "
            f"a kernel named '{name}' (`python -m ipykernel install --user --name {name}` "
            "from the environment it should use)"
        )
    else:
        origin = "is the default"
        fix = "Install it with `python -m ipykernel install --user`, or choose a kernel"
    raise KernelNotFound(
        f"Kernel '{name}' {origin} but is not installed. {fix}.\n" + _installed_listing(specs)
    )


def _resolve_python(executable: str, resource_dir: str) -> str:
    """Resolve a kernelspec argv[0] the way jupyter_client launches it.

    jupyter_client replaces ``python``/``python3``/``python3.X`` (same version as the launcher)
    with ``sys.executable``, so ipykernel's shipped spec (``"python"``) means "the Python that
    starts the kernel"; other bare names are looked up on PATH.
    """
    executable = executable.replace("{resource_dir}", resource_dir)
    major, minor = sys.version_info[:2]
    if executable in {"python", f"python{major}", f"python{major}.{minor}"}:
        return sys.executable
    if os.sep in executable or (os.altsep and os.altsep in executable):
        return executable
    return shutil.which(executable) or executable


def kernel_python(name: str) -> str | None:
    """The interpreter a Python kernel runs, or ``None`` for other languages or wrappers.

    Wrappers such as ``conda run -n env python -m ipykernel_launcher`` are followed only when
    the Python they name is an absolute path; otherwise the interpreter cannot be known
    without running the wrapper, and ``None`` is more honest than a guess.
    """
    specs = list_kernelspecs()
    spec = specs.get(name)
    if spec is None:
        raise KernelNotFound(f"Kernel '{name}' is not installed.\n" + _installed_listing(specs))
    argv: list[str] = [str(a) for a in spec["argv"]]
    if not argv or (spec["language"] and spec["language"].lower() != "python"):
        return None
    resource_dir = str(spec["resource_dir"])
    if _PYTHON_NAME.match(os.path.basename(argv[0])):
        return _resolve_python(argv[0], resource_dir)
    for index, arg in enumerate(argv[1:], start=1):
        nxt = argv[index + 1] if index + 1 < len(argv) else ""
        if _PYTHON_NAME.match(os.path.basename(arg)) and nxt == "-m" and os.path.isabs(arg):
            return arg
    return None
