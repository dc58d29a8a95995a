"""A throwaway PostgreSQL server from the Debian binaries, for the tests and benchmarks.

Started as the ``postgres`` user when running as root (``pg_ctl`` refuses root), on a
free port, with its socket and data in a temporary directory, ``fsync`` off; stopped
and deleted on exit.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_bin() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl`` (newest Debian version first)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(cmd: str) -> list[str]:
    if os.geteuid() == 0:
        return ["su", "postgres", "-c", cmd]
    return ["bash", "-c", cmd]


@contextlib.contextmanager
def throwaway_server(port: int | None = None) -> Iterator[str]:
    """Start a server; yields the URL of its ``postgres`` database."""
    bindir = pg_bin()
    if bindir is None:
        raise PostgresMissing("PostgreSQL is not installed (apt-get install postgresql)")
    port = port or free_port()
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
    """A new empty database on the server, so users of it never see each other's rows."""
    from sqlalchemy import create_engine, text

    name = f"mlops_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
