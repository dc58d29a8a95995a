"""GPU inventory and utilization: NVML (nvidia-ml-py), ``nvidia-smi`` when NVML is missing.

The one place that asks the driver: the queue's inventory (:func:`discover_gpus`), the
environment record of a run (:func:`probe_gpus`, with driver versions and device details)
and the system metrics (:class:`GPUSampler`).

A run asks for a number of GPUs; the local queue hands it exactly that many free devices
of this machine (see :mod:`jupyter_mlops.backends.queue`) and the kernel sees only those
through ``CUDA_VISIBLE_DEVICES``. Indices are NVML's, which enumerate in PCI bus order;
the runner sets ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` for the kernel so CUDA numbers them the
same way.

``JUPYTER_MLOPS_FAKE_GPUS="A100,A100"`` (or ``c.MLOps.gpu_inventory``) fakes an inventory
for tests of the slot logic on machines without GPUs; never set it in production.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import environment_value

NVIDIA_SMI_TIMEOUT_S = 10.0


class GPURequestError(ValueError):
    """More GPUs asked for than this machine (or any worker of the cluster) has."""


@dataclass(frozen=True)
class GPU:
    index: int
    name: str
    memory_total: int
    uuid: str | None = None
    fake: bool = False
    compute_capability: str | None = None
    pci_bus_id: str | None = None
    mig_enabled: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "memory_total": self.memory_total,
            "uuid": self.uuid,
        }

    def record(self) -> dict[str, Any]:
        """The device in a run's environment record: :meth:`to_dict` and what else the
        driver said (compute capability, PCI bus, MIG mode)."""
        details = {
            "compute_capability": self.compute_capability,
            "pci_bus_id": self.pci_bus_id,
            "mig_enabled": self.mig_enabled,
        }
        return {**self.to_dict(), **{k: v for k, v in details.items() if v is not None}}


@dataclass
class GPUProbe:
    """What the driver says about this machine's GPUs: NVML, else ``nvidia-smi``."""

    devices: list[GPU] = field(default_factory=list)
    source: str | None = None
    """"nvml", "nvidia-smi", or None: neither answered (no NVIDIA driver, as far as known)."""
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    nvml_error: str | None = None
    """Why NVML is not usable here (no library, no driver: the normal case on CPU machines)."""
    nvidia_smi_error: str | None = None
    error: str | None = None
    """A probe that failed once started (NVML listing devices, nvidia-smi hanging): the
    answer may be incomplete, so nothing is to be concluded from a missing GPU."""

    def record(self) -> dict[str, Any]:
        """The ``gpus`` section of a run's environment record."""
        out: dict[str, Any] = {
            "driver_version": self.driver_version,
            "cuda_driver_version": self.cuda_driver_version,
            "devices": [g.record() for g in self.devices],
            "source": self.source,
        }
        for key in ("nvml_error", "nvidia_smi_error", "error"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def fake_inventory(inventory: Sequence[str] | None = None) -> list[GPU] | None:
    """The configured fake inventory, or None when none is configured."""
    names = inventory if inventory is not None else environment_value("gpu_inventory")
    if names is None:
        return None
    return [GPU(index=i, name=n, memory_total=0, uuid=None, fake=True) for i, n in enumerate(names)]


def discover_gpus(inventory: Sequence[str] | None = None) -> list[GPU]:
    """GPUs of this machine: ``inventory`` (fake names) if given, else the
    ``JUPYTER_MLOPS_FAKE_GPUS`` fake inventory, else NVML, else ``nvidia-smi``; [] when none."""
    fake = fake_inventory(inventory)
    if fake is not None:
        return fake
    return probe_gpus().devices


def probe_gpus() -> GPUProbe:
    """The real GPUs and driver: NVML, or ``nvidia-smi`` where NVML cannot answer."""
    probe = GPUProbe()
    if not _probe_nvml(probe):
        _probe_nvidia_smi(probe)
    return probe


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _probe_nvml(probe: GPUProbe) -> bool:
    """Fill ``probe`` from NVML; False when NVML cannot be used or failed."""
    try:
        import pynvml
    except ImportError as exc:
        probe.nvml_error = _error(exc)
        return False
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # no driver, no device: a CPU-only machine
        probe.nvml_error = _error(exc)
        return False
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda_driver = None
        with contextlib.suppress(Exception):
            version = int(pynvml.nvmlSystemGetCudaDriverVersion())
            cuda_driver = f"{version // 1000}.{(version % 1000) // 10}"
        devices = [_nvml_device(pynvml, i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception as exc:
        probe.error = _error(exc)
        return False
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()
    probe.source, probe.driver_version, probe.cuda_driver_version = "nvml", driver, cuda_driver
    probe.devices = devices
    return True


def _nvml_device(pynvml: Any, index: int) -> GPU:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    details: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
        details["compute_capability"] = f"{major}.{minor}"
    with contextlib.suppress(Exception):
        details["pci_bus_id"] = _text(pynvml.nvmlDeviceGetPciInfo(handle).busId)
    with contextlib.suppress(Exception):
        current_mig, _pending = pynvml.nvmlDeviceGetMigMode(handle)
        details["mig_enabled"] = bool(current_mig)
    return GPU(
        index=index,
        name=_text(pynvml.nvmlDeviceGetName(handle)),
        memory_total=int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
        uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
        **details,
    )


def _probe_nvidia_smi(probe: GPUProbe) -> None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return
    fields = "index,name,uuid,memory.total,driver_version,pci.bus_id"
    try:
        proc = subprocess.run(
            [smi, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        probe.error = _error(exc)
        return
    if proc.returncode != 0:
        probe.nvidia_smi_error = (proc.stderr or proc.stdout).strip()[-300:]
        return
    probe.source = "nvidia-smi"
    for line in proc.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 6:
            continue
        try:
            gpu = GPU(
                index=int(parts[0]),
                name=parts[1],
                uuid=parts[2] or None,
                memory_total=int(float(parts[3]) * 1024 * 1024),  # MiB
                pci_bus_id=parts[5],
            )
        except ValueError:
            continue
        probe.driver_version = parts[4]
        probe.devices.append(gpu)


def parse_devices(value: str | None) -> list[int]:
    """``"0,2"`` -> [0, 2]; entries that are not indices (UUIDs) are skipped."""
    devices = []
    for part in (value or "").split(","):
        part = part.strip()
        if part.isdigit():
            devices.append(int(part))
    return devices


def format_devices(devices: Iterable[int]) -> str | None:
    text = ",".join(str(d) for d in devices)
    return text or None


def usable_gpus(inventory: Sequence[str] | None = None) -> list[GPU]:
    """The GPUs runs on this machine may be given: :func:`discover_gpus`, narrowed to the
    devices this process may use when ``CUDA_VISIBLE_DEVICES`` lists indices or UUIDs (a
    Dask worker pinned to one GPU, as dask-cuda starts them). Fake inventories are not
    narrowed."""
    gpus = discover_gpus(inventory)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if not visible or not gpus or gpus[0].fake:
        return gpus
    allowed = {v.strip() for v in visible.split(",") if v.strip()}
    return [g for g in gpus if str(g.index) in allowed or (g.uuid and g.uuid in allowed)]


def check_gpu_request(count: int, gpus: Sequence[GPU], where: str = "this machine") -> None:
    """Refuse at submit what can never run: negative counts, more GPUs than exist."""
    if count < 0:
        raise GPURequestError("gpus must be 0 or more")
    if count > len(gpus):
        have = ", ".join(f"{g.index}: {g.name}" for g in gpus) or "none"
        raise GPURequestError(
            f"the run asks for {count} GPU(s) but {where} has {len(gpus)} ({have})"
        )


class GPUSampler:
    """Utilization and memory of some GPUs through one NVML session (for system metrics).

    ``sample()`` returns ``{index: {"utilization": %, "memory_used_mb": MiB,
    "memory_percent": %}}``; empty when NVML is unavailable (then it stays quiet).
    """

    def __init__(self, indices: Sequence[int]) -> None:
        self.indices = list(indices)
        self._nvml: Any = None
        self._handles: dict[int, Any] = {}
        if not self.indices:
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            for index in self.indices:
                self._handles[index] = pynvml.nvmlDeviceGetHandleByIndex(index)
        except Exception:
            self.close()

    @property
    def available(self) -> bool:
        return bool(self._handles)

    def sample(self) -> dict[int, dict[str, float]]:
        out: dict[int, dict[str, float]] = {}
        if self._nvml is None:
            return out
        for index, handle in self._handles.items():
            try:
                util = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                mem = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:
                continue
            out[index] = {
                "utilization": float(util.gpu),
                "memory_used_mb": mem.used / (1024 * 1024),
                "memory_percent": 100.0 * mem.used / mem.total if mem.total else 0.0,
            }
        return out

    def close(self) -> None:
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
        self._nvml = None
        self._handles = {}
