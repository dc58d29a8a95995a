"""GPU inventory and utilization: NVML (nvidia-ml-py), ``nvidia-smi`` when NVML is missing.

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
from dataclasses import asdict, dataclass
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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("fake")
        return data


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
    gpus = _nvml_gpus()
    if gpus is None:
        gpus = _nvidia_smi_gpus()
    return gpus or []


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _nvml_gpus() -> list[GPU] | None:
    """None when NVML cannot be used (no library, no driver); else the devices."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver, no device: a CPU-only machine
        return None
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            gpus.append(
                GPU(
                    index=index,
                    name=_text(pynvml.nvmlDeviceGetName(handle)),
                    memory_total=int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                    uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
                )
            )
        return gpus
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def _nvidia_smi_gpus() -> list[GPU] | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        proc = subprocess.run(
            [smi, "--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    gpus = []
    for line in proc.stdout.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 4:
            continue
        try:
            gpus.append(
                GPU(
                    index=int(fields[0]),
                    name=fields[1],
                    memory_total=int(float(fields[2]) * 1024 * 1024),  # MiB
                    uuid=fields[3] or None,
                )
            )
        except ValueError:
            continue
    return gpus


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
