"""Where jupyter-mlops keeps its state, resolved the same way by every entry point.

The server extension, the CLI and the detached runner processes must all agree on the
store URL, the data directory and the queue's limits. Each setting is declared once, as a
field of :class:`Settings` (its type, default, help and environment variable); the rest
is derived from that declaration:

* the traitlets configuration ``c.MLOps.<name>`` (the user-facing way; one trait per field,
  see :class:`MLOps`), also behind the CLI's ``--db-url``-style aliases;
* the environment variables (``JUPYTER_MLOPS_<NAME>`` unless the field names another)
  that carry the resolved values into runner processes, which never read config files
  (:meth:`Settings.runner_env` and :meth:`Settings.from_env`).

Precedence, the same for every setting: ``c.MLOps.<name>`` when configured (an empty text
counts as not configured), else its environment variable (ignored when it does not parse),
else the declared default.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

from traitlets import Float, Int, List, TraitType, Type, Unicode, default, validate
from traitlets.config import Configurable

from .verify.normalize import DEFAULT_PATTERNS as DEFAULT_NORMALIZE_PATTERNS
from .verify.normalize import check_patterns

ENV_PREFIX = "JUPYTER_MLOPS_"
ENV_SEED = "JUPYTER_MLOPS_SEED"
ENV_RUN_ID = "JUPYTER_MLOPS_RUN_ID"
ENV_PARENT_PID = "JUPYTER_MLOPS_PARENT_PID"
"""Set by the Dask backend: the worker process that started the runner. When it dies, the
runner ends its run as lost instead of running on as an orphan."""

BACKENDS = {
    "local": "jupyter_mlops.backends.local.LocalBackend",
    "dask": "jupyter_mlops.backends.dask.DaskBackend",
}
"""The backends ``c.MLOps.backend`` (and ``JUPYTER_MLOPS_BACKEND``, ``--backend``) name;
any other :class:`~jupyter_mlops.backends.base.Backend` is given by its import path."""


class Option(NamedTuple):
    """What the type and default of a setting do not say: its help, its environment
    variable and the values it refuses. (Named tuples, not dataclasses, here: each
    dataclass costs the runner's start about a millisecond.)"""

    help: str
    env: str
    minimum: int | None = None
    """A configured value below it is refused; an environment value below it is raised to it."""
    check: Callable[[Any], Any] | None = None
    """Normalizes a configured value, or raises ``ValueError`` for one it refuses."""


def option(
    help: str,
    *,
    env: str = "",
    minimum: int | None = None,
    check: Callable[[Any], Any] | None = None,
) -> dict[str, Option]:
    """The ``metadata`` that makes a :class:`Settings` field a setting (see the module)."""
    return {"option": Option(help, env, minimum, check)}


def default_max_concurrent_runs() -> int:
    """One run per CPU core (at least one)."""
    return max(1, os.cpu_count() or 1)


def jupyter_mlops_dir() -> Path:
    """``<jupyter data dir>/mlops``: the data directory when none is configured."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "mlops"


def parse_gpu_inventory(text: str | None) -> tuple[str, ...] | None:
    """``"A100,A100"`` -> ("A100", "A100"); None when ``text`` is None (not configured)."""
    if text is None:
        return None
    return tuple(n.strip() for n in text.split(",") if n.strip())


def backend_name(value: str) -> str:
    """``c.MLOps.backend``: an alias of :data:`BACKENDS` (any case), or an import path."""
    name = str(value).strip()
    if name.lower() in BACKENDS or not name:
        return name.lower() or "local"
    if "." in name:
        return name
    raise ValueError(
        f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)} or the import path "
        "of a jupyter_mlops.backends.base.Backend subclass"
    )


RUNNER_HOST_MODES = ("auto", "off")


def runner_host_mode(value: str) -> str:
    """``c.MLOps.runner_host``: one of :data:`RUNNER_HOST_MODES` (any case)."""
    mode = str(value).strip().lower()
    if mode not in RUNNER_HOST_MODES:
        raise ValueError(f"runner_host must be 'auto' or 'off', got {value!r}")
    return mode


CLI_RUNNER_MODES = ("fork", "spawn")


def cli_runner_mode(value: str) -> str:
    """``c.MLOps.cli_runner``: one of :data:`CLI_RUNNER_MODES` (any case)."""
    mode = str(value).strip().lower()
    if mode not in CLI_RUNNER_MODES:
        raise ValueError(f"cli_runner must be 'fork' or 'spawn', got {value!r}")
    return mode


RUN_CGROUP_MODES = ("auto", "off")
"""``c.MLOps.run_cgroup``'s words; any other value names a directory."""


def run_cgroup_choice(value: str) -> str:
    """``c.MLOps.run_cgroup``: one of :data:`RUN_CGROUP_MODES` (any case) or an absolute
    directory."""
    text = str(value).strip()
    if text.lower() in RUN_CGROUP_MODES:
        return text.lower()
    if not os.path.isabs(text):
        raise ValueError(
            f"run_cgroup must be 'auto', 'off' or an absolute cgroup v2 directory, got {value!r}"
        )
    return os.path.normpath(text)


def max_tag_length(value: int) -> int:
    """``c.MLOps.max_tag_length``: the store's tag column holds at most 255 characters."""
    if value > 255:
        raise ValueError("max_tag_length must be at most 255 (the store's tag column)")
    return value


@dataclass(frozen=True)
class Settings:
    """The resolved settings every component works from (plain data, cheap to pass on)."""

    data_dir: Path = field(
        default_factory=jupyter_mlops_dir,
        metadata=option(
            "Directory for the SQLite store, run directories, artifacts and the private "
            "snapshot repository. Default: <jupyter data dir>/mlops."
        ),
    )
    db_url: str = field(
        default="",
        metadata=option(
            "SQLAlchemy URL of the run store, e.g. postgresql+psycopg://user@host/db. "
            "Empty: SQLite in the data directory."
        ),
    )
    artifact_root: str = field(
        default="",
        metadata=option(
            "Where artifacts are stored: a directory, or an fsspec URL that several "
            "machines share (s3://bucket/prefix with s3fs installed, gs://, abfs://, "
            "file:///shared/dir). Empty: <data_dir>/artifacts."
        ),
    )
    heartbeat_interval: float = field(
        default=2.0, metadata=option("Seconds between runner heartbeats written to the store.")
    )
    lost_after: float = field(
        default=30.0,
        metadata=option(
            "An active run whose heartbeat is older than this many seconds is marked lost "
            "(its runner's processes killed first, when they are on this machine)."
        ),
    )
    pipeline_lease_ttl: float = field(
        default=20.0,
        metadata=option(
            "Seconds a process's lease on a pipeline run lasts without renewal: after that "
            "another process (server, CLI --wait, scheduler) takes over advancing it."
        ),
    )
    timeout_grace: float = field(
        default=60.0,
        metadata=option(
            "Seconds past a run's timeout after which the reconciler ends it as timed_out "
            "itself (the runner did not: it hangs); time for a runner to store its outputs."
        ),
    )
    run_cgroup: str = field(
        default="auto",
        metadata=option(
            "A cgroup v2 of its own for each run's processes, so that the end of a run (and "
            "a reconciler, once its runner is gone) kills all of them whatever they did to "
            "escape: 'auto' (under the runner's own cgroup, where the machine has cgroup v2 "
            "and allows it), 'off', or the cgroup v2 directory to create them in (such as a "
            "delegated systemd slice).",
            check=run_cgroup_choice,
        ),
    )
    backend: str = field(
        default="local",
        metadata=option(
            "Where runs execute: 'local' (detached processes on this machine, queued by "
            "max_concurrent_runs and GPU slots) or 'dask' (workers of a Dask cluster, see "
            "dask_scheduler_address); another backend by its import path (see backend_class).",
            check=backend_name,
        ),
    )
    dask_scheduler_address: str = field(
        default="",
        metadata=option(
            "Address of the Dask scheduler for backend 'dask' (e.g. tcp://10.0.0.5:8786). "
            "Empty: a LocalCluster is started in this process (it ends with it).",
            env="JUPYTER_MLOPS_DASK_SCHEDULER",
        ),
    )
    max_concurrent_runs: int = field(
        default_factory=default_max_concurrent_runs,
        metadata=option(
            "Runs of the local backend executing at once on this machine; later ones wait "
            "in 'queued', first come first served. Default: the number of CPU cores.",
            minimum=1,
        ),
    )
    gpu_inventory: tuple[str, ...] | None = field(
        default=None,
        metadata=option(
            "A fake GPU list (names; 'A100,A100' in the environment) instead of the GPUs "
            "found by NVML/nvidia-smi, for tests and CI. None: discover the real GPUs.",
            env="JUPYTER_MLOPS_FAKE_GPUS",
        ),
    )
    system_metrics_interval: float = field(
        default=5.0,
        metadata=option(
            "Seconds between samples of a run's CPU, memory and GPU use, stored as "
            "system/* metrics. 0 turns sampling off."
        ),
    )
    output_cell_max_bytes: int = field(
        default=256 * 1024,
        metadata=option(
            "Most bytes of one cell's output (stdout, stderr, results, errors) kept in the "
            "store and shown live; beyond it a marker says so and the full text is only in "
            "the run's logs/output.txt artifact.",
            minimum=1,
        ),
    )
    output_run_max_bytes: int = field(
        default=4 * 1024 * 1024,
        metadata=option(
            "Most bytes of a whole run's output kept in the store and shown live; beyond "
            "it a marker says so and the rest is only in the logs/output.txt artifact.",
            minimum=1,
        ),
    )
    max_request_bytes: int = field(
        default=1024 * 1024,
        metadata=option(
            "Largest REST request body accepted, in bytes; a larger one is refused (400).",
            minimum=1,
        ),
    )
    max_parameter_bytes: int = field(
        default=64 * 1024,
        metadata=option(
            "Largest value of one run parameter, in bytes of JSON, from REST, the CLI and "
            "schedules alike (every page of the run list carries the parameters).",
            minimum=1,
        ),
    )
    max_tags: int = field(
        default=50, metadata=option("Most tags one run or schedule may have.", minimum=0)
    )
    max_tag_length: int = field(
        default=255,
        metadata=option(
            "Longest tag, in characters (at most 255, the store's column).",
            minimum=1,
            check=max_tag_length,
        ),
    )
    secret_parameter_patterns: tuple[str, ...] = field(
        default=("*key*", "*token*", "*secret*", "*password*", "*credential*"),
        metadata=option(
            "Parameters whose names match one of these shell-style patterns (any case) are "
            "secret: stored and shown as '***', passed to the kernel through its environment, "
            "never written into the executed notebook ('*key*,*token*' in the environment; "
            "empty: no parameter is secret).",
            env="JUPYTER_MLOPS_MASK_PARAMETERS",  # not JUPYTER_MLOPS_SECRET_*: secret values
            check=lambda v: [str(p).strip() for p in v if str(p).strip()],
        ),
    )

    dataset_stats_sample_bytes: int = field(
        default=256 * 1024 * 1024,
        metadata=option(
            "Tabular datasets (CSV, Parquet) larger than this many bytes are summarized "
            "from their first dataset_stats_sample_rows rows (the record says 'sampled'); "
            "the row count is always the whole file's.",
            minimum=0,
        ),
    )
    dataset_stats_sample_rows: int = field(
        default=1_000_000,
        metadata=option("Rows a sampled table summary is computed from.", minimum=1),
    )
    verify_normalize: tuple[str, ...] = field(
        default=DEFAULT_NORMALIZE_PATTERNS,
        metadata=option(
            "Regular expressions of volatile output text (memory addresses, timestamps, "
            "durations by default) that reproduce --verify replaces before comparing cells; "
            "a difference only they make is 'equivalent'. --normalize REGEX adds one "
            "(comma-separated in the environment; empty: compare the text as it is).",
            check=lambda v: check_patterns(str(p) for p in v),
        ),
    )
    runner_host: str = field(
        default="off",
        metadata=option(
            "'auto': the server starts a warm runner host (`jupyter mlops worker`, a fork "
            "server that starts each run about half a second sooner) for its data directory "
            "when none answers there, and leaves it running when it stops (the host and its "
            "runs outlive the server). 'off': the server starts none; a host started by "
            "`jupyter mlops worker` is used either way.",
            check=runner_host_mode,
        ),
    )
    cli_runner: str = field(
        default="fork",
        metadata=option(
            "How `jupyter mlops run` (reproduce, schedule run-now) starts its run's runner "
            "when no runner host is up. 'fork': the command forks itself into the runner, "
            "with the store's imports already loaded (the run starts about 0.8 s sooner; "
            "its record is the same). 'spawn': a fresh `python -m jupyter_mlops.runner`, "
            "as the server always does.",
            check=cli_runner_mode,
        ),
    )
    warm_kernels: int = field(
        default=1,
        metadata=option(
            "Warm kernels the runner host keeps for each kind of run it has seen (kernel, "
            "environment, seed): a run of that kind adopts one instead of waiting for its "
            "kernel to start, and gives the same results and records. Runs with GPUs or "
            "secret parameters always start their own. 0: none.",
            minimum=0,
        ),
    )

    @property
    def resolved_db_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'mlops.db'}"

    @property
    def resolved_artifact_root(self) -> Path:
        return Path(self.artifact_root) if self.artifact_root else self.data_dir / "artifacts"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def private_repo_dir(self) -> Path:
        return self.data_dir / "snapshots.git"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def runner_env(self) -> dict[str, str]:
        """Environment variables that hand these settings to a runner process (the ones
        not set, None or empty, are left out)."""
        env = {
            env_name(f): _kind(f).format(getattr(self, f.name))
            for f in SETTING_FIELDS.values()
            if getattr(self, f.name) not in (None, "")
        }
        # the store's URL in full: a runner (and the kernel's tracking API) needs no
        # data-directory logic to find it
        env[env_name(SETTING_FIELDS["db_url"])] = self.resolved_db_url
        return env

    @classmethod
    def from_env(cls) -> Settings:
        """Settings of a runner (or any process started with :meth:`runner_env`)."""
        return cls(**{f.name: environment_value(f) for f in SETTING_FIELDS.values()})


