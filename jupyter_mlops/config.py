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

from traitlets import Float, Unicode, default
from traitlets.config import Configurable

ENV_DB_URL = "JUPYTER_MLOPS_DB_URL"
ENV_DATA_DIR = "JUPYTER_MLOPS_DATA_DIR"
ENV_ARTIFACT_ROOT = "JUPYTER_MLOPS_ARTIFACT_ROOT"
ENV_SEED = "JUPYTER_MLOPS_SEED"
ENV_RUN_ID = "JUPYTER_MLOPS_RUN_ID"


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
        env = {ENV_DATA_DIR: str(self.data_dir), ENV_DB_URL: self.resolved_db_url}
        if self.artifact_root:
            env[ENV_ARTIFACT_ROOT] = self.artifact_root
        return env

    @classmethod
    def from_env(cls) -> Settings:
        """Settings of a runner (or any process started with :meth:`runner_env`)."""
        return cls(
            data_dir=default_data_dir(),
            db_url=os.environ.get(ENV_DB_URL, ""),
            artifact_root=os.environ.get(ENV_ARTIFACT_ROOT, ""),
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
        "", help="Where artifacts are stored. Empty: <data_dir>/artifacts."
    ).tag(config=True)

    heartbeat_interval = Float(
        2.0, help="Seconds between runner heartbeats written to the store."
    ).tag(config=True)

    lost_after = Float(
        30.0,
        help="A running run whose heartbeat is older than this many seconds, and whose "
        "runner is not alive, is marked lost.",
    ).tag(config=True)

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return str(default_data_dir())

    @default("db_url")
    def _default_db_url(self) -> str:
        return os.environ.get(ENV_DB_URL, "")

    def settings(self) -> Settings:
        return Settings(
            data_dir=Path(self.data_dir).expanduser().resolve(),
            db_url=self.db_url or os.environ.get(ENV_DB_URL, ""),
            artifact_root=self.artifact_root or os.environ.get(ENV_ARTIFACT_ROOT, ""),
            heartbeat_interval=self.heartbeat_interval,
            lost_after=self.lost_after,
        )
