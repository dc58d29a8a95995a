"""What the benchmarks share: their command line, the git repository a job runs in, and a
throwaway PostgreSQL server.

Every benchmark runs as a script (``python bench/NAME.py``), so this module is imported
from beside it as ``common``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def option_parser(doc: str | None, **counts: int) -> argparse.ArgumentParser:
    """A parser described by the first line of the benchmark's docstring, with a
    ``--NAME N`` option (underscores written as dashes) for each count and its default."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    for name, default in counts.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return parser


def commit_all(repo: Path) -> None:
    """Make ``repo`` a git repository on ``main`` with one commit of everything in it: a job
    snapshots the repository its notebook is in."""
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "bench"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A fresh database on ``JUPYTER_MLOPS_TEST_PG_URL``, else on a throwaway PostgreSQL
    server (the test suite's); yields its URL. The caller puts the repository on
    ``sys.path`` (for ``tests.postgres``)."""
    from tests.postgres import PostgresMissing, fresh_pg_database, throwaway_server

    external = os.environ.get("JUPYTER_MLOPS_TEST_PG_URL")
    if external:
        yield fresh_pg_database(external)
        return
    try:
        with throwaway_server() as server:
            yield fresh_pg_database(server)
    except PostgresMissing as err:
        raise SystemExit(str(err)) from None


def synthetic_params(run_id: str, i: int, rng: random.Random) -> list[dict[str, Any]]:
    """The ``run_params`` rows of synthetic run number ``i``: a float, an int and a string,
    spread as a real sweep's would be (what the run-table benchmarks filter and sort on)."""
    values = (
        ("lr", rng.choice([0.1, 0.01, 0.001]), "float"),
        ("epochs", rng.randrange(1, 50), "int"),
        ("name", f"exp-{i % 100}", "str"),
    )
    return [
        {"run_id": run_id, "name": name, "value_json": json.dumps(value), "type_name": type_name}
        for name, value, type_name in values
    ]
