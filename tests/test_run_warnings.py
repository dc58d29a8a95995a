"""Partial results are never silent: an artifact a run could not write is a warning on the
run, in the REST run detail and in ``jupyter mlops show``, and the run keeps its status.

The faults are real: a run directory on a small tmpfs that the notebook fills (the HTML
rendering then fails with ENOSPC; needs root to mount, skipped otherwise), and an artifact
root that cannot be a directory (a regular file stands in its path), which fails every
artifact, the one the notebook logs with the tracking API included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.store import RunStore

from .conftest import NOTEBOOKS, init_repo
from .conftest import mlops as mlops_cli
from .test_rest import (  # noqa: F401 (fixtures)
    TERMINAL,
    api,
    mlops_data,
    wait_for_status,
)
from .test_runs import wait_for

TMPFS_BYTES = 4 * 1024 * 1024


async def wait_for_warning(api: Any, run_id: str, timeout: float = 60) -> Any:  # noqa: F811
    """The run detail once it has a warning (the runner renders the HTML, and warns when
    it cannot, after the terminal status)."""
    deadline = time.monotonic() + timeout
    while True:
        detail = (await api("GET", f"/runs/{run_id}")).data
        if detail["warnings"]:
            return detail
        assert time.monotonic() < deadline, "no warning recorded"
        await asyncio.sleep(0.2)


@contextlib.contextmanager
def small_filesystem(where: Path) -> Iterator[Path]:
    """A tmpfs of :data:`TMPFS_BYTES` mounted on ``where`` (skips the test where this
    process may not mount)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small filesystem needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def jp_server_config(
    jp_root_dir: Path,
    mlops_data: Path,  # noqa: F811
) -> Iterator[dict[str, Any]]:
    """The extension on, the fixture notebooks in a git repository as the root, and the
    run directories on a small filesystem of their own."""
    shutil.copytree(NOTEBOOKS, jp_root_dir / "notebooks")
    init_repo(jp_root_dir)
    with small_filesystem(mlops_data / "runs"):
        yield {
            "ServerApp": {"jpserver_extensions": {"jupyter_mlops": True}},
            "MLOps": {"heartbeat_interval": 0.5, "lost_after": 10.0},
        }


async def test_full_disk_html_missing_is_a_warning_in_rest_and_show(
    api: Any,  # noqa: F811
    mlops: Any,
    mlops_data: Path,  # noqa: F811
) -> None:
    resp = await api("POST", "/runs", body={"notebook": "notebooks/fills_disk.ipynb"}, expect=201)
    detail = await wait_for_status(api, resp.data["id"], TERMINAL)
    assert detail["status"] == "succeeded", detail["status_reason"]
    detail = await wait_for_warning(api, resp.data["id"])  # the HTML comes after the status
    names = {a["name"] for a in detail["artifacts"]}
    assert "output.ipynb" in names and "runner.log" in names
    assert "output.html" not in names
    assert len(detail["warnings"]) == 1, detail["warnings"]
    warning = detail["warnings"][0]
    assert warning.startswith("the HTML rendering (output.html) could not be made: OSError")
    assert "No space left on device" in warning
    # only warning events are warnings: the status history and cells are as before
    assert [e["status"] for e in detail["status_history"]] == [
        "queued",
        "starting",
        "running",
        "succeeded",
    ]

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env["JUPYTER_MLOPS_DATA_DIR"] = str(mlops_data)
    shown = mlops_cli("show", detail["id"], env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "warnings" in lines
    assert f"  ! {warning}" in lines


def test_unusable_artifact_root_warns_of_every_artifact(
    data_dir: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = data_dir / "not-a-directory"
    blocker.write_text("a file where the artifact root's parent should be\n")
    settings = Settings(
        data_dir=data_dir,
        heartbeat_interval=0.5,
        lost_after=5.0,
        artifact_root=str(blocker / "artifacts"),
    )
    store = RunStore.from_settings(settings)
    try:
        service = JobService(settings, store)
        sub = service.submit(
            RunSpec(notebook=str(project / "notebooks/logs_artifact_rescued.ipynb"))
        )
        run = wait_for(service, sub)
        assert run.status == "succeeded", run.status_reason
        assert store.artifacts(run.id) == []
        warnings = store.warnings(run.id)
        assert [w.split(" could not")[0] for w in warnings] == [
            "the logged file 'weights.txt'",
            "the executed notebook (output.ipynb)",
            "the full cell output (logs/output.txt)",
            "the kernel log (kernel.log)",
            "the runner log (runner.log)",
            "the HTML rendering (output.html)",  # rendered after the terminal status
        ]
        assert all("NotADirectoryError" in w for w in warnings), warnings
    finally:
        store.close()
