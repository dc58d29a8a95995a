"""System metrics of a run: CPU and memory of the kernel's process tree, stored as
``system/*`` metrics while it runs; GPU keys only where NVML sees the run's GPUs."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.store import Run, RunStore
from jupyter_mlops.system_metrics import ProcessTreeSampler, SystemMetricsSampler

from .test_runs import wait_for

BUSY = """\
import subprocess, sys, time
ballast = bytearray(64 * 1024 * 1024)  # 64 MiB resident in the kernel
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
end = time.time() + 2.0
while time.time() < end:  # one busy core
    pass
child.kill()
"""


@pytest.fixture
def busy_notebook(project: Path) -> Path:
    path = project / "notebooks" / "busy.ipynb"
    nb = new_notebook(
        cells=[new_code_cell(BUSY)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, path)
    return path


def test_a_run_records_cpu_and_memory_but_no_gpu_keys(
    settings: Settings, busy_notebook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_FAKE_GPUS", "FakeGPU")  # a GPU NVML cannot sample
    fast = dataclasses.replace(settings, system_metrics_interval=0.4)
    store = RunStore.from_settings(fast)
    try:
        service = JobService(fast, store)
        run = wait_for(service, service.submit(RunSpec(notebook=str(busy_notebook), gpus=1)))
        assert run.status == "succeeded", run.status_reason
        keys = store.metric_keys(run.id)
        assert "system/cpu_percent" in keys and "system/memory_rss_mb" in keys
        assert not [k for k in keys if k.startswith("system/gpu")]
        memory = store.metric_series(run.id, "system/memory_rss_mb")
        cpu = store.metric_series(run.id, "system/cpu_percent")
        assert memory["total_points"] >= 3
        assert max(v for _, v in memory["points"]) > 64  # the ballast counts
        assert max(v for _, v in cpu["points"]) > 30  # a busy core, even on a loaded box
        steps = [s for s, _ in memory["points"]]
        assert steps == sorted(steps) and steps[0] == 0
    finally:
        store.close()


@contextlib.contextmanager
def trivial_run(
    settings: Settings, project: Path, interval: float
) -> Iterator[tuple[RunStore, Run]]:
    """The store and the finished run of ``trivial.ipynb``, sampled every ``interval`` s."""
    sampled = dataclasses.replace(settings, system_metrics_interval=interval)
    store = RunStore.from_settings(sampled)
    try:
        service = JobService(sampled, store)
        sub = service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb")))
        yield store, wait_for(service, sub)
    finally:
        store.close()


def test_a_run_shorter_than_the_interval_still_gets_one_sample(
    settings: Settings, project: Path
) -> None:
    """The sample taken after the last cell, while the kernel is still alive."""
    with trivial_run(settings, project, interval=60) as (store, run):
        assert run.status == "succeeded", run.status_reason
        memory = store.metric_series(run.id, "system/memory_rss_mb")
        assert memory["total_points"] == 1
        assert memory["points"][0][1] > 10  # a live Python kernel, not a dead pid


def test_sampling_can_be_turned_off(settings: Settings, project: Path) -> None:
    with trivial_run(settings, project, interval=0) as (store, run):
        assert run.status == "succeeded"
        assert not [k for k in store.metric_keys(run.id) if k.startswith("system/")]


def test_process_tree_sampler_counts_children() -> None:
    code = (
        "import subprocess, sys, time\n"
        "c = subprocess.Popen([sys.executable, '-c', "
        "'x = bytearray(48 * 1024 * 1024); import time; time.sleep(20)'])\n"
        "end = time.time() + 20\n"
        "while time.time() < end: pass\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        sampler = ProcessTreeSampler()
        deadline = time.monotonic() + 20
        first = sampler.sample(parent.pid)
        while first is not None and first["memory_rss_mb"] < 48 and time.monotonic() < deadline:
            time.sleep(0.1)
            first = sampler.sample(parent.pid)
        assert first is not None and first["memory_rss_mb"] > 48  # child included
        time.sleep(0.5)
        second = sampler.sample(parent.pid)
        assert second is not None and second["cpu_percent"] > 30
    finally:
        parent.kill()
        parent.wait()
    assert ProcessTreeSampler().sample(parent.pid) is None


def test_sampler_without_a_kernel_writes_nothing(settings: Settings) -> None:
    store = RunStore.from_settings(settings)
    try:
        sampler = SystemMetricsSampler(store, "norun", 0.1, lambda: None)
        assert sampler.sample_once() == 0
    finally:
        store.close()
