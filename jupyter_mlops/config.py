"""Where jupyter-mlops keeps its state, resolved the same way by every entry point.

The server extension, the CLI and the detached runner processes must all agree on
the store URL and the data directory. Traitlets configuration (``c.MLOps.db_url``)
is the user-facing way; environment variables (``JUPYTER_MLOPS_DB_URL``,
``JUPYTER_MLOPS_DATA_DIR``) carry the resolved values into runner processes, which
never read config files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import Float, Int, List, Unicode, default, validate
from traitlets.config import Configurable

ENV_DB_URL = "JUPYTER_MLOPS_DB_URL"
ENV_DATA_DIR = "JUPYTER_MLOPS_DATA_DIR"
ENV_ARTIFACT_ROOT = "JUPYTER_MLOPS_ARTIFACT_ROOT"
ENV_SEED = "JUPYTER_MLOPS_SEED"
ENV_RUN_ID = "JUPYTER_MLOPS_RUN_ID"
ENV_BACKEND = "JUPYTER_MLOPS_BACKEND"
ENV_DASK_SCHEDULER = "JUPYTER_MLOPS_DASK_SCHEDULER"
ENV_MAX_CONCURRENT = "JUPYTER_MLOPS_MAX_CONCURRENT_RUNS"
ENV_FAKE_GPUS = "JUPYTER_MLOPS_FAKE_GPUS"
"""A comma-separated fake GPU inventory (tests, CI): also what ``c.MLOps.gpu_inventory``
becomes in a runner's environment."""
ENV_HEARTBEAT = "JUPYTER_MLOPS_HEARTBEAT_INTERVAL"
ENV_LOST_AFTER = "JUPYTER_MLOPS_LOST_AFTER"
ENV_SYSTEM_METRICS = "JUPYTER_MLOPS_SYSTEM_METRICS_INTERVAL"
ENV_PARENT_PID = "JUPYTER_MLOPS_PARENT_PID"
"""Set by the Dask backend: the worker process that started the runner. When it dies, the
runner ends its run as lost instead of running on as an orphan."""

BACKENDS = ("local", "dask")


def default_max_concurrent_runs() -> int:
    """One run per CPU core (at least one)."""
    return max(1, os.cpu_count() or 1)


def parse_gpu_inventory(text: str | None) -> tuple[str, ...] | None:
    """``"A100,A100"`` -> ("A100", "A100"); None when ``text`` is None (not configured)."""
    if text is None:
        return None
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _env_float(name: str, fallback: float) -> float:
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return fallback


def _env_int(name: str, fallback: int) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return fallback


def default_data_dir() -> Path:
    """``<jupyter data dir>/mlops``, unless ``JUPYTER_MLOPS_DATA_DIR`` says otherwise."""
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser().resolve()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "mlops"


@dataclass(frozen=True)
class Settings:
    """The resolved settings every component works from (plain data, cheap to pass on)."""

    data_dir: Path
    db_url: str = ""
    artifact_root: str = ""
    heartbeat_interval: float = 2.0
    lost_after: float = 30.0
    extra_env: dict[str, str] = field(default_factory=dict)
    backend: str = "local"
    dask_scheduler_address: str = ""
    max_concurrent_runs: int = field(default_factory=default_max_concurrent_runs)
    gpu_inventory: tuple[str, ...] | None = None
    """Fake GPU names (tests, CI); None: discover the real GPUs (NVML, then nvidia-smi)."""
    system_metrics_interval: float = 5.0

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
        """Environment variables that hand these settings to a runner process."""
        env = {
            ENV_DATA_DIR: str(self.data_dir),
            ENV_DB_URL: self.resolved_db_url,
            ENV_HEARTBEAT: repr(self.heartbeat_interval),
            ENV_LOST_AFTER: repr(self.lost_after),
            ENV_MAX_CONCURRENT: str(self.max_concurrent_runs),
            ENV_SYSTEM_METRICS: repr(self.system_metrics_interval),
            ENV_BACKEND: self.backend,
        }
        if self.artifact_root:
            env[ENV_ARTIFACT_ROOT] = self.artifact_root
        if self.gpu_inventory is not None:
            env[ENV_FAKE_GPUS] = ",".join(self.gpu_inventory)
        if self.dask_scheduler_address:
            env[ENV_DASK_SCHEDULER] = self.dask_scheduler_address
        return env

    @classmethod
    def from_env(cls) -> Settings:
        """Settings of a runner (or any process started with :meth:`runner_env`)."""
        return cls(
            data_dir=default_data_dir(),
            db_url=os.environ.get(ENV_DB_URL, ""),
            artifact_root=os.environ.get(ENV_ARTIFACT_ROOT, ""),
            heartbeat_interval=_env_float(ENV_HEARTBEAT, 2.0),
            lost_after=_env_float(ENV_LOST_AFTER, 30.0),
            backend=os.environ.get(ENV_BACKEND) or "local",
            dask_scheduler_address=os.environ.get(ENV_DASK_SCHEDULER, ""),
            max_concurrent_runs=max(1, _env_int(ENV_MAX_CONCURRENT, default_max_concurrent_runs())),
            gpu_inventory=parse_gpu_inventory(os.environ.get(ENV_FAKE_GPUS)),
            system_metrics_interval=_env_float(ENV_SYSTEM_METRICS, 5.0),
        )