# -- what the declarations give: environment variables and their values -------------------


def _same(value: Any) -> Any:
    return value


class _Kind(NamedTuple):
    """How values of one Python type travel as environment text and as a trait."""

    trait: Callable[..., TraitType[Any, Any]]
    parse: Callable[[str], Any]
    """Environment text -> value; ``ValueError``: the variable is ignored."""
    format: Callable[[Any], str]
    to_trait: Callable[[Any], Any] = _same
    from_trait: Callable[[Any], Any] = _same


def _text(text: str) -> str:
    if not text:
        raise ValueError("empty")
    return text


def _directory(text: str) -> Path:
    return Path(_text(text)).expanduser().resolve()


_KINDS: dict[str, _Kind] = {  # by annotation, as written in Settings (a string, PEP 563)
    "str": _Kind(Unicode, _text, str),
    "float": _Kind(Float, float, repr),
    "int": _Kind(Int, int, str),
    "Path": _Kind(
        Unicode, _directory, str, to_trait=str, from_trait=lambda v: Path(v).expanduser().resolve()
    ),
    "tuple[str, ...]": _Kind(
        lambda **kw: List(Unicode(), **kw),
        lambda text: parse_gpu_inventory(text) or (),
        ",".join,
        to_trait=list,
        from_trait=tuple,
    ),
    "tuple[str, ...] | None": _Kind(
        lambda **kw: List(Unicode(), allow_none=True, **kw),
        parse_gpu_inventory,
        ",".join,
        to_trait=lambda v: None if v is None else list(v),
        from_trait=lambda v: None if v is None else tuple(v),
    ),
}


