"""Start a run's kernel and know at once when it cannot start.

A kernel that dies while it starts (two kernels of concurrent runs chose the same free
port, "Address already in use"; a broken environment; an ``argv`` that is not a kernel)
used to surface only when papermill gave up waiting, as "Kernel didn't respond in 120
seconds", with the kernel's own words lost. Here the kernel process is watched while it
boots: an exit is seen within a fraction of a second, the start is tried again with a new
kernel manager (so new ports are chosen) a bounded number of times, and when every try
fails the error carries what the kernel wrote on stderr.

The kernel's stderr goes to ``kernel.log`` in the run directory (appended, one header per
attempt), so its tail can be quoted and the whole of it kept as an artifact.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

log = logging.getLogger("jupyter_mlops.kernel_start")

KERNEL_LOG = "kernel.log"
START_ATTEMPTS = 3
READY_TIMEOUT_S = 120.0
STDERR_TAIL_CHARS = 2000
_POLL_S = 0.1
_KERNEL_INFO_EVERY_S = 1.0


class KernelStartError(RuntimeError):
    """The kernel could not be started; the message says why, in the kernel's words."""

    def __init__(self, message: str, *, attempts: int, stderr_tail: str) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.stderr_tail = stderr_tail


def new_kernel_manager(kernel_name: str) -> Any:
    """An ``AsyncKernelManager`` for ``kernel_name``, found where the runner finds kernels
    (:func:`jupyter_mlops.kernels.kernel_dirs`): one per start attempt, so each gets new
    ports."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from .kernels import kernel_dirs

    return AsyncKernelManager(
        kernel_name=kernel_name, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs())
    )


class KernelStarter:
    """Starts one kernel (an ``AsyncKernelManager``), retrying a start that dies.

    :meth:`launch` only launches, so the runner can import papermill while the kernel
    boots; :meth:`wait_ready` then waits for the kernel to answer, relaunching it on fresh
    ports when its process exited, and returns the manager of the kernel that answered.
    """

    def __init__(
        self,
        make_manager: Callable[[], Any],
        *,
        cwd: Path,
        log_path: Path,
        on_started: Callable[[int | None], None],
        on_retry: Callable[[int, str], None],
        stop_requested: Callable[[], bool] = lambda: False,
        attempts: int = START_ATTEMPTS,
        ready_timeout: float = READY_TIMEOUT_S,
    ) -> None:
        self.make_manager = make_manager
        self.cwd = cwd
        self.log_path = log_path
        self.on_started = on_started
        self.on_retry = on_retry
        self.stop_requested = stop_requested
        self.attempts = max(1, attempts)
        self.ready_timeout = ready_timeout
        self.attempt = 0
        self.manager: Any = None
        self._log_offset = 0

    def launch(self) -> Any:
        """Launch the next attempt's kernel (a new manager, so new ports) and return its
        manager."""
        from jupyter_core.utils import run_sync

        self.attempt += 1
        manager = self.manager = self.make_manager()
        # as nbclient does for the kernels it starts: no IPython history file is written
        extra_arguments = ["--HistoryManager.hist_file=:memory:"] if manager.ipykernel else []
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as stderr:
            stderr.write(f"--- kernel start, attempt {self.attempt}\n".encode())
            stderr.flush()
            self._log_offset = stderr.tell()
            run_sync(manager.start_kernel)(
                extra_arguments=extra_arguments, cwd=str(self.cwd), stderr=stderr
            )
        self.on_started(getattr(manager.provisioner, "pid", None))
        return manager

    def take(self, manager: Any, log_offset: int) -> None:
        """Make a kernel launched earlier (a warm kernel, :mod:`jupyter_mlops.warm_kernel`)
        this starter's first attempt: :meth:`wait_ready` waits for it like for its own, and
        a retry launches a fresh one. Its stderr must already go to ``log_path``, from
        ``log_offset`` on."""
        self.attempt = 1
        self.manager = manager
        self._log_offset = log_offset

    @property
    def log_offset(self) -> int:
        """Where the current attempt's kernel output starts in ``log_path``."""
        return self._log_offset

    def wait_ready(self) -> Any:
        """The manager of a kernel that answered ``kernel_info``; raises
        :class:`KernelStartError` when every attempt's kernel exited, or the last one did
        not answer within ``ready_timeout``."""
        from jupyter_core.utils import run_sync

        if self.manager is None:
            self.launch()
        while True:
            exit_code = run_sync(self._wait_for_answer)(self.manager)
            if exit_code is None:
                return self.manager
            tail = self.stderr_tail()
            what = f"the kernel exited with code {exit_code} while starting"
            self._discard(self.manager)
            if self.attempt >= self.attempts or self.stop_requested():
                raise KernelStartError(
                    f"{what} ({self.attempt} attempts): {tail or 'nothing on stderr'}",
                    attempts=self.attempt,
                    stderr_tail=tail,
                )
            log.warning("kernel start attempt %d failed: %s: %s", self.attempt, what, tail)
            self.on_retry(self.attempt, f"{what}: {tail or 'nothing on stderr'}")
            self.launch()

    def stderr_tail(self) -> str:
        """What the current attempt's kernel wrote on stderr (its last lines)."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._log_offset)
                text = f.read().decode("utf-8", errors="replace").strip()
        except OSError:
            return ""
        return text[-STDERR_TAIL_CHARS:]

    async def _wait_for_answer(self, manager: Any) -> int | None:
        """None once the kernel answered; its exit code when its process ended first."""
        client = manager.client()
        client.start_channels()
        try:
            deadline = time.monotonic() + self.ready_timeout
            asked = 0.0
            while True:
                code = manager.provisioner.process.poll() if manager.provisioner else None
                if code is not None or not await manager.is_alive():
                    return code if code is not None else -1
                if time.monotonic() - asked >= _KERNEL_INFO_EVERY_S:
                    client.kernel_info()
                    asked = time.monotonic()
                try:
                    reply = await client.shell_channel.get_msg(timeout=_POLL_S)
                except Empty:
                    reply = None
                if reply is not None and reply.get("msg_type") == "kernel_info_reply":
                    return None
                if time.monotonic() > deadline:
                    tail = self.stderr_tail()
                    raise KernelStartError(
                        f"the kernel did not answer within {self.ready_timeout:g} s"
                        + (f": {tail}" if tail else ""),
                        attempts=self.attempt,
                        stderr_tail=tail,
                    )
        finally:
            client.stop_channels()
            await asyncio.sleep(0)

    @staticmethod
    def _discard(manager: Any) -> None:
        """Forget a dead kernel: its connection file and ports."""
        from jupyter_core.utils import run_sync

        try:
            run_sync(manager.cleanup_resources)(restart=False)
        except Exception:
            log.debug("the dead kernel's resources were already gone", exc_info=True)
