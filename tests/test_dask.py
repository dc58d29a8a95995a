"""The Dask backend on a real ``LocalCluster`` (2 worker processes) with a real PostgreSQL
store: runs execute on the workers through the same runner as locally; cancel, a dead
worker and GPU requests behave as they do on a cluster."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jupyter_mlops.backends.dask import DaskBackend, task_key
from jupyter_mlops.config import Settings
from jupyter_mlops.gpus import GPURequestError
from jupyter_mlops.jobs import JobService, RunSpec, Submission
from jupyter_mlops.processes import hostname
from jupyter_mlops.store import Run, RunStore
from jupyter_mlops.store.lost import lost_reason
from jupyter_mlops.store.types import utcnow

from .conftest import fresh_pg_database, init_repo
from .test_runs import _dead, all_output_text, executed_notebook, wait_for, wait_until

distributed = pytest.importorskip("distributed")


@pytest.fixture
def cluster() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def dask_settings(settings: Settings, postgres_server: str, cluster: object) -> Settings:
    """PostgreSQL store and an fsspec artifact root, as a cluster of machines shares."""
    shared = settings.data_dir.parent / "shared-artifacts"
    return dataclasses.replace(
        settings,
        db_url=fresh_pg_database(postgres_server),
        artifact_root=shared.as_uri(),
        backend="dask",
        dask_scheduler_address=cluster.scheduler_address,  # type: ignore[attr-defined]
        system_metrics_interval=0.5,
    )


@pytest.fixture
def service_settings(dask_settings: Settings) -> Settings:
    """The ``store`` and ``service`` fixtures (conftest.py) use the cluster's settings."""
    return dask_settings


@pytest.fixture
def service(service: JobService) -> JobService:
    """conftest.py's ``service``, checked to launch on Dask."""
    assert isinstance(service.backend, DaskBackend)
    return service


def gated(service: JobService, project: Path, gate: Path) -> Submission:
    return service.submit(
        RunSpec(notebook=str(project / "notebooks/gated.ipynb"), parameters={"gate": str(gate)})
    )


def wait_status(store: RunStore, run_id: str, wanted: str, timeout: float = 90) -> Run:
    wait_until(lambda: store.require_run(run_id).status == wanted, timeout=timeout)
    return store.require_run(run_id)


@pytest.mark.postgres
def test_runs_execute_on_workers_with_the_shared_store(
    service: JobService, store: RunStore, project: Path, cluster: object
) -> None:
    workers = set(cluster.scheduler_info["workers"])  # type: ignore[attr-defined]
    subs = [
        service.submit(
            RunSpec(
                notebook=str(project / "notebooks/params.ipynb"), raw_parameters={"epochs": "9"}
            )
        ),
        service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb"))),
    ]
    for sub in subs:
        assert sub.run.backend == "dask"
        assert sub.run.runner_host == f"dask:{service.settings.dask_scheduler_address}"
    runs = [wait_for(service, sub) for sub in subs]
    assert [r.status for r in runs] == ["succeeded", "succeeded"], [r.status_reason for r in runs]
    first = runs[0]
    assert first.runner_host == hostname() and first.cells_done == first.cells_total
    assert "'epochs': 9" in all_output_text(executed_notebook(service, first.id))
    html = store.get_artifact(first.id, "output.html")
    assert html is not None  # stored by the worker in the shared (fsspec) root
    shared = Path(service.settings.artifact_root.removeprefix("file://"))
    assert (shared / html.sha256[:2] / html.sha256[2:]).stat().st_size == html.size
    env = store.environment(first.id)
    assert env is not None and env["backend"] == "dask" and env["packages"]
    assert "system/memory_rss_mb" in store.metric_keys(first.id)
    statuses = [e.status for e in store.events(first.id, kind="status")]
    assert statuses == ["queued", "starting", "running", "succeeded"]
    assert len(workers) == 2


@pytest.mark.postgres
def test_a_worker_that_cannot_read_the_repository_runs_the_code_archive(
    service: JobService, store: RunStore, project: Path, tmp_path: Path
) -> None:
    """A worker on another machine: at the repository's path it has another repository
    (without the run's commit); a missing directory takes the same way."""
    gates = [tmp_path / f"gate-{i}" for i in range(2)]
    busy = [gated(service, project, gate) for gate in gates]
    for sub in busy:
        wait_status(store, sub.run.id, "running")
    spec = RunSpec(notebook=str(project / "notebooks/params.ipynb"), raw_parameters={"epochs": "5"})
    sub = service.submit(spec)  # both workers busy: it waits in Dask's queue
    assert store.get_artifact(sub.run.id, "snapshot.tar") is not None
    project.rename(tmp_path / "elsewhere")  # gone from where the run's snapshot points
    (project / "notebooks").mkdir(parents=True)
    (project / "notebooks" / "params.ipynb").write_text("not the notebook that was submitted")
    init_repo(project)
    for gate in gates:
        gate.touch()
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    assert "'epochs': 5" in all_output_text(executed_notebook(service, run.id))
    log = (service.settings.runs_dir / run.id / "runner.log").read_text()
    assert "code from its archive" in log