SETTING_FIELDS: dict[str, Field[Any]] = {f.name: f for f in fields(Settings)}
"""Every field of :class:`Settings` is a setting."""


def _option(f: Field[Any]) -> Option:
    return f.metadata["option"]


def _kind(f: Field[Any]) -> _Kind:
    return _KINDS[f.type]


def env_name(f: Field[Any]) -> str:
    """The environment variable of a setting: ``JUPYTER_MLOPS_<NAME>`` unless it names one."""
    return _option(f).env or ENV_PREFIX + f.name.upper()


def _declared_default(f: Field[Any]) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def environment_value(f: Field[Any] | str) -> Any:
    """A setting's value from its environment variable, else its declared default."""
    f = SETTING_FIELDS[f] if isinstance(f, str) else f
    text = os.environ.get(env_name(f))
    if text is None:
        return _declared_default(f)
    try:
        value = _kind(f).parse(text)
    except ValueError:
        return _declared_default(f)
    minimum = _option(f).minimum
    return value if minimum is None else max(minimum, value)


def default_data_dir() -> Path:
    """``<jupyter data dir>/mlops``, unless ``JUPYTER_MLOPS_DATA_DIR`` says otherwise."""
    return environment_value("data_dir")


ENV_DATA_DIR = env_name(SETTING_FIELDS["data_dir"])
ENV_FAKE_GPUS = env_name(SETTING_FIELDS["gpu_inventory"])


