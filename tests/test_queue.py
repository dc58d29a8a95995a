"""The local queue: run slots and GPU slots, with real runner processes and a fake GPU
inventory (CI has no GPU). ``gated.ipynb`` runs until the test creates its gate file, so
a test decides when a slot frees up."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_mlops.backends.base import Backend
from jupyter_mlops.config import Settings
from jupyter_mlops.gpus import GPURequestError
from jupyter_mlops.jobs import JobService, RunSpec, Submission
from jupyter_mlops.serialize import run_summary
from jupyter_mlops.store import Run, RunStatus, RunStore
from jupyter_mlops.store.types import utcnow

from .conftest import make_run
from .test_runs import all_output_text, executed_notebook, wait_for, wait_until

FAKE = ("FakeGPU-A", "FakeGPU-B")


@pytest.fixture
def queue_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("JUPYTER_MLOPS_FAKE_GPUS", raising=False)
    return dataclasses.replace(
        settings, max_concurrent_runs=2, gpu_inventory=FAKE, system_metrics_interval=0
    )


@pytest.fixture
def service_settings(queue_settings: Settings) -> Settings:
    """The ``store`` and ``service`` fixtures (conftest.py) use the queue's limits."""
    return queue_settings


def service_with(settings: Settings, store: RunStore, **changes: object) -> JobService:
    return JobService(dataclasses.replace(settings, **changes), store)


class Gates:
    """Gated runs: each waits in its last cell until its gate file exists."""

    def __init__(self, service: JobService, project: Path, tmp_path: Path) -> None:
        self.service = service
        self.notebook = str(project / "notebooks/gated.ipynb")
        self.dir = tmp_path / "gates"
        self.dir.mkdir()
        self.count = 0

    def submit(self, gpus: int = 0, service: JobService | None = None) -> tuple[Submission, Path]:
        self.count += 1
        gate = self.dir / f"gate-{self.count}"
        sub = (service or self.service).submit(
            RunSpec(notebook=self.notebook, parameters={"gate": str(gate)}, gpus=gpus)
        )
        return sub, gate


@pytest.fixture
def gates(service: JobService, project: Path, tmp_path: Path) -> Gates:
    return Gates(service, project, tmp_path)


def status(store: RunStore, sub: Submission) -> str:
    return store.require_run(sub.run.id).status


def wait_status(store: RunStore, sub: Submission, wanted: str, timeout: float = 60) -> Run:
    """Wait for ``wanted``; on a timeout, say where the run stood and how it got there."""
    try:
        wait_until(lambda: status(store, sub) == wanted, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"not {wanted!r}: {where_it_stands(store, sub.run.id)}") from None
    return store.require_run(sub.run.id)


def where_it_stands(store: RunStore, run_id: str) -> str:
    """A failing test's account of a run: its status, how it got there, its runner's log."""
    run = store.require_run(run_id)
    events = [(e.status, e.message) for e in store.events(run.id, kind="status")]
    logs = list(Path("/tmp").glob(f"pytest-of-*/pytest-*/*/mlops-data/runs/{run.id}/runner.log"))
    tail = logs[0].read_text(errors="replace")[-3000:] if logs else "(no runner.log found)"
    return (
        f"run {run.id} is {run.status!r} ({run.status_reason}), runner {run.runner_pid}; "
        f"events {events}\nits runner.log ends:\n{tail}"
    )


def kill_slot_holder(store: RunStore, held: Run, waiting: Submission) -> None:
    """SIGKILL the runner of ``held`` (running in the only slot): ``waiting`` must get the
    slot and ``held`` end lost, its runner said to have died."""
    assert held.runner_pid is not None
    os.kill(held.runner_pid, signal.SIGKILL)
    wait_status(store, waiting, "running", timeout=30)
    lost = store.require_run(held.id)
    assert lost.status == "lost" and "died" in (lost.status_reason or "")