@pytest.mark.postgres
def test_cancel_a_running_and_a_queued_dask_run(
    service: JobService, store: RunStore, project: Path, tmp_path: Path
) -> None:
    gates = [tmp_path / f"gate-{i}" for i in range(3)]
    running = [gated(service, project, gates[i]) for i in range(2)]
    for sub in running:
        wait_status(store, sub.run.id, "running")
    waiting = gated(service, project, gates[2])  # both workers busy: queued in Dask
    time.sleep(1.0)
    assert store.require_run(waiting.run.id).status == "queued"
    assert store.list_runs(status=["queued"]).runs[0].queue_position == 1  # type: ignore[attr-defined]
    assert service.cancel(waiting.run.id).status == "cancelled"
    assert service.cancel(running[0].run.id).status in ("running", "cancelled")
    assert wait_status(store, running[0].run.id, "cancelled").status_reason == (
        "cancelled by request"
    )
    gates[1].touch()
    assert wait_for(service, running[1]).status == "succeeded"
    time.sleep(1.0)  # a worker is free now: the cancelled run must not start
    cancelled = store.require_run(waiting.run.id)
    assert cancelled.status == "cancelled" and cancelled.started_at is None
    client = service.backend.client  # type: ignore[attr-defined]
    assert task_key(waiting.run.id) not in client.run_on_scheduler(
        lambda dask_scheduler: list(dask_scheduler.tasks)
    )


@pytest.mark.postgres
def test_a_killed_worker_loses_only_its_run(
    service: JobService, store: RunStore, project: Path, tmp_path: Path
) -> None:
    doomed_gate, other_gate = tmp_path / "doomed", tmp_path / "other"
    doomed = gated(service, project, doomed_gate)
    other = gated(service, project, other_gate)
    doomed_run = wait_status(store, doomed.run.id, "running")
    wait_status(store, other.run.id, "running")
    wait_until(lambda: store.require_run(doomed.run.id).kernel_pid is not None)
    assert doomed_run.runner_pid is not None
    worker_pid = psutil.Process(doomed_run.runner_pid).ppid()
    assert worker_pid != os.getpid()
    kernel_pid = store.require_run(doomed.run.id).kernel_pid
    os.kill(worker_pid, signal.SIGKILL)

    lost = wait_status(store, doomed.run.id, "lost", timeout=30)
    assert f"Dask worker process {worker_pid}" in (lost.status_reason or "")
    assert kernel_pid is not None
    wait_until(lambda: _dead(kernel_pid), timeout=10)  # nothing of the run lives on
    assert store.get_artifact(doomed.run.id, "runner.log") is not None

    assert store.require_run(other.run.id).status == "running"  # untouched
    other_gate.touch()
    assert wait_for(service, other).status == "succeeded"
    # Dask runs the dead worker's task again: that runner finds the run ended, changes nothing
    runner_log = Path(str(lost.run_dir)) / "runner.log"
    wait_until(lambda: "; nothing to do" in runner_log.read_text(), timeout=120)
    assert store.require_run(doomed.run.id).status == "lost"
    assert service.reconcile() == []
    assert store.count_runs() == 2


@pytest.mark.postgres
def test_gpu_requests_need_a_worker_with_gpu_resources(
    service: JobService, store: RunStore, project: Path
) -> None:
    with pytest.raises(GPURequestError, match="no worker of the Dask cluster offers"):
        service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb"), gpus=1))
    assert store.count_runs() == 0


def test_an_owned_local_cluster(settings: Settings, project: Path) -> None:
    """No scheduler address: the backend starts (and closes) a LocalCluster of its own."""
    own = dataclasses.replace(settings, backend="dask", max_concurrent_runs=1)
    store = RunStore.from_settings(own)
    service = JobService(own, store)
    try:
        sub = service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb")))
        assert sub.run.runner_host == f"dask-local:{hostname()}:{os.getpid()}"
        assert wait_for(service, sub).status == "succeeded"
    finally:
        service.close()
        store.close()


def test_runs_queued_in_a_vanished_local_cluster_are_lost() -> None:
    dead = psutil.Popen(["true"])
    dead.wait()
    run = Run(
        id="r1",
        created_at=utcnow(),
        status="queued",
        runner_host=f"dask-local:{hostname()}:{dead.pid}",
    )
    reason = lost_reason(run, here=hostname(), now=utcnow(), lost_after=30)
    assert reason is not None and "LocalCluster" in reason
    run.runner_host = f"dask-local:{hostname()}:{os.getpid()}"
    assert lost_reason(run, here=hostname(), now=utcnow(), lost_after=30) is None
    run.runner_host = "dask:tcp://10.0.0.1:8786"  # the scheduler's business, not heartbeats
    assert lost_reason(run, here=hostname(), now=utcnow(), lost_after=0) is None
