"""The run's kernel: adopted from a warm runner when one fits, else started for the run.

Either way the kernel is launched (or was) with the run's variables in the runner's
environment (:func:`kernel_variables`), its stderr in the run's ``kernel.log``, and a start
that dies is retried on fresh ports (:class:`~jupyter_mlops.kernel_start.KernelStarter`). A
warm kernel (:mod:`jupyter_mlops.warm_kernel`) is checked against what the run's own would
be before it is taken, and made the run's once it answers; if either fails, it is killed
and a kernel is started as for any run, so a warm start can make a run faster, never
different.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .config import ENV_RUN_ID, ENV_SEED
from .kernel_start import KERNEL_LOG, KernelStarter, new_kernel_manager
from .runner_parameters import secret_parameters

if TYPE_CHECKING:
    from .masking import Handover
    from .store import Run
    from .warm_kernel import WarmKernel

log = logging.getLogger("jupyter_mlops.runner_kernel")


def kernel_variables(seed: int, run_id: str, cuda_visible_devices: str | None) -> dict[str, str]:
    """What a run's kernel inherits besides the runner's environment: the seed, the run's
    marker, and only the GPUs granted to the run."""
    variables = {
        ENV_SEED: str(seed),
        ENV_RUN_ID: run_id,
        "PYTHONHASHSEED": str(seed % (2**32)),
        "CUDA_VISIBLE_DEVICES": cuda_visible_devices or "",
    }
    if cuda_visible_devices:  # NVML's indices (granted by the queue) are PCI order
        variables["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    return variables


class KernelOwner(Protocol):
    """What of its runner the run's kernel start needs (:class:`jupyter_mlops.runner.Runner`)."""

    handover: Handover
    run_dir: Path
    stopping: Any
    outputs: Any

    def on_kernel_started(self, pid: int | None) -> None: ...


class RunKernel:
    """Starts the kernel of one runner's run, from a warm kernel when it was given one."""

    def __init__(self, runner: KernelOwner, warm: WarmKernel | None = None) -> None:
        self.runner = runner
        self.warm = warm
        self._adopting: WarmKernel | None = None
        self.starter: KernelStarter | None = None

    def start(self, run: Run, cwd: Path) -> KernelStarter:
        """Launch the run's kernel in ``cwd`` (or take the warm one); :meth:`ready` then
        waits for it to answer."""
        from .masking import env_text, secret_env_name

        secrets = secret_parameters(run, self.runner.handover)
        for name, value in secrets.items():
            os.environ[secret_env_name(name)] = env_text(value)
        os.environ.update(kernel_variables(run.seed, run.id, run.cuda_visible_devices))
        starter = self.starter = KernelStarter(
            lambda: new_kernel_manager(run.kernel_name),
            cwd=cwd,
            log_path=self.runner.run_dir / KERNEL_LOG,
            on_started=self.runner.on_kernel_started,
            on_retry=self._retried,
            stop_requested=lambda: self.runner.stopping.requested,
        )
        warm, self.warm = self.warm, None
        if warm is not None:
            unfit = warm.unusable_for(run, list(secrets), dict(os.environ))
            if unfit:
                log.info("run %s: the warm kernel does not fit (%s); starting one", run.id, unfit)
                warm.discard()
            else:
                starter.take(warm.manager, warm.log_offset)
                self._adopting = warm
                return starter
        starter.launch()
        return starter

    def ready(self, cwd: Path, run_id: str) -> Any:
        """The manager of the run's kernel once it answers (see
        :meth:`KernelStarter.wait_ready`), a warm one made the run's first."""
        assert self.starter is not None
        manager = self.starter.wait_ready()
        warm, self._adopting = self._adopting, None
        if warm is None or manager is not warm.manager:
            return manager
        failed = warm.adopt(cwd, dict(os.environ), run_id)
        if not failed:
            log.info(
                "run %s: warm kernel %s adopted (launched %.1f s before)",
                run_id,
                warm.pid,
                time.monotonic() - warm.launched_at,
            )
            self.runner.on_kernel_started(warm.pid)
            return manager
        log.warning(
            "run %s: the warm kernel could not be adopted (%s); starting one", run_id, failed
        )
        warm.discard()
        self.starter.launch()
        return self.starter.wait_ready()

    def discard_unused(self) -> None:
        """Kill a warm kernel the run never came to use (it failed before its kernel)."""
        for warm in (self.warm, self._adopting):
            if warm is not None:
                warm.discard()
        self.warm = self._adopting = None

    @property
    def manager(self) -> Any:
        return self.starter.manager if self.starter is not None else None

    def _retried(self, attempt: int, why: str) -> None:
        self.runner.outputs.warn(f"kernel start attempt {attempt} failed, started again: {why}")
