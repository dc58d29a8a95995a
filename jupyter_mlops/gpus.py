"""GPU inventory through NVML (nvidia-ml-py); an empty list where there is none."""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GPU:
    index: int
    name: str
    memory_total: int
    uuid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def discover_gpus() -> list[GPU]:
    """GPUs of this machine. ``JUPYTER_MLOPS_FAKE_GPUS="A100,A100"`` fakes an inventory
    (for tests of slot logic on machines without GPUs; never set in production)."""
    fake = os.environ.get("JUPYTER_MLOPS_FAKE_GPUS")
    if fake is not None:
        names = [n.strip() for n in fake.split(",") if n.strip()]
        return [GPU(index=i, name=n, memory_total=0, uuid=None) for i, n in enumerate(names)]
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver, no device: a CPU-only machine
        return []
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle).total
            uuid = pynvml.nvmlDeviceGetUUID(handle)
            gpus.append(
                GPU(
                    index=index,
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    memory_total=int(memory),
                    uuid=uuid.decode() if isinstance(uuid, bytes) else str(uuid),
                )
            )
        return gpus
    except Exception:
        return []
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()
