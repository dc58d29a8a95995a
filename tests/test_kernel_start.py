"""A kernel that dies while it starts fails its run at once, in its own words, after a
bounded number of fresh starts; one that fails only its first start still runs the notebook.

Real runners and real kernel processes: the kernelspecs (in a temporary ``JUPYTER_PATH``)
run the scripts in ``tests/fixtures/kernels``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.kernel_start import KERNEL_LOG, START_ATTEMPTS
from jupyter_mlops.store import RunStore

from .test_kernels import add_kernel
from .test_runs import wait_for

KERNELS = Path(__file__).parent / "fixtures" / "kernels"


@pytest.fixture
def service(settings: Settings):
    store = RunStore.from_settings(settings)
    yield JobService(settings, store)
    store.close()


def test_kernel_that_exits_at_once_fails_the_run_with_its_stderr(
    service: JobService, project: Path, jupyter_path: Path
) -> None:
    add_kernel(
        jupyter_path,
        "exits-at-once",
        [sys.executable, str(KERNELS / "exits_at_once.py"), "-f", "{connection_file}"],
    )
    sub = service.submit(
        RunSpec(notebook=str(project / "notebooks/trivial.ipynb"), kernel="exits-at-once")
    )
    run = wait_for(service, sub)
    assert run.status == "failed", run.status_reason
    reason = run.status_reason or ""
    assert reason.startswith("kernel start failed: the kernel exited with code 3"), reason
    assert f"({START_ATTEMPTS} attempts)" in reason
    assert "Address already in use" in reason
    assert run.error_ename == "KernelStartError"
    assert "fixture kernel: zmq.error.ZMQError: Address already in use" in (run.error_evalue or "")
    assert "Kernel didn't respond" not in reason
    # every start but the last was retried, each recorded as a warning on the run
    retried = [w for w in service.store.warnings(run.id) if w.startswith("kernel start attempt")]
    assert [w.split(" failed")[0] for w in retried] == [
        f"kernel start attempt {i}" for i in range(1, START_ATTEMPTS)
    ]
    assert all("Address already in use" in w for w in retried)
    statuses = [e.status for e in service.store.events(run.id, kind="status")]
    assert statuses == ["queued", "starting", "failed"]  # never "running"
    # the kernel's whole stderr is kept, one section per attempt
    assert service.store.get_artifact(run.id, KERNEL_LOG) is not None
    log = (service.settings.runs_dir / run.id / KERNEL_LOG).read_text()
    assert log.count("--- kernel start, attempt") == START_ATTEMPTS
    assert log.count("Address already in use") == START_ATTEMPTS


def test_kernel_that_fails_its_first_start_runs_after_a_retry(
    service: JobService, project: Path, jupyter_path: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "first-start-failed"
    add_kernel(
        jupyter_path,
        "fails-first-time",
        [
            sys.executable,
            str(KERNELS / "fails_first_time.py"),
            str(marker),
            "-f",
            "{connection_file}",
        ],
    )
    sub = service.submit(
        RunSpec(notebook=str(project / "notebooks/trivial.ipynb"), kernel="fails-first-time")
    )
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    assert marker.exists()
    warnings = service.store.warnings(run.id)
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("kernel start attempt 1 failed, started again:")
    assert "Address already in use (first start)" in warnings[0]
    assert service.store.get_artifact(run.id, "output.ipynb") is not None
    log = (service.settings.runs_dir / run.id / KERNEL_LOG).read_text()
    assert log.count("--- kernel start, attempt") == 2
