"""System metrics of a running job: CPU, memory and GPU use, sampled by a runner thread.

Every ``interval`` seconds the sampler reads the kernel's whole process tree with psutil
(the kernel and everything it started: data loader workers, subprocesses) and the GPUs
granted to the run with NVML, and stores one batch through
:meth:`~jupyter_mlops.store.RunStore.log_metrics_batch`, so the points sit next to the
notebook's own metrics and are charted the same way:

``system/cpu_percent``        CPU of the tree, in % of one core (400 = four busy cores)
``system/memory_rss_mb``      resident memory of the tree, MiB
``system/gpu<i>/utilization`` % of time a kernel ran on the run's i-th GPU (as the run
                              sees it: gpu0 is ``cuda:0``)
``system/gpu<i>/memory_used_mb`` and ``system/gpu<i>/memory_percent``

The step is the sample number. GPU keys are absent when the run has no GPU, the
inventory is fake, or NVML is unavailable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psutil

from .runner_progress import RunThread
from .store import RunStore

log = logging.getLogger("jupyter_mlops.system_metrics")

PREFIX = "system/"


class ProcessTreeSampler:
    """CPU % and RSS of a process and its descendants.

    ``psutil.Process.cpu_percent`` measures since its previous call on the same object,
    so the objects are kept between samples; a process seen for the first time only
    primes its counter (it adds to the memory, not yet to the CPU).
    """

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}

    def sample(self, root_pid: int) -> dict[str, float] | None:
        try:
            root = self._procs.get(root_pid) or psutil.Process(root_pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        seen: dict[int, psutil.Process] = {}
        cpu = 0.0
        rss = 0
        measured = False
        for proc in tree:
            known = self._procs.get(proc.pid)
            if known is not None and _same_process(known, proc):
                proc = known
            try:
                with proc.oneshot():
                    percent = proc.cpu_percent(None)
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue
            if known is not None:
                cpu += percent
                measured = True
            seen[proc.pid] = proc
        self._procs = seen
        out = {"memory_rss_mb": rss / (1024 * 1024)}
        if measured:
            out["cpu_percent"] = cpu
        return out


def _same_process(a: psutil.Process, b: psutil.Process) -> bool:
    try:
        return a.create_time() == b.create_time()
    except psutil.Error:
        return False


class SystemMetricsSampler(RunThread):
    """Samples every ``interval`` seconds until :meth:`stop`; never fails the run."""

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        interval: float,
        kernel_pid: Callable[[], int | None],
        gpu_indices: Sequence[int] = (),
    ) -> None:
        super().__init__("mlops-system-metrics", store, run_id, interval)
        self.kernel_pid = kernel_pid
        self.gpu_indices = list(gpu_indices)
        self.samples = 0
        self._lock = threading.Lock()  # the sampling thread and final_sample()
        self._tree = ProcessTreeSampler()
        self._gpus: Any = None

    def run(self) -> None:
        if self.gpu_indices:
            from .gpus import GPUSampler

            self._gpus = GPUSampler(self.gpu_indices)
            if not self._gpus.available:
                log.info("NVML unavailable: no GPU metrics for run %s", self.run_id)
        try:
            # Prime the CPU counters early (nothing is written), so that the first sample,
            # one interval later, already has a CPU figure.
            if not self._stopping.wait(min(self.interval, 0.5)):
                self.prime()
            while not self._stopping.wait(self.interval):
                self.sample_once()
        finally:
            if self._gpus is not None:
                self._gpus.close()

    def prime(self) -> None:
        pid = self.kernel_pid()
        if pid:
            self._tree.sample(pid)

    def sample_once(self) -> int:
        """Take one sample and store it; returns the number of points written."""
        with self._lock:
            return self._sample()

    def final_sample(self) -> int:
        """One more sample after the last cell, while the kernel still runs, so a run
        shorter than the interval also gets its memory and CPU figures."""
        try:
            return self.sample_once()
        except Exception:  # never fail the run for a metric
            log.exception("final system metrics sample failed")
            return 0

    def _sample(self) -> int:
        pid = self.kernel_pid()
        if not pid:
            return 0
        values: dict[str, float] = {}
        tree = self._tree.sample(pid)
        if tree is None:
            return 0
        values.update(tree)
        if self._gpus is not None:
            gpus = self._gpus.sample()
            for position, index in enumerate(self.gpu_indices):
                for name, value in gpus.get(index, {}).items():
                    values[f"gpu{position}/{name}"] = value
        now = time.time()
        points = [(PREFIX + key, self.samples, value, now) for key, value in values.items()]
        try:
            self.store.log_metrics_batch(self.run_id, points)
        except Exception:  # the store may be briefly unavailable; the run goes on
            log.exception("could not store system metrics")
            return 0
        self.samples += 1
        return len(points)
