"""GPU support: which kernels see CUDA, the device a run's kernel really used, GPU
metrics. Tests marked ``gpu`` need CUDA and skip cleanly without it (CI has no GPU); the
others run everywhere (torch's CPU build is enough)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlops.config import Settings
from jupyter_mlops.gpus import discover_gpus, parse_devices
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.kernels import KernelNotFound, kernel_cuda_info
from jupyter_mlops.papermill_engine import parse_probe_reply, physical_device
from jupyter_mlops.store import RunStore

from .test_kernels import add_kernel
from .test_runs import wait_for

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def write_notebook(path: Path, *sources: str) -> Path:
    nbformat.write(
        new_notebook(
            cells=[new_code_cell(s) for s in sources], metadata={"kernelspec": KERNELSPEC}
        ),
        path,
    )
    return path


@pytest.fixture
def torch_installed() -> None:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch) -> int:
    """The number of CUDA devices; skips the test where there is none."""
    torch = pytest.importorskip("torch", reason="no CUDA device: torch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: torch.cuda.is_available() is False")
    monkeypatch.delenv("JUPYTER_MLOPS_FAKE_GPUS", raising=False)
    return int(torch.cuda.device_count())


# -- kernel_cuda_info ---------------------------------------------------------------------


def test_kernel_cuda_info_is_probed_once_and_cached(tmp_path: Path, torch_installed: None) -> None:
    first = kernel_cuda_info("python3", cache_dir=tmp_path)
    assert first is not None and first["cached"] is False
    assert isinstance(first["cuda"], bool) and isinstance(first["devices"], list)
    assert first["torch"]  # a version string
    (cache_file,) = tmp_path.glob("kernel-cuda-*.json")
    again = kernel_cuda_info("python3", cache_dir=tmp_path)
    assert again == {**first, "cached": True}
    # a change to the interpreter's packages (a watched mtime) invalidates the cache
    data = json.loads(cache_file.read_text())
    data["watch"][0][1] += 1
    cache_file.write_text(json.dumps(data))
    assert kernel_cuda_info("python3", cache_dir=tmp_path)["cached"] is False  # type: ignore[index]
    assert kernel_cuda_info("python3", cache_dir=tmp_path, refresh=True)["cached"] is False  # type: ignore[index]


def test_kernel_cuda_info_without_torch_and_for_other_kernels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "jupyter"
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    venv = tmp_path / "venv"  # an interpreter without torch (nor anything else)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    add_kernel(root, "bare", [str(venv / "bin" / "python"), "-m", "ipykernel_launcher"])
    add_kernel(root, "rkernel", ["R", "--slave"], language="R")
    bare = kernel_cuda_info("bare", cache_dir=tmp_path / "cache")
    assert bare is not None
    assert bare["cuda"] is False and bare["devices"] == [] and "cached" in bare
    assert kernel_cuda_info("rkernel", cache_dir=tmp_path / "cache") is None
    with pytest.raises(KernelNotFound, match="nosuchkernel"):
        kernel_cuda_info("nosuchkernel", cache_dir=tmp_path / "cache")


# -- the device the kernel used -------------------------------------------------------------


def test_probe_reply_parsing() -> None:
    info = {"torch_imported": True, "cuda_initialized": True, "device": 1}
    reply = {
        "content": {
            "user_expressions": {
                "mlops_cuda": {"status": "ok", "data": {"text/plain": repr(json.dumps(info))}}
            }
        }
    }
    assert parse_probe_reply(reply)["physical_device"] == "1"  # no CUDA_VISIBLE_DEVICES
    info["cuda_visible_devices"] = "2,5"
    reply["content"]["user_expressions"]["mlops_cuda"]["data"]["text/plain"] = repr(
        json.dumps(info)
    )
    assert parse_probe_reply(reply)["physical_device"] == "5"
    assert physical_device({"device": 0, "cuda_visible_devices": ""}) == "0"
    failed = {"content": {"user_expressions": {"mlops_cuda": {"status": "error", "ename": "X"}}}}
    assert "X" in parse_probe_reply(failed)["error"]


def test_environment_records_whether_the_kernel_used_torch_and_cuda(
    settings: Settings, project: Path, torch_installed: None
) -> None:
    store = RunStore.from_settings(settings)
    try:
        service = JobService(settings, store)
        nb = write_notebook(
            project / "notebooks/torch_cpu.ipynb", "import torch\nx = torch.ones(3).sum()"
        )
        with_torch = wait_for(service, service.submit(RunSpec(notebook=str(nb))))
        without = wait_for(
            service,
            service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb"))),
        )
        assert with_torch.status == without.status == "succeeded"
        used = (store.environment(with_torch.id) or {})["kernel_cuda"]
        assert used["torch_imported"] is True and used["torch_version"]
        import torch

        if not torch.cuda.is_available():
            assert used["cuda_initialized"] is False and used["device"] is None
        assert (store.environment(without.id) or {})["kernel_cuda"] == {"torch_imported": False}
    finally:
        store.close()


# -- on a real GPU --------------------------------------------------------------------------

TRAIN = """\
import time, torch
device = torch.device("cuda")
a = torch.randn(2048, 2048, device=device)
end = time.time() + 3
while time.time() < end:
    a = (a @ a).tanh()
