"""Ask another Python interpreter (a kernel's) a question: run a snippet, read its answer.

The snippet prints one line ``<marker><json>``; anything else it or its imports print is
ignored. It runs in an empty temporary directory, so files in the caller's directory
cannot shadow standard modules inside the probe.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from typing import Any


def run_python_probe(
    python: str,
    code: str,
    marker: str,
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON object the snippet printed after ``marker``.

    Raises ``RuntimeError`` (with the end of the interpreter's output) when it printed
    none, and ``OSError`` / ``subprocess.SubprocessError`` when it could not run or
    overran ``timeout``. ``env``: the interpreter's environment (default: inherited).
    """
    with tempfile.TemporaryDirectory(prefix="mlops-probe-") as tmp:
        proc = subprocess.run(
            [python, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp,
            env=dict(env) if env is not None else None,
            check=False,
        )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(marker):
            try:
                return dict(json.loads(line[len(marker) :]))
            except ValueError:
                break
    tail = (proc.stderr or proc.stdout).strip()[-500:]
    raise RuntimeError(f"probe with {python} exited {proc.returncode}: {tail}")
