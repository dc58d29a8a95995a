"""Shared fixtures: a real PostgreSQL server, per-test stores, git repos, settings.

PostgreSQL is started once per session from the Debian binaries (as the ``postgres``
user when running as root, since ``pg_ctl`` refuses root). Where the binaries are
missing the PostgreSQL half of the suite is skipped, except under CI, where that is
an error: CI installs PostgreSQL and must test it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.config import Settings

HERE = Path(__file__).parent
NOTEBOOKS = HERE / "notebooks"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


pytest_plugins = ["pytest_jupyter.jupyter_server"]


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(cmd: str) -> list[str]:
    if os.geteuid() == 0:
        return ["su", "postgres", "-c", cmd]
    return ["bash", "-c", cmd]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server; yields a URL of its ``postgres`` database."""
    external = os.environ.get("JUPYTER_MLOPS_TEST_PG_URL")
    if external:
        yield external
        return
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found; .ci/run must install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    port = int(os.environ.get("JUPYTER_MLOPS_TEST_PG_PORT") or _free_port())
    datadir = Path(tempfile.mkdtemp(prefix="mlops-pg-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    datadir.chmod(0o700)
    subprocess.run(
        _as_postgres(
            f"{bindir}/initdb -D {datadir} -U postgres --auth=trust -E UTF8 "
            "--locale=C.UTF-8 >/dev/null"
        ),
        check=True,
    )
    subprocess.run(
        _as_postgres(
            f"{bindir}/pg_ctl -D {datadir} -l {datadir}/server.log "
            f"-o '-c listen_addresses=127.0.0.1 -p {port} -k {datadir} -c fsync=off "
            f"-c max_connections=300' -w start >/dev/null"
        ),
        check=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres(f"{bindir}/pg_ctl -D {datadir} -m immediate stop >/dev/null"),
            check=False,
        )
        shutil.rmtree(datadir, ignore_errors=True)


def fresh_pg_database(server_url: str) -> str:
    """A new empty database on the test server, so tests never see each other's rows."""
    from sqlalchemy import create_engine, text

    name = f"mlops_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


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


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    """The environment of a CLI process: this data dir, no other jupyter-mlops settings."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    e["JUPYTER_MLOPS_DATA_DIR"] = str(data_dir)
    return e
