"""Capture the environment a run executes in, so it can be compared and reproduced later.

What is recorded is what decides a result: the *kernel's* interpreter and its packages (not the
server's), torch with its compiled CUDA/cuDNN, the GPUs and driver, the host, and the
environment variables with anything secret-looking removed.

Two constraints shape this module:

* **Never leak secrets.** Variables whose names look secret are dropped whole (a truncated
  value still leaks), values that look like known token formats are dropped, and passwords or
  tokens inside URLs and ``key=value`` strings are replaced by ``***``.
* **Stay fast and never fail a run.** ``import torch`` costs 1-2 s, so torch is probed in a
  subprocess with the kernel's Python and its static facts are cached on disk; runtime facts
  (is CUDA usable, which devices) come from NVML when that is unambiguous. Every probe is
  best-effort: a failure is recorded as ``{"error": "..."}`` in its section, never raised.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import hashlib
import json
import os
import platform
import re
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .package_probe import INTERPRETER_PROBE, probe_this_interpreter

__all__ = [
    "SCHEMA_VERSION",
    "SECRET_NAME_PATTERN",
    "capture_environment",
    "filter_environment_variables",
    "redact_known_values",
    "redact_value",
]

SCHEMA_VERSION = 1
"""Bumped when the shape of the captured dict changes, so readers can adapt old runs."""

PROBE_TIMEOUT_S = 30.0
"""Limit for each subprocess probe (packages of another interpreter, ``import torch``)."""

SECRET_NAME_PATTERN: re.Pattern[str] = re.compile(
    r"TOKEN|SECRET|PASS|CRED|AUTH|PRIVATE|SESSION|COOKIE|SIGNATURE|SIGNING|CERT|KEY|SALT|"
    r"DSN|BEARER|JWT|HMAC|CONN_?STR|CONNECTION_STRING|(?<=.)(?<!OLD)PWD",
    re.IGNORECASE,
)
"""Environment variable names that may hold secrets (use with ``.search``).

Deliberately broad: ``PASS`` also covers PASSWORD/PASSWD/PASSPHRASE, ``KEY`` also matches
KEYBOARD, ``AUTH`` also matches GIT_AUTHOR_NAME. Losing a harmless variable costs little;
storing a secret in a shared run database costs a lot. ``PWD`` only matches with a prefix
(``DB_PWD``, ``MYSQL_PWD``), so the shell's ``PWD``/``OLDPWD`` and ``PATH`` are kept.
"""

_SECRET_VALUE_PATTERN = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}|\bglpat-[A-Za-z0-9_-]{16,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bsk-[A-Za-z0-9_-]{20,}|\bAKIA[0-9A-Z]{16}\b"
    r"|\bhf_[A-Za-z0-9]{20,}|\bAIza[0-9A-Za-z_-]{35}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
)
"""Well-known token formats (GitHub, GitLab, Slack, OpenAI-style, AWS, Hugging Face, Google,
JWT): a variable holding one is dropped whatever its name."""

_URL_PASSWORD = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*):(?P<secret>[^\s/?#]*)@"
)
_URL_USER_ONLY = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^\s:/?#@]+)@")
_KEY_VALUE_SECRET = re.compile(
    r"(?P<head>[\w.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|"
    r"sig|signature|credential|auth)[\w.\-]*\s*[=:]\s*)(?P<secret>[^\s&;,\"']+)",
    re.IGNORECASE,
)


def redact_value(value: str) -> str:
    """Replace credentials embedded in a string with ``***``.

    Handles ``scheme://user:password@host`` (keeps the user, which helps debugging),
    ``scheme://<token>@host`` when the user part looks like a token, and ``key=value`` pairs
    whose key looks secret (query strings such as ``?sig=...&token=...``, ``--password=...``).
    """
    redacted = _URL_PASSWORD.sub(lambda m: f"{m['head']}:***@", value)

    def user_only(match: re.Match[str]) -> str:
        user = match["user"]
        if len(user) >= 20 or _SECRET_VALUE_PATTERN.search(user):
            return f"{match['head']}***@"
        return match[0]

    redacted = _URL_USER_ONLY.sub(user_only, redacted)
    return _KEY_VALUE_SECRET.sub(
        lambda m: m[0] if m["secret"] == "***" else f"{m['head']}***", redacted
    )


MIN_REDACTED_LENGTH = 4
"""Known secrets shorter than this are not searched for in other texts: a 1-3 character
text cannot be told from ordinary ones ("5" is in every version number). Such a value
reaches the environment only as its own ``JUPYTER_MLOPS_SECRET_<NAME>``, which is dropped."""


def _known(values: Sequence[str]) -> list[str]:
    """The known secrets worth searching for, longest first (a token containing another
    is replaced whole)."""
    return sorted({v for v in values if len(v) >= MIN_REDACTED_LENGTH}, key=len, reverse=True)


def redact_known_values(value: str, known: Sequence[str]) -> str:
    """``value`` with every occurrence of the ``known`` secrets (the Jupyter server's token,
    secret parameter values) replaced by ``***``, whatever the variable is called."""
    for secret in _known(known):
        if secret in value:
            value = value.replace(secret, "***")
    return value


def filter_environment_variables(
    env: Mapping[str, str], redact_values: Sequence[str] = ()
) -> dict[str, str]:
    """Environment variables safe to store: secret-looking names and token values dropped whole,
    credentials inside the remaining values (URLs, ``key=value``) and the texts of
    ``redact_values`` (known secrets, longest first) redacted. Sorted by name."""
    known = _known(redact_values)
    kept: dict[str, str] = {}
    for name in sorted(env):
        value = str(env[name])
        if SECRET_NAME_PATTERN.search(name) or _SECRET_VALUE_PATTERN.search(value):
            continue
        kept[name] = redact_value(redact_known_values(value, known))
    return kept


# --------------------------------------------------------------------------------------
# probes
# --------------------------------------------------------------------------------------

_PROBE_MARKER = "__JUPYTER_MLOPS_PROBE__"

_TORCH_PROBE = r"""
import json
import torch

