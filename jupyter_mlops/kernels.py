"""Find the kernel a run will use, and the Python interpreter behind it.

A run fails late and confusingly when the notebook names a kernel that is not installed here
(notebooks travel between machines with names like ``conda-env-foo-py``), so the kernel is
resolved and checked at submit time, and the error lists what *is* installed.

The interpreter matters for reproducibility: the packages recorded for a run must be those of
the kernel's Python, not of the server's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("jupyter_mlops.kernels")

__all__ = [
    "DEFAULT_KERNEL",
    "KernelNotFound",
    "kernel_cuda_info",
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

    manager = KernelSpecManager(kernel_dirs=kernel_dirs())
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


def kernel_dirs() -> list[str]:
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
    from jupyter_mlops.notebook.reading import notebook_kernel_name

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


# -- which kernels can use CUDA ---------------------------------------------------------------

CUDA_PROBE_TIMEOUT_S = 120.0
_CUDA_MARKER = "__JUPYTER_MLOPS_CUDA__"
# Runs with the kernel's interpreter (any Python 3). Without torch it imports nothing heavy
# and reports where packages live, so installing torch later invalidates the cache.
_CUDA_PROBE = r"""
import json, os, sys, sysconfig, importlib.util
watch = []
for key in ("purelib", "platlib"):
    path = sysconfig.get_paths().get(key)
    if path and os.path.isdir(path) and path not in watch:
        watch.append(path)
out = {"cuda": False, "devices": [], "torch": None, "cuda_version": None,
       "python": sys.executable}
spec = importlib.util.find_spec("torch")
if spec is not None:
    try:
        import torch
        out["torch"] = str(torch.__version__)
        out["cuda_version"] = getattr(torch.version, "cuda", None)
        location = os.path.dirname(torch.__file__)
        watch.append(location)
        if torch.cuda.is_available():
            out["cuda"] = True
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                out["devices"].append({"index": i, "name": p.name,
                                       "total_memory": int(p.total_memory),
                                       "capability": "%d.%d" % (p.major, p.minor)})
    except Exception as exc:
        out["error"] = "%s: %s" % (type(exc).__name__, exc)
stamps = []
for path in watch:
    try:
        stamps.append([path, os.stat(path).st_mtime_ns])
    except OSError:
        pass
out["watch"] = stamps
print("__JUPYTER_MLOPS_CUDA__" + json.dumps(out))
"""


def _kernel_env(resource_dir: str) -> dict[str, str]:
    """The ``env`` of a kernelspec (what the kernel itself would get on top of ours)."""
    try:
        spec = json.loads((Path(resource_dir) / "kernel.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    env = spec.get("env") if isinstance(spec, dict) else None
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


def _cache_valid(data: dict[str, Any]) -> bool:
    for path, mtime in data.get("watch") or []:
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def kernel_cuda_info(
    name: str, *, cache_dir: Path | str | None = None, refresh: bool = False
) -> dict[str, Any] | None:
    """Whether kernel ``name`` can use CUDA: ``{"cuda": bool, "devices": [...], "torch":
    version or None, "cuda_version": ..., "cached": bool}``; ``None`` for a kernel whose
    Python cannot be known (another language, a wrapper command).

    Found by running the kernel's interpreter with a tiny torch probe (with the
    kernelspec's ``env``), which takes seconds when torch is installed, so the answer is
    cached per kernelspec and interpreter in ``cache_dir`` (default: the data directory's
    ``cache``) and reused until the interpreter's site-packages or torch change. Devices
    are those CUDA shows this process's environment (``CUDA_VISIBLE_DEVICES`` applies).
    Each device: ``{"index", "name", "total_memory", "capability"}``. A failed probe gives
    ``"cuda": False`` with an ``"error"`` (not cached). Blocking: call it from a thread.
    Raises :class:`KernelNotFound` for an unknown kernel.
    """
    specs = list_kernelspecs()
    spec = specs.get(name)
    if spec is None:
        raise KernelNotFound(f"Kernel '{name}' is not installed.\n" + _installed_listing(specs))
    python = kernel_python(name)
    if python is None:
        return None
    if cache_dir is None:
        from .config import default_data_dir

        cache_dir = default_data_dir() / "cache"
    key_fields = [name, spec["resource_dir"], os.path.abspath(python), os.path.realpath(python)]
    key = hashlib.sha256(json.dumps(key_fields).encode()).hexdigest()[:32]
    cache = Path(cache_dir) / f"kernel-cuda-{key}.json"
    if not refresh:
        with contextlib.suppress(OSError, ValueError):
            cached = json.loads(cache.read_text(encoding="utf-8"))
            if isinstance(cached, dict) and _cache_valid(cached):
                return _public(cached, cached=True)
    data = _probe_cuda(python, _kernel_env(spec["resource_dir"]))
    if "error" not in data:
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, cache)
    return _public(data, cached=False)


def _public(data: dict[str, Any], *, cached: bool) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k not in ("watch", "python")}
    out["cached"] = cached
    return out


def _probe_cuda(python: str, kernel_env: dict[str, str]) -> dict[str, Any]:
    from .probes import run_python_probe

    try:
        return run_python_probe(
            python,
            _CUDA_PROBE,
            _CUDA_MARKER,
            timeout=CUDA_PROBE_TIMEOUT_S,
            env={**os.environ, **kernel_env},
        )
    except (OSError, subprocess.SubprocessError, RuntimeError) as err:
        return {"cuda": False, "devices": [], "error": f"{type(err).__name__}: {err}"}


def kernel_inventory(
    *,
    cache_dir: Path | str | None,
    gpu_inventory: tuple[str, ...] | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """The installed kernels, each with what it can do with CUDA, the default kernel and
    this machine's GPUs: what ``GET kernels`` and ``jupyter mlops kernels`` show.
    Blocking (probes): call it from a thread in a server."""
    from .gpus import discover_gpus

    specs = list_kernelspecs()
    cuda = kernels_cuda_info(specs, cache_dir=cache_dir, refresh=refresh)
    return {
        "kernels": [
            {
                "name": name,
                "display_name": spec["display_name"],
                "language": spec["language"],
                "cuda": cuda.get(name),
            }
            for name, spec in specs.items()
        ],
        "default_kernel": DEFAULT_KERNEL,
        "gpus": [g.to_dict() for g in discover_gpus(gpu_inventory)],
    }


def kernels_cuda_info(
    names: Iterable[str], *, cache_dir: Path | str | None = None, refresh: bool = False
) -> dict[str, dict[str, Any] | None]:
    """:func:`kernel_cuda_info` for several kernels at once, probing in parallel (each
    uncached probe is a Python process importing torch: seconds). A kernel that
    disappeared meanwhile, or whose probe failed outright, maps to ``None``."""
    from concurrent.futures import ThreadPoolExecutor

    def one(name: str) -> dict[str, Any] | None:
        try:
            return kernel_cuda_info(name, cache_dir=cache_dir, refresh=refresh)
        except Exception as err:  # KernelNotFound, or a probe that could not start
            log.info("kernel %s: CUDA probe skipped: %s", name, err)
            return None

    unique = list(dict.fromkeys(names))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=min(4, len(unique))) as pool:
        return dict(zip(unique, pool.map(one, unique), strict=True))