# -- c.MLOps.*: one trait per setting --------------------------------------------------------


def _setting_traits() -> dict[str, Any]:
    """The trait of each setting (its help, its declared default for ``--help``) and the
    handler that gives it its environment variable's value when not configured."""
    namespace: dict[str, Any] = {}
    for f in SETTING_FIELDS.values():
        kind = _kind(f)
        shown = {} if f.default is MISSING else {"default_value": kind.to_trait(f.default)}
        namespace[f.name] = kind.trait(help=f"{_option(f).help} Env: {env_name(f)}.", **shown).tag(
            config=True
        )
        namespace[f"_default_{f.name}"] = default(f.name)(
            lambda _self, f=f: _kind(f).to_trait(environment_value(f))
        )
    return namespace


class MLOps(Configurable):
    """``c.MLOps.*``: configuration shared by the server extension and the CLI."""

    # c.MLOps.db_url, c.MLOps.data_dir, ...: made from the fields of Settings. A class
    # body's vars() is the class namespace (in CPython, and by PEP 667 in the language
    # since 3.13), so these are ordinary traits, as if written out here.
    vars().update(_setting_traits())

    backend_class = Type(
        default_value=None,
        klass="jupyter_mlops.backends.base.Backend",
        allow_none=True,
        help="The execution backend, a jupyter_mlops.backends.base.Backend subclass (e.g. "
        "'jupyter_mlops.backends.dask.DaskBackend'): the plug-in point for other backends. "
        "None: the one c.MLOps.backend names.",
    ).tag(config=True)

    @validate(*SETTING_FIELDS)
    def _check_setting(self, proposal: dict[str, Any]) -> Any:
        name = proposal["trait"].name
        rules, value = _option(SETTING_FIELDS[name]), proposal["value"]
        if rules.minimum is not None and value < rules.minimum:
            raise ValueError(f"{name} must be at least {rules.minimum}")
        return value if rules.check is None else rules.check(value)

    def settings(self) -> Settings:
        values = {}
        for f in SETTING_FIELDS.values():
            value = getattr(self, f.name)
            values[f.name] = environment_value(f) if value == "" else _kind(f).from_trait(value)
        if self.backend_class is not None:
            path = f"{self.backend_class.__module__}.{self.backend_class.__qualname__}"
            values["backend"] = next((a for a, p in BACKENDS.items() if p == path), path)
        return Settings(**values)