info = {
    "version": torch.__version__,
    "cuda": getattr(torch.version, "cuda", None),
    "hip": getattr(torch.version, "hip", None),
    "git_version": getattr(torch.version, "git_version", None),
    "debug": getattr(torch.version, "debug", None),
}
try:
    info["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
except Exception as exc:
    info["cudnn"] = None
    info["cudnn_error"] = repr(exc)
runtime = {"cuda_available": False, "device_count": 0, "devices": []}
try:
    if torch.cuda.is_available():
        runtime["cuda_available"] = True
        runtime["device_count"] = torch.cuda.device_count()
        for index in range(runtime["device_count"]):
            props = torch.cuda.get_device_properties(index)
            runtime["devices"].append({"name": props.name, "total_memory": int(props.total_memory)})
except Exception as exc:
    runtime["error"] = repr(exc)
info["runtime"] = runtime
print("__JUPYTER_MLOPS_PROBE__" + json.dumps(info))
"""

_TORCH_STATIC_KEYS = ("version", "cuda", "hip", "cudnn", "git_version", "debug")


def _error(exc: BaseException) -> dict[str, str]:
    return {"error": f"{type(exc).__name__}: {exc}"}


def _safe(fn: Callable[[], Any]) -> Any:
    """Run one probe; its failure becomes ``{"error": ...}`` rather than failing the capture."""
    try:
        return fn()
    except Exception as exc:
        return _error(exc)


def _run_python(python: str, code: str) -> dict[str, Any]:
    """Run ``code`` with another interpreter, whose environment is inherited as the
    kernel's would be; the JSON it printed after the marker."""
    from .probes import run_python_probe

    return run_python_probe(python, code, _PROBE_MARKER, timeout=PROBE_TIMEOUT_S)


def _env_prefix(executable: str) -> str:
    """The environment an interpreter belongs to: its venv (``pyvenv.cfg``) or install prefix.

    Needed because a venv's ``bin/python`` is a symlink to the base interpreter: same
    realpath, different packages.
    """
    bin_dir = os.path.dirname(os.path.abspath(executable))
    for candidate in (os.path.dirname(bin_dir), bin_dir):
        if os.path.exists(os.path.join(candidate, "pyvenv.cfg")):
            return os.path.realpath(candidate)
    real_bin = os.path.dirname(os.path.realpath(executable))
    return os.path.realpath(real_bin if os.name == "nt" else os.path.dirname(real_bin))


def _is_current_interpreter(python: str | None) -> bool:
    """Whether ``python`` would see the same packages as this process (then probe in-process)."""
    if not python:
        return True
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return True
    try:
        if os.path.realpath(python) != os.path.realpath(sys.executable):
            return False
        return _env_prefix(python) == os.path.realpath(sys.prefix)
    except OSError:
        return False


def _probe_interpreter(python: str | None, current: bool, cache_dir: Path | None) -> Any:
    """Packages and Python of ``python`` (:mod:`.package_probe`), this one's in-process."""
    if current:
        return probe_this_interpreter(cache_dir)
    assert python is not None
    code = INTERPRETER_PROBE + f"\nprint({_PROBE_MARKER!r} + json.dumps(probe(), default=str))\n"
    return _run_python(python, code)


def _probe_gpus() -> dict[str, Any]:
    """GPUs and driver through NVML (``nvidia-smi`` if the library is missing); [] when none."""
    from .gpus import probe_gpus

    return probe_gpus().record()


def _visible_devices(
    devices: list[dict[str, Any]], visible: str | None
) -> list[dict[str, Any]] | None:
    """Apply ``CUDA_VISIBLE_DEVICES`` the way the CUDA runtime does; ``None`` if undecidable.

    Indices and (prefixes of) ``GPU-`` UUIDs are understood; the list stops at the first
    invalid entry, as in CUDA. MIG identifiers cannot be mapped from NVML's device list.
    """
    if visible is None:
        return list(devices)
    chosen: list[dict[str, Any]] = []
    for raw in visible.split(","):
        token = raw.strip()
        if re.fullmatch(r"-?\d+", token):
            index = int(token)
            if not 0 <= index < len(devices):
                break
            chosen.append(devices[index])
        elif token.startswith("GPU-"):
            matches = [d for d in devices if str(d.get("uuid", "")).startswith(token)]
            if len(matches) != 1:
                break
            chosen.append(matches[0])
        elif token.startswith("MIG-"):
            return None
        else:
            break
    return chosen


def _runtime_from_nvml(
    static: Mapping[str, Any], gpus: Mapping[str, Any], env: Mapping[str, str]
) -> dict[str, Any] | None:
    """Derive torch's CUDA runtime facts without importing torch, or ``None`` if unsure.

    A CPU build never sees a GPU; a CUDA build sees the NVML devices that
    ``CUDA_VISIBLE_DEVICES`` leaves. Unsure cases (ROCm, MIG, NVML failing while a driver
    may exist, mixed GPU models whose CUDA order may differ from NVML's PCI order) return
    ``None`` so the caller runs the exact, slower torch probe.
    """
    if static.get("hip"):
        return None
    if not static.get("cuda"):
        return {"cuda_available": False, "device_count": 0, "devices": [], "source": "build"}
    if "error" in gpus:
        return None
    devices = list(gpus.get("devices") or [])
    if not devices and gpus.get("source") is None:
        # No NVML and no nvidia-smi: no NVIDIA driver, so CUDA cannot be available.
        return {"cuda_available": False, "device_count": 0, "devices": [], "source": "nvml"}
    if any(d.get("mig_enabled") for d in devices):
        return None
    order = env.get("CUDA_DEVICE_ORDER", "FASTEST_FIRST")
    if len({d.get("name") for d in devices}) > 1 and order != "PCI_BUS_ID":
        return None
    chosen = _visible_devices(devices, env.get("CUDA_VISIBLE_DEVICES"))
    if chosen is None:
        return None
    return {
        "cuda_available": bool(chosen),
        "device_count": len(chosen),
        "devices": [{"name": d["name"], "total_memory": d["memory_total"]} for d in chosen],
        "source": "nvml",
    }


def _cache_file(cache_dir: Path, python: str, torch_dist: Mapping[str, Any]) -> tuple[Path, str]:
    key_fields = [
        os.path.abspath(python),
        os.path.realpath(python),
        torch_dist.get("version"),
        torch_dist.get("location"),
        torch_dist.get("mtime_ns"),
    ]
    key = hashlib.sha256(json.dumps(key_fields).encode()).hexdigest()
    return cache_dir / f"torch-{key[:32]}.json", key


def _torch_section(
    python: str,
    current: bool,
    torch_dist: Mapping[str, Any] | None,
    gpus: Mapping[str, Any],
    cache_dir: Path | None,
    env: Mapping[str, str],
    probe_runtime: bool,
) -> dict[str, Any] | None:
    """torch version, compiled CUDA/cuDNN (cached), and CUDA runtime facts; None if absent."""
    if not torch_dist:
        return None
    if current and "torch" in sys.modules:  # already paid for: read it directly
        return {**_torch_in_process(), "cache": "unused"}
    cache_path: Path | None = None
    key = ""
    static: dict[str, Any] | None = None
    cache_state = "disabled"
    if cache_dir is not None:
        cache_path, key = _cache_file(Path(cache_dir), python, torch_dist)
        cache_state = "miss"
        with contextlib.suppress(OSError, ValueError):
            cached = json.loads(cache_path.read_text(encoding="utf-8"))
            if cached.get("key") == key and isinstance(cached.get("static"), dict):
                static, cache_state = cached["static"], "hit"
    runtime: dict[str, Any] | None = None
    if static is not None and not probe_runtime:
        runtime = _runtime_from_nvml(static, gpus, env)
    if static is None or runtime is None:
        probed = _run_python(python, _TORCH_PROBE)
        runtime = {**probed.pop("runtime", {}), "source": "torch"}
        static = {k: probed.get(k) for k in _TORCH_STATIC_KEYS}
        if cache_path is not None and cache_state == "miss":
            _write_cache(cache_path, key, static)
    return {**static, **runtime, "cache": cache_state}


def _torch_in_process() -> dict[str, Any]:
    torch: Any = sys.modules["torch"]
    info: dict[str, Any] = {
        "version": str(torch.__version__),
        "cuda": getattr(torch.version, "cuda", None),
        "hip": getattr(torch.version, "hip", None),
        "git_version": getattr(torch.version, "git_version", None),
        "debug": getattr(torch.version, "debug", None),
        "cudnn": None,
    }
    with contextlib.suppress(Exception):
        if torch.backends.cudnn.is_available():
            info["cudnn"] = torch.backends.cudnn.version()
    devices = []
    available = bool(torch.cuda.is_available())
    if available:
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append({"name": props.name, "total_memory": int(props.total_memory)})
    info.update(
        cuda_available=available, device_count=len(devices), devices=devices, source="torch"
    )
    return info


def _write_cache(path: Path, key: str, static: Mapping[str, Any]) -> None:
    """Write atomically (temp file + rename) so concurrent runners never read half a file."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "static": dict(static)}), encoding="utf-8")
        os.replace(tmp, path)


def _kernel_info(name: str, python: str | None) -> dict[str, Any]:
    from jupyter_mlops.kernels import list_kernelspecs

    info: dict[str, Any] = {"name": name, "python": python, "display_name": None, "language": None}
    spec = list_kernelspecs().get(name)
    if spec is None:
        info["error"] = f"kernel {name!r} is not installed"
    else:
        info["display_name"] = spec["display_name"]
        info["language"] = spec["language"]
    return info


def _host_sections() -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers with arbitrary uids)
        user = str(os.getuid()) if hasattr(os, "getuid") else None
    sections: dict[str, Any] = {
        "platform": _safe(
            lambda: {
                "system": platform.system(),
                "release": platform.release(),
                "machine": platform.machine(),
                "platform": platform.platform(),
            }
        ),
        "hostname": _safe(socket.gethostname),
        "user": user,
        "cwd": _safe(os.getcwd),
    }

    def hardware() -> dict[str, Any]:
        info: dict[str, Any] = {"cpu_count": os.cpu_count()}
        with contextlib.suppress(Exception):
            import psutil

            info["memory_total"] = int(psutil.virtual_memory().total)
        with contextlib.suppress(Exception):
            info["cpu_affinity"] = len(os.sched_getaffinity(0))
        return info

    sections["hardware"] = _safe(hardware)
    return sections


def capture_environment(
    *,
    kernel_name: str,
    kernel_python: str | None,
    extra: Mapping[str, Any] | None = None,
    cache_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    probe_torch_runtime: bool = False,
    redact_values: Sequence[str] = (),
) -> dict[str, Any]:
    """Snapshot of the run's environment as a JSON-safe dict (never raises for a probe failure).

    ``kernel_python`` is the kernel's interpreter (see :func:`jupyter_mlops.kernels.kernel_python`);
    packages and torch are read for it, in-process when it is this interpreter, else in a
    subprocess. ``cache_dir`` enables the on-disk cache of torch's static facts (``None``:
    no cache, torch is probed every time). ``environ`` defaults to ``os.environ``.
    ``probe_torch_runtime`` forces the exact torch subprocess probe for CUDA runtime facts
    instead of deriving them from NVML. ``extra`` entries are added as top-level keys.
    ``redact_values``: secrets known by value (the server's token, secret parameters) that
    must appear in no recorded variable, whatever its name.

    ``torch`` (``None`` when not installed) holds version, cuda, hip, cudnn, git_version,
    debug (the static part, cached), cuda_available, device_count, devices, ``source`` of the
    runtime part ("build": CPU build, "nvml": derived from NVML and CUDA_VISIBLE_DEVICES,
    "torch": measured by importing torch; NVML's memory total is slightly larger than torch's)
    and ``cache`` ("hit", "miss", "disabled", "unused" when torch was already imported here).
    ``environ`` only changes what is recorded; subprocess probes inherit ``os.environ``.
    """
    started = time.perf_counter()
    env = os.environ if environ is None else environ
    visible = env.get("CUDA_VISIBLE_DEVICES")
    current = _is_current_interpreter(kernel_python)
    python = kernel_python or sys.executable
    result: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "captured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
    }
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mlops-env") as pool:
        gpus_future = pool.submit(_safe, _probe_gpus)
        interp = _safe(lambda: _probe_interpreter(python, current, cache_dir))
        gpus = gpus_future.result()
    if "error" in interp:
        result["python"] = interp
        result["packages"] = interp
        result["torch"] = interp
    else:
        result["python"] = interp["python"]
        result["packages"] = interp["packages"]
        result["packages_cache"] = interp.get("packages_cache", "disabled")
        result["package_sources"] = {
            name: {k: redact_value(v) if isinstance(v, str) else v for k, v in source.items()}
            for name, source in interp["package_sources"].items()
        }
        result["torch"] = _safe(
            lambda: _torch_section(
                python,
                current,
                interp.get("torch_dist"),
                gpus,
                cache_dir,
                env,
                probe_torch_runtime,
            )
        )
    result.update(_host_sections())
    result["kernel"] = _safe(lambda: _kernel_info(kernel_name, kernel_python))
    result["gpus"] = gpus
    result["cuda_visible_devices"] = visible
    result["environment_variables"] = _safe(
        lambda: filter_environment_variables(env, redact_values)
    )
    if extra:
        result.update(extra)
    result["capture_seconds"] = round(time.perf_counter() - started, 4)
    return _redact_everywhere(json.loads(json.dumps(result, default=str)), redact_values)


def _redact_everywhere(data: Any, known: Sequence[str]) -> Any:
    """Known secrets removed from every text of the record (a path or a package source
    could hold one too), not only from the environment variables."""
    ordered = _known(known)
    if not ordered:
        return data

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redact_known_values(value, ordered)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        return value

    return walk(data)
