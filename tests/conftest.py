"""Shared fixtures: a real PostgreSQL server, per-test stores, git repos, settings.

PostgreSQL is started once per session from the Debian binaries (as the ``postgres``
user when running as root, since ``pg_ctl`` refuses root). Where the binaries are
missing the PostgreSQL half of the suite is skipped, except under CI, where that is
an error: CI installs PostgreSQL and must test it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.processes import kill_tree
from jupyter_mlops.store import Run, RunStore

from .postgres import fresh_pg_database, pg_bin, throwaway_server

__all__ = ["fresh_pg_database"]  # tests take it from here

HERE = Path(__file__).parent
NOTEBOOKS = HERE / "notebooks"


pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server; yields a URL of its ``postgres`` database."""
    external = os.environ.get("JUPYTER_MLOPS_TEST_PG_URL")
    if external:
        yield external
        return
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found; .ci/run must install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    port = int(os.environ.get("JUPYTER_MLOPS_TEST_PG_PORT") or 0) or None
    with throwaway_server(port) as url:
        yield url


def stop_active_runs(store: RunStore) -> None:
    """Kill the kernels and runners a test's runs left running."""
    for run in store.active_runs():
        kill_tree(run.kernel_pid)
        kill_tree(run.runner_pid)


@pytest.fixture(name="mlops")
def mlops_state(jp_serverapp: Any) -> Iterator[Any]:
    """The extension's state in a test server (``jp_serverapp``, configured by the test
    module's ``jp_server_config``); afterwards no runner of the test is left running."""
    state = jp_serverapp.web_app.settings["mlops"]
    yield state
    stop_active_runs(state.store)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("postgres_server")
    return fresh_pg_database(server)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "mlops-data"
    d.mkdir()
    return d


@pytest.fixture
def settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """SQLite settings in a temp data dir; also exported for CLI subprocesses."""
    monkeypatch.setenv("JUPYTER_MLOPS_DATA_DIR", str(data_dir))
    monkeypatch.delenv("JUPYTER_MLOPS_DB_URL", raising=False)
    return Settings(data_dir=data_dir, heartbeat_interval=0.5, lost_after=5.0)


def make_run(run_id: str, **overrides: object) -> Run:
    """A run row with placeholder provenance, for tests of the store itself."""
    fields: dict[str, object] = dict(
        id=run_id,
        notebook_path="nb/train.ipynb",
        notebook_abspath="/tmp/nb/train.ipynb",
        kernel_name="python3",
        seed=7,
        commit_sha="a" * 40,
        snapshot_ref=f"refs/mlops/runs/{run_id}",
        git_dir="/tmp/repo/.git",
        worktree="/tmp/repo",
        notebook_relpath="nb/train.ipynb",
        cells_total=3,
    )
    fields.update(overrides)
    return Run(**fields)


def use_data_dir(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``path``, made, as the extension's data directory on SQLite: exported, so that a
    server started by the test and the runners it starts use it too."""
    path.mkdir()
    monkeypatch.setenv("JUPYTER_MLOPS_DATA_DIR", str(path))
    monkeypatch.delenv("JUPYTER_MLOPS_DB_URL", raising=False)
    return path


def extension_server_config(root: Path) -> dict[str, Any]:
    """Make the server root a git repository of what the test put there; the server config
    that turns the extension on."""
    init_repo(root)
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_mlops": True}},
        "MLOps": {"heartbeat_interval": 0.5, "lost_after": 10.0},
    }


def params_schedule_body(label: str) -> dict[str, Any]:
    """A REST request for a daily schedule of ``notebooks/params.ipynb`` (03:00 in Berlin,
    overlaps skipped, missed slots caught up once), ``label`` as its ``name`` parameter
    and its tag."""
    return {
        "notebook": "notebooks/params.ipynb",
        "cron": "0 3 * * *",
        "timezone": "Europe/Berlin",
        "parameters": {"epochs": 2, "name": label},
        "tags": [label],
        "concurrency": "skip",
        "catchup": "once",
    }


@pytest.fixture
def service_settings(settings: Settings) -> Settings:
    """The settings of the ``store`` and ``service`` fixtures; a test module overrides this
    for another store, backend or limits."""
    return settings


@pytest.fixture
def store(service_settings: Settings) -> Iterator[RunStore]:
    """The run store of a test; the processes of runs it left active die with it."""
    s = RunStore.from_settings(service_settings)
    yield s
    for run in s.active_runs():
        kill_tree(run.kernel_pid)
        kill_tree(run.runner_pid)
    s.close()


@pytest.fixture
def service(service_settings: Settings, store: RunStore) -> Iterator[JobService]:
    jobs = JobService(service_settings, store)
    yield jobs
    jobs.close()  # what the backend holds (a Dask client); nothing for the local one


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def init_repo(root: Path) -> None:
    """Make ``root`` a git repository on ``main`` with one commit of everything in it."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A real git repository holding the fixture notebooks, one commit on ``main``."""
    repo = tmp_path / "project"
    shutil.copytree(NOTEBOOKS, repo / "notebooks")
    (repo / "helpers.py").write_text("ANSWER = 42\n")
    (repo / ".gitignore").write_text("*.tmp\n")
    init_repo(repo)
    return repo


def mlops(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``jupyter mlops ARGS`` as a user would type it: a new process, text output."""
    return subprocess.run(
        ["jupyter", "mlops", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def mlops_line(
    line: str, *, env: dict[str, str], cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """:func:`mlops` with the arguments written as one shell line (split by :mod:`shlex`),
    so a test reads like the command a user types."""
    return mlops(*shlex.split(line), env=env, cwd=cwd, timeout=timeout)


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    """The environment of a CLI process: this data dir, no other jupyter-mlops settings."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    e["JUPYTER_MLOPS_DATA_DIR"] = str(data_dir)
    return e


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_store_env(
    request: pytest.FixtureRequest, env: dict[str, str], data_dir: Path
) -> dict[str, str]:
    """:func:`env` on a store several processes share (a SQLite file, a new PostgreSQL
    database), migrated before any of them starts."""
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'store.db'}"
    else:
        url = fresh_pg_database(request.getfixturevalue("postgres_server"))
    RunStore(url).close()
    return {**env, "JUPYTER_MLOPS_DB_URL": url}


@pytest.fixture
def jupyter_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``JUPYTER_PATH`` for extra kernelspecs, seen by this process and the runners it
    starts."""
    root = tmp_path / "jupyter"
    root.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    return root