def stays(predicate: Callable[[], bool], seconds: float) -> bool:
    """``predicate`` holds for the whole period (the queue really holds a run back)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not predicate():
            return False
        time.sleep(0.1)
    return True


def position(store: RunStore, sub: Submission) -> int | None:
    page = store.list_runs(status=["queued"], limit=100)
    return {r.id: run_summary(r)["queue_position"] for r in page.runs}.get(sub.run.id)


def test_gpu_slots_are_granted_exclusively_and_passed_on(
    gates: Gates, store: RunStore, service: JobService
) -> None:
    a, gate_a = gates.submit(gpus=1)
    b, gate_b = gates.submit(gpus=1)
    run_a = wait_status(store, a, "running")
    run_b = wait_status(store, b, "running")
    assert {run_a.cuda_visible_devices, run_b.cuda_visible_devices} == {"0", "1"}

    c, gate_c = gates.submit(gpus=1)  # no GPU free: waits, though a run slot would be
    assert stays(lambda: status(store, c) == "queued", 2.0)
    assert position(store, c) == 1
    gate_a.touch()
    assert wait_for(service, a).status == "succeeded"
    run_c = wait_status(store, c, "running")
    assert run_c.cuda_visible_devices == run_a.cuda_visible_devices  # the freed device
    gate_b.touch()
    gate_c.touch()
    for sub in (b, c):
        assert wait_for(service, sub).status == "succeeded"
    out = all_output_text(executed_notebook(service, c.run.id))
    assert f"cuda '{run_a.cuda_visible_devices}'" in out
    env = store.environment(c.run.id)
    assert env is not None and env["gpus_assigned"] == run_a.cuda_visible_devices
    assert env["queue_wait_s"] > 1.0
    events = [e.status for e in store.events(c.run.id, kind="status")]
    assert events == ["queued", "starting", "running", "succeeded"]


def test_a_request_for_more_gpus_than_exist_is_refused_at_submit(
    service: JobService, store: RunStore, project: Path
) -> None:
    with pytest.raises(GPURequestError, match=r"asks for 3 GPU\(s\) but this machine has 2"):
        service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb"), gpus=3))
    with pytest.raises(GPURequestError, match="0 or more"):
        service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb"), gpus=-1))
    assert store.count_runs() == 0


def test_slots_free_after_failure_and_cancel(
    gates: Gates, store: RunStore, queue_settings: Settings, project: Path, tmp_path: Path
) -> None:
    one_gpu = service_with(queue_settings, store, gpu_inventory=("OnlyGPU",))
    broken = one_gpu.submit(RunSpec(notebook=str(project / "notebooks/broken.ipynb"), gpus=1))
    after_failure, gate_1 = gates.submit(gpus=1, service=one_gpu)
    assert wait_for(one_gpu, broken).status == "failed"
    holder = wait_status(store, after_failure, "running")
    assert holder.cuda_visible_devices == "0"

    waiting, gate_2 = gates.submit(gpus=1, service=one_gpu)
    also_waiting, gate_3 = gates.submit(gpus=1, service=one_gpu)
    assert stays(lambda: status(store, waiting) == "queued", 1.0)
    assert position(store, waiting) == 1 and position(store, also_waiting) == 2

    # cancelling a queued run: its waiting runner exits, and nobody's slot is taken
    waiting_runner = store.require_run(also_waiting.run.id).runner_pid
    assert waiting_runner is not None
    assert one_gpu.cancel(also_waiting.run.id).status == "cancelled"
    assert also_waiting.handle is not None and also_waiting.handle.wait(timeout=20) == 3
    assert store.require_run(also_waiting.run.id).status_reason == "cancelled before start"

    # cancelling the running holder frees its GPU for the next in line
    one_gpu.cancel(after_failure.run.id)
    assert wait_for(one_gpu, after_failure).status == "cancelled"
    assert wait_status(store, waiting, "running").cuda_visible_devices == "0"
    gate_2.touch()
    assert wait_for(one_gpu, waiting).status == "succeeded"
    del gate_1, gate_3


def test_a_timed_out_run_frees_its_gpu(
    store: RunStore, queue_settings: Settings, project: Path
) -> None:
    one_gpu = service_with(queue_settings, store, gpu_inventory=("OnlyGPU",))
    looping = one_gpu.submit(
        RunSpec(notebook=str(project / "notebooks/infinite.ipynb"), gpus=1, timeout=2)
    )
    after = one_gpu.submit(RunSpec(notebook=str(project / "notebooks/params.ipynb"), gpus=1))
    timed_out, succeeded = wait_for(one_gpu, looping), wait_for(one_gpu, after)
    assert (timed_out.status, succeeded.status) == ("timed_out", "succeeded")
    assert timed_out.cuda_visible_devices == succeeded.cuda_visible_devices == "0"
    assert timed_out.finished_at is not None and succeeded.started_at is not None
    assert succeeded.started_at >= timed_out.finished_at


def test_max_concurrent_runs_first_come_first_served(
    store: RunStore, queue_settings: Settings, project: Path
) -> None:
    single = service_with(queue_settings, store, max_concurrent_runs=1)
    subs = [
        single.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb"))) for _ in range(3)
    ]
    runs = [wait_for(single, s) for s in subs]
    assert [r.status for r in runs] == ["succeeded"] * 3
    # one at a time, in submission order
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None and later.started_at is not None
        assert later.started_at >= earlier.finished_at
    assert [r.id for r in sorted(runs, key=lambda r: r.started_at)] == [s.run.id for s in subs]


def test_a_big_request_at_the_head_holds_back_later_runs(
    gates: Gates, store: RunStore, service: JobService
) -> None:
    """FIFO: a CPU-only run behind a 2-GPU run waits although a run slot is free."""
    wide = service_with(service.settings, store, max_concurrent_runs=3)
    first, gate_1 = gates.submit(gpus=1, service=wide)
    wait_status(store, first, "running")
    big, gate_2 = gates.submit(gpus=2, service=wide)
    small, gate_3 = gates.submit(gpus=0, service=wide)
    assert stays(lambda: status(store, big) == "queued" and status(store, small) == "queued", 2.0)
    assert (position(store, big), position(store, small)) == (1, 2)
    gate_1.touch()
    assert wait_status(store, big, "running").cuda_visible_devices == "0,1"
    assert wait_status(store, small, "running").cuda_visible_devices is None
    gate_2.touch()
    gate_3.touch()
    for sub in (first, big, small):
        assert wait_for(wide, sub).status == "succeeded"


def test_the_queue_is_shared_with_a_cli_submit(
    gates: Gates, store: RunStore, queue_settings: Settings, project: Path
) -> None:
    """The server and the CLI are separate processes; the store is their one queue."""
    single = service_with(queue_settings, store, max_concurrent_runs=1)
    holder, gate = gates.submit(service=single)
    wait_status(store, holder, "running")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env.update(queue_settings.runner_env())
    env["JUPYTER_MLOPS_MAX_CONCURRENT_RUNS"] = "1"
    cli = subprocess.run(
        ["jupyter", "mlops", "run", "notebooks/trivial.ipynb"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    cli_run = cli.stdout.strip().splitlines()[-1]
    assert stays(lambda: store.require_run(cli_run).status == "queued", 1.5)
    table = subprocess.run(
        ["jupyter", "mlops", "runs"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert f"{cli_run}  queued #1" in table
    listed = json.loads(
        subprocess.run(
            ["jupyter", "mlops", "runs", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert {r["id"]: r["queue_position"] for r in listed} == {cli_run: 1, holder.run.id: None}
    gate.touch()
    wait_until(lambda: store.require_run(cli_run).status == "succeeded", timeout=90)
    assert wait_for(single, holder).status == "succeeded"


def test_a_killed_runner_frees_its_slot_without_a_server(
    gates: Gates, store: RunStore, queue_settings: Settings
) -> None:
    """The runner waiting at the head notices that the slot holder's runner is dead."""
    single = service_with(queue_settings, store, max_concurrent_runs=1)
    holder, _ = gates.submit(service=single)
    held = wait_status(store, holder, "running")
    nxt, gate = gates.submit(service=single)
    assert stays(lambda: status(store, nxt) == "queued", 1.0)
    kill_slot_holder(store, held, nxt)
    gate.touch()
    assert wait_for(single, nxt).status == "succeeded"