torch.cuda.synchronize()
print("device", torch.cuda.current_device(), torch.cuda.get_device_name())
"""


@pytest.mark.gpu
def test_kernel_cuda_info_sees_the_gpu(tmp_path: Path, cuda: int) -> None:
    info = kernel_cuda_info("python3", cache_dir=tmp_path)
    assert info is not None and info["cuda"] is True
    assert len(info["devices"]) == cuda and info["devices"][0]["total_memory"] > 0


@pytest.mark.gpu
def test_a_gpu_run_records_its_device_and_gpu_metrics(
    settings: Settings, project: Path, cuda: int
) -> None:
    real = dataclasses.replace(settings, system_metrics_interval=0.5, gpu_inventory=None)
    store = RunStore.from_settings(real)
    try:
        service = JobService(real, store)
        nb = write_notebook(project / "notebooks/gpu_train.ipynb", TRAIN)
        run = wait_for(service, service.submit(RunSpec(notebook=str(nb), gpus=1)))
        assert run.status == "succeeded", run.status_reason
        granted = parse_devices(run.cuda_visible_devices)
        assert len(granted) == 1 and granted[0] in [g.index for g in discover_gpus()]
        used = (store.environment(run.id) or {})["kernel_cuda"]
        assert used["cuda_initialized"] is True and used["device"] == 0
        assert used["physical_device"] == run.cuda_visible_devices
        assert used["max_memory_allocated"] > 2048 * 2048 * 4
        keys = store.metric_keys(run.id)
        assert {"system/gpu0/utilization", "system/gpu0/memory_used_mb"} <= set(keys)
        util = store.metric_series(run.id, "system/gpu0/utilization")
        assert max(v for _, v in util["points"]) > 0
    finally:
        store.close()


@pytest.mark.gpu
def test_two_gpu_runs_get_different_devices(settings: Settings, project: Path, cuda: int) -> None:
    if cuda < 2:
        pytest.skip(f"needs 2 CUDA devices, this machine has {cuda}")
    real = dataclasses.replace(settings, gpu_inventory=None, max_concurrent_runs=2)
    store = RunStore.from_settings(real)
    try:
        service = JobService(real, store)
        nb = write_notebook(project / "notebooks/gpu_train.ipynb", TRAIN)
        subs = [service.submit(RunSpec(notebook=str(nb), gpus=1)) for _ in range(2)]
        runs = [wait_for(service, s) for s in subs]
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        assert runs[0].cuda_visible_devices != runs[1].cuda_visible_devices
    finally:
        store.close()
