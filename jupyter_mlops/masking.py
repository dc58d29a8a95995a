"""Secret parameters: masked everywhere they could be kept, handed to the kernel aside.

A parameter whose name matches ``Settings.secret_parameter_patterns`` (``*key*``,
``*token*``, ... in any case) is *secret*. Its value never reaches the run store, the REST
API, the CLI, the executed notebook or its HTML rendering:

* the store keeps a row with the mask :data:`MASK` as its value and :data:`SECRET_PARAM_TYPE`
  as its type (the flag), so every view shows ``"***"``;
* the value travels from the submitting process to the runner in a *hand-over file*
  (:data:`HANDOVER_FILE`, mode 0600, in the run directory) that the runner reads and deletes
  as the first thing it does, long before its kernel starts. A Dask run carries the
  hand-over in its task's arguments instead (a worker elsewhere has another run directory;
  Dask keeps task arguments in memory, never on disk) and the worker writes the same file
  for the runner it starts;
* the runner puts the value in the kernel's environment (:func:`secret_env_name`,
  ``JUPYTER_MLOPS_SECRET_<NAME>``) and the injected-parameters cell reads it from there
  (:func:`kernel_expression`), so the notebook says where the value came from, not what it was.

``reproduce`` cannot copy what was never stored: it takes the value again (``-p NAME VALUE``
or the REST body) or from the same environment variable of the reproducing process.

The hand-over also carries *values to redact* from the recorded environment (the Jupyter
server's own token, and the secret values themselves), see
:func:`jupyter_mlops.environment.filter_environment_variables`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .notebook.coercion import ParameterError

MASK = "***"
"""What the store, REST, CLI and HTML show instead of a secret value."""
SECRET_PARAM_TYPE = "secret"
"""``run_params.type_name`` of a masked parameter (its value_json is the mask)."""
ENV_SECRET_PREFIX = "JUPYTER_MLOPS_SECRET_"
HANDOVER_FILE = "secrets.json"


def is_secret_name(name: str, patterns: Iterable[str]) -> bool:
    """Whether a parameter called ``name`` is secret (shell-style patterns, any case)."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns)


def secret_env_name(name: str) -> str:
    """The environment variable that carries parameter ``name`` into the kernel (and that
    ``submit`` / ``reproduce`` read when the value is not given)."""
    return ENV_SECRET_PREFIX + re.sub(r"\W", "_", name).upper()


def env_text(value: Any) -> str:
    """A value as environment text: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


class SecretFromEnv(str):
    """A secret parameter on its way through papermill: its text is the mask (so papermill's
    ``metadata.papermill.parameters`` in the executed notebook reads ``"***"``), and the
    translator of :mod:`jupyter_mlops.papermill_engine` writes :func:`kernel_expression`
    instead of a literal."""

    env_name: str
    is_json: bool

    def __new__(cls, env_name: str, *, is_json: bool) -> SecretFromEnv:
        marker = super().__new__(cls, MASK)
        marker.env_name = env_name
        marker.is_json = is_json
        return marker

    def __reduce__(self) -> tuple[Any, ...]:  # deepcopy / pickle keep the marker a marker
        return (_remake_marker, (self.env_name, self.is_json))


def _remake_marker(env_name: str, is_json: bool) -> SecretFromEnv:
    return SecretFromEnv(env_name, is_json=is_json)


def kernel_expression(marker: SecretFromEnv) -> str:
    """Python that reads the secret in the kernel: the notebook shows this, not the value."""
    read = f"__import__('os').environ[{marker.env_name!r}]"
    return f"__import__('json').loads({read})" if marker.is_json else read


@dataclass
class Handover:
    """What a runner gets aside from the store: secret parameter values (typed, as the
    notebook declares them) and values to redact from the environment record."""

    parameters: dict[str, Any] = field(default_factory=dict)
    redact: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.parameters or self.redact)

    def to_json(self) -> str:
        return json.dumps({"parameters": self.parameters, "redact": self.redact})

    @classmethod
    def from_json(cls, text: str) -> Handover:
        data = json.loads(text)
        return cls(dict(data.get("parameters") or {}), [str(v) for v in data.get("redact") or []])

    def values_to_redact(self) -> list[str]:
        """Every text the environment record must not contain."""
        values = [*self.redact, *(env_text(v) for v in self.parameters.values())]
        return sorted({v for v in values if v}, key=len, reverse=True)


def write_handover(run_dir: Path, handover: Handover) -> None:
    """Write the hand-over file (0600 from its creation, never readable by others)."""
    if not handover:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / HANDOVER_FILE
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(handover.to_json())


def take_handover(run_dir: Path) -> Handover:
    """Read and delete the hand-over file (an empty hand-over when there is none)."""
    path = run_dir / HANDOVER_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Handover()
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return Handover.from_json(text)


def discard_handover(run_dir: Path) -> None:
    """Remove a hand-over no runner will read (the launch failed)."""
    with contextlib.suppress(FileNotFoundError):
        (run_dir / HANDOVER_FILE).unlink()


def secret_values_from_env(
    names: Iterable[str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The raw texts of the ``JUPYTER_MLOPS_SECRET_<NAME>`` variables that are set."""
    env = os.environ if environ is None else environ
    found = {name: env.get(secret_env_name(name)) for name in names}
    return {name: text for name, text in found.items() if text is not None}


class SecretParameterMissing(ParameterError):
    """``reproduce`` of a run with secret parameters was given no value for some of them
    (bad input: a 400 naming the parameters, exit code 2 in the CLI)."""

    def __init__(self, run_id: str, names: list[str]) -> None:
        listed = ", ".join(names)
        example = names[0]
        super().__init__(
            f"run {run_id} has the secret parameter(s) {listed}, whose values are never "
            f"stored: give them again (CLI: -p {example} VALUE; REST: "
            f'{{"parameters": {{"{example}": ...}}}}) or set '
            f"{', '.join(secret_env_name(n) for n in names)} in the environment of the "
            "process that reproduces the run",
            dict.fromkeys(names, "a secret parameter: give its value again"),
        )


def refuse_secret_parameters(values: Mapping[str, Any], patterns: Iterable[str]) -> None:
    """A schedule stores its parameters for every later run, so it takes no secret one: each
    run it fires reads the value from the firing process's environment instead."""
    names = sorted(n for n in values if is_secret_name(n, patterns))
    if names:
        raise ParameterError(
            f"a schedule never stores secret parameters ({', '.join(names)}): leave them out "
            f"and set {', '.join(secret_env_name(n) for n in names)} in the environment of "
            "the process that fires the schedule (the server or `jupyter mlops scheduler`); "
            "each run reads the value from there",
            dict.fromkeys(names, "a secret parameter: set its environment variable instead"),
        )