class MLOps(Configurable):
    """``c.MLOps.*``: configuration shared by the server extension and the CLI."""

    db_url = Unicode(
        "",
        help="SQLAlchemy URL of the run store, e.g. postgresql+psycopg://user@host/db. "
        "Empty: SQLite in the data directory. Env: JUPYTER_MLOPS_DB_URL.",
    ).tag(config=True)

    data_dir = Unicode(
        help="Directory for the SQLite store, run directories, artifacts and the private "
        "snapshot repository. Env: JUPYTER_MLOPS_DATA_DIR.",
    ).tag(config=True)

    artifact_root = Unicode(
        "",
        help="Where artifacts are stored: a directory, or an fsspec URL that several "
        "machines share (s3://bucket/prefix with s3fs installed, gs://, abfs://, "
        "file:///shared/dir). Empty: <data_dir>/artifacts. Env: JUPYTER_MLOPS_ARTIFACT_ROOT.",
    ).tag(config=True)

    heartbeat_interval = Float(
        2.0, help="Seconds between runner heartbeats written to the store."
    ).tag(config=True)

    lost_after = Float(
        30.0,
        help="A running run whose heartbeat is older than this many seconds, and whose "
        "runner is not alive, is marked lost.",
    ).tag(config=True)

    backend = Unicode(
        "local",
        help="Where runs execute: 'local' (detached processes on this machine, queued by "
        "max_concurrent_runs and GPU slots) or 'dask' (workers of a Dask cluster, see "
        "dask_scheduler_address). Env: JUPYTER_MLOPS_BACKEND.",
    ).tag(config=True)

    dask_scheduler_address = Unicode(
        "",
        help="Address of the Dask scheduler for backend 'dask' (e.g. tcp://10.0.0.5:8786). "
        "Empty: a LocalCluster is started in this process (it ends with it). "
        "Env: JUPYTER_MLOPS_DASK_SCHEDULER.",
    ).tag(config=True)

    max_concurrent_runs = Int(
        help="Runs of the local backend executing at once on this machine; later ones wait "
        "in 'queued', first come first served. Default: the number of CPU cores. "
        "Env: JUPYTER_MLOPS_MAX_CONCURRENT_RUNS.",
    ).tag(config=True)

    gpu_inventory = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="A fake GPU list (names) instead of the GPUs found by NVML/nvidia-smi, for "
        "tests and CI. Env: JUPYTER_MLOPS_FAKE_GPUS='A100,A100'.",
    ).tag(config=True)

    system_metrics_interval = Float(
        5.0,
        help="Seconds between samples of a run's CPU, memory and GPU use, stored as "
        "system/* metrics. 0 turns sampling off.",
    ).tag(config=True)

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return str(default_data_dir())

    @default("db_url")
    def _default_db_url(self) -> str:
        return os.environ.get(ENV_DB_URL, "")

    @default("backend")
    def _default_backend(self) -> str:
        return os.environ.get(ENV_BACKEND) or "local"

    @default("dask_scheduler_address")
    def _default_dask_scheduler_address(self) -> str:
        return os.environ.get(ENV_DASK_SCHEDULER, "")

    @default("max_concurrent_runs")
    def _default_max_concurrent_runs(self) -> int:
        return max(1, _env_int(ENV_MAX_CONCURRENT, default_max_concurrent_runs()))

    @default("gpu_inventory")
    def _default_gpu_inventory(self) -> list[str] | None:
        names = parse_gpu_inventory(os.environ.get(ENV_FAKE_GPUS))
        return None if names is None else list(names)

    @validate("backend")
    def _validate_backend(self, proposal: dict) -> str:
        value = str(proposal["value"]).strip().lower() or "local"
        if value not in BACKENDS:
            raise ValueError(f"unknown backend {value!r}; choose one of {', '.join(BACKENDS)}")
        return value

    @validate("max_concurrent_runs")
    def _validate_max_concurrent_runs(self, proposal: dict) -> int:
        if int(proposal["value"]) < 1:
            raise ValueError("max_concurrent_runs must be at least 1")
        return int(proposal["value"])

    def settings(self) -> Settings:
        inventory = self.gpu_inventory
        return Settings(
            data_dir=Path(self.data_dir).expanduser().resolve(),
            db_url=self.db_url or os.environ.get(ENV_DB_URL, ""),
            artifact_root=self.artifact_root or os.environ.get(ENV_ARTIFACT_ROOT, ""),
            heartbeat_interval=self.heartbeat_interval,
            lost_after=self.lost_after,
            backend=self.backend,
            dask_scheduler_address=self.dask_scheduler_address,
            max_concurrent_runs=self.max_concurrent_runs,
            gpu_inventory=None if inventory is None else tuple(inventory),
            system_metrics_interval=self.system_metrics_interval,
        )