# -- the claim transaction itself, on SQLite and PostgreSQL ----------------------------------


def _queued_row(run_id: str, host: str, gpus: int = 0) -> Run:
    return make_run(run_id, created_at=utcnow(), gpus=gpus, runner_host=host)


def test_concurrent_claims_never_overbook(db_url: str) -> None:
    """Many claimers at once (threads, each with its own connection): exactly the free
    slots and GPUs are granted, each GPU once."""
    store = RunStore(db_url)
    try:
        for i in range(12):
            store.create_run(_queued_row(f"run{i:02d}", "hostA", gpus=1 if i % 2 else 0))
            time.sleep(0.002)  # distinct created_at
        results: dict[str, object] = {}
        barrier = threading.Barrier(12)

        def claim(run_id: str) -> None:
            barrier.wait()
            results[run_id] = store.claim_slot(
                run_id, host="hostA", max_concurrent=4, gpu_indices=[0, 1], fifo=False
            )

        threads = [threading.Thread(target=claim, args=(f"run{i:02d}",)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        claimed = {k: v for k, v in results.items() if v.claimed}  # type: ignore[attr-defined]
        assert len(claimed) <= 4
        devices = [c.devices for c in claimed.values() if c.devices]  # type: ignore[attr-defined]
        assert sorted(devices) == sorted(set(devices)) and set(devices) <= {"0", "1"}
        active = [r for r in store.active_runs() if r.status == "starting"]
        assert {r.id for r in active} == set(claimed)
        # FIFO: nobody jumps the queue; the oldest waiting run is the only one with
        # position 1 among those left
        left = store.list_runs(status=["queued"], limit=100).runs
        positions = sorted(run_summary(r)["queue_position"] for r in left)
        assert positions == list(range(1, len(left) + 1))
        head = min(left, key=lambda r: (r.created_at, r.id))
        blocked = store.claim_slot(
            max(left, key=lambda r: r.created_at).id,
            host="hostA",
            max_concurrent=100,
            gpu_indices=[0, 1, 2, 3],
        )
        assert not blocked.claimed and blocked.position == len(left)
        assert store.claim_slot(
            head.id, host="hostA", max_concurrent=100, gpu_indices=[0, 1, 2, 3]
        ).claimed
    finally:
        store.close()


def test_claim_reports_cancel_and_impossible_requests(db_url: str) -> None:
    store = RunStore(db_url)
    try:
        store.create_run(_queued_row("wantsfour", "h", gpus=4))
        impossible = store.claim_slot("wantsfour", host="h", max_concurrent=2, gpu_indices=[0])
        assert not impossible.claimed and "asks for 4 GPU(s)" in (impossible.impossible or "")
        store.create_run(_queued_row("cancelme", "h"))
        store.request_cancel("cancelme")
        assert store.claim_slot(
            "cancelme", host="h", max_concurrent=2, gpu_indices=[], fifo=False
        ).cancel_requested
        assert (
            store.claim_slot("nosuchrun", host="h", max_concurrent=1, gpu_indices=[]).status is None
        )
        assert store.transition("cancelme", RunStatus.CANCELLED)
        done = store.claim_slot("cancelme", host="h", max_concurrent=2, gpu_indices=[])
        assert not done.claimed and done.status == "cancelled"
    finally:
        store.close()


def test_queue_settings_travel_to_runners(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlops.config import MLOps

    configured = dataclasses.replace(
        settings,
        max_concurrent_runs=3,
        gpu_inventory=("A", "B"),
        system_metrics_interval=0.25,
        backend="dask",
        dask_scheduler_address="tcp://10.0.0.5:8786",
    )
    for key, value in configured.runner_env().items():
        monkeypatch.setenv(key, value)
    back = Settings.from_env()
    for name in (
        "max_concurrent_runs",
        "gpu_inventory",
        "system_metrics_interval",
        "heartbeat_interval",
        "lost_after",
        "backend",
        "dask_scheduler_address",
    ):
        assert getattr(back, name) == getattr(configured, name), name
    assert MLOps().settings().max_concurrent_runs == 3  # env defaults for the CLI too
    monkeypatch.delenv("JUPYTER_MLOPS_MAX_CONCURRENT_RUNS")
    monkeypatch.delenv("JUPYTER_MLOPS_FAKE_GPUS")
    defaults = MLOps().settings()
    assert defaults.max_concurrent_runs == max(1, os.cpu_count() or 1)
    assert defaults.gpu_inventory is None
    with pytest.raises(ValueError, match="unknown backend"):
        MLOps(backend="kubernetes")
    with pytest.raises(ValueError, match="at least 1"):
        MLOps(max_concurrent_runs=0)


class RecordingBackend(Backend):
    """A plug-in backend that starts nothing: only what the Backend base requires."""

    name = "recording"

    def launch(self, run: Run) -> None:
        self.launched = [*getattr(self, "launched", []), run.id]

    def cancel(self, run: Run) -> None:
        pass


def test_the_backend_is_a_type_plug_in(
    queue_settings: Settings, store: RunStore, project: Path
) -> None:
    from traitlets import TraitError
    from traitlets.config import Config

    from jupyter_mlops.backends.dask import DaskBackend
    from jupyter_mlops.config import MLOps

    config = Config()
    config.MLOps.backend_class = f"{__name__}.RecordingBackend"
    chosen = MLOps(config=config).settings().backend
    assert chosen == f"{__name__}.RecordingBackend"
    service = service_with(queue_settings, store, backend=chosen)
    assert isinstance(service.backend, RecordingBackend)
    sub = service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb"), gpus=3))
    assert sub.run.backend == "recording" and service.backend.launched == [sub.run.id]
    assert service.reconcile() == []  # the base's reconcile and close: nothing to do
    service.close()

    assert MLOps(backend_class=DaskBackend).settings().backend == "dask"  # its alias
    assert MLOps(backend="DASK").settings().backend == "dask"
    with pytest.raises(TraitError):
        MLOps(backend_class="jupyter_mlops.store.RunStore")  # not a Backend
    with pytest.raises(ValueError, match="unknown backend"):
        service_with(queue_settings, store, backend="no_such_module.Backend")


def test_of_two_runners_of_a_starting_run_only_one_takes_it(store: RunStore) -> None:
    """A dispatcher claimed the slot; two runners read the run before either wrote (a
    duplicate start): the store lets only the first name itself the run's runner."""
    store.create_run(make_run("0123456789ab", created_at=utcnow()))
    assert store.transition("0123456789ab", RunStatus.STARTING)  # the dispatcher's claim
    assert store.take_started_run("0123456789ab", pid=101, create_time=1.0)
    assert store.take_started_run("0123456789ab", pid=101, create_time=1.0)  # again: still its
    assert not store.take_started_run("0123456789ab", pid=202, create_time=2.0)
    run = store.require_run("0123456789ab")
    assert (run.runner_pid, run.runner_create_time) == (101, 1.0)
