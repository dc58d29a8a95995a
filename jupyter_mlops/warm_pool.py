"""The runner host's warm runners: forked runners-to-be, each with a kernel already launched.

A warm runner is forked by the runner host (:mod:`jupyter_mlops.runner_host`) for a kind of
run it has seen: a kernel spec, the submitter's whole environment and interpreter
(:class:`WarmSpec`), and a seed. It becomes what a runner is before its run (its own
session, a child subreaper, its own cgroup ``warm-<pid>``), launches the kernel with exactly
the environment the run's runner would give it (the seed's ``PYTHONHASHSEED`` included; the
run id a placeholder), and waits. When a run of that kind comes, the host hands it over: the
warm runner names itself the run's runner, moves its logs and cgroup to the run, and runs it
with that kernel (:mod:`jupyter_mlops.warm_kernel` makes it the run's). The host then forks
the next one, off the run's critical path.

Seeds. A run with a seed of its own (given, or the notebook's ``seed`` default) finds a warm
runner launched with that seed, once one such run was seen. A run that draws its seed asks
the host first (:func:`offer_seed`): it takes the seed of a warm runner kept for drawn seeds,
which is reserved for it and never offered again, so drawn seeds stay one per run; with none
free, it draws its own and starts cold, and the host starts one for the next such run.

Nothing here is needed: a run with no warm runner of its kind is forked cold, as before.
A warm runner whose host died sees its socket close, kills its kernel and exits; one not
taken within :data:`IDLE_S` is closed so (or at once, if it was reserved and its run did not
come within :data:`RESERVE_S`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .input_rules import DRAWN_SEED_BOUND

log = logging.getLogger("jupyter_mlops.warm_pool")

POOL_DIR = "warm-kernels"
"""Under the runs directory's parent (the same file system): one directory per warm runner,
its kernel's working directory and logs until a run takes it."""
RESERVE_S = 60.0
IDLE_S = 3600.0
HANDOFF_TIMEOUT_S = 10.0
MAX_KINDS = 4
"""Warm runners are kept for at most this many kinds of run (the least recently used go)."""


@dataclass(frozen=True)
class WarmSpec:
    """A kind of run: what its kernel's launch depends on, but for the seed."""

    kernel_name: str
    env: tuple[tuple[str, str], ...]
    executable: str

    @classmethod
    def of(cls, request: dict[str, Any]) -> WarmSpec | None:
        kernel, env, exe = request.get("kernel_name"), request.get("env"), request.get("executable")
        if not isinstance(kernel, str) or not isinstance(env, dict) or not isinstance(exe, str):
            return None
        return cls(kernel, tuple(sorted((str(k), str(v)) for k, v in env.items())), exe)


@dataclass
class WarmSlot:
    """One warm runner, as the host sees it."""

    spec: WarmSpec
    seed: int
    drawn: bool
    pid: int
    sock: socket.socket
    born: float = field(default_factory=time.monotonic)
    reserved_at: float | None = None

    def alive(self) -> bool:
        try:
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def close(self) -> None:
        """Let the warm runner go: it kills its kernel and exits when its socket closes."""
        with contextlib.suppress(OSError):
            self.sock.close()

    def describe(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "kernel_name": self.spec.kernel_name,
            "seed": self.seed,
            "drawn": self.drawn,
            "reserved": self.reserved_at is not None,
        }


class WarmPool:
    """The host's warm runners: up to ``size`` of each kind for drawn seeds and ``size`` for
    given ones (none when ``size`` is 0)."""

    def __init__(
        self, root: Path, size: int, close_in_child: Callable[[], None], renderer: Any
    ) -> None:
        self.root = root
        self.size = max(0, size)
        self.close_in_child = close_in_child
        self.renderer = renderer
        self.slots: list[WarmSlot] = []
        self._drawn_without_offer: dict[WarmSpec, list[float]] = {}
        """When runs of a kind found no warm runner for a drawn seed (they draw their own)."""
        self._used: dict[WarmSpec, float] = {}
        self._pending: list[tuple[WarmSpec, int | None]] = []

    def offer(self, request: dict[str, Any]) -> int | None:
        """A drawn seed for a run of the request's kind: a free warm runner's, reserved for
        that run; None (draw your own) when there is none, and one is started for the
        next."""
        spec = WarmSpec.of(request)
        if spec is None or not self.size:
            return None
        self._used[spec] = time.monotonic()
        for slot in self.slots:
            if slot.spec == spec and slot.drawn and slot.reserved_at is None and slot.alive():
                slot.reserved_at = time.monotonic()
                return slot.seed
        self._drawn_without_offer.setdefault(spec, []).append(time.monotonic())
        self._pending.append((spec, None))
        return None

    def take(self, request: dict[str, Any]) -> tuple[int | None, WarmSlot | None]:
        """Hand the run of ``request`` to a warm runner of its kind and seed: its pid once
        it named itself the run's runner (None: fork a cold runner), and that warm runner."""
        wanted = self._wanted(request)
        if wanted is None:
            return None, None
        spec, seed = wanted
        self._used[spec] = time.monotonic()
        for slot in [s for s in self.slots if s.spec == spec and s.seed == seed]:
            self.slots.remove(slot)
            pid = self._hand_over(slot, request)
            if pid:
                return pid, slot
        return None, None

    def after(self, request: dict[str, Any], taken: WarmSlot | None) -> None:
        """Keep a warm runner ready for the next run like ``request`` (forked after the
        reply, so off this run's path): of a drawn seed when the run's came from a warm
        runner kept for drawn seeds or was drawn when none was free, else of its seed."""
        wanted = self._wanted(request)
        if wanted is None:
            return
        spec, seed = wanted
        if taken is not None:
            self._pending.append((spec, None if taken.drawn else seed))
        elif self._recent_unoffered(spec):
            self._drawn_without_offer[spec].pop(0)  # its offer already asked for one
        else:
            self._pending.append((spec, seed))

    def fill_pending(self) -> None:
        """Fork the warm runners asked for since the last reply (called after it, so the
        fork is on no submitter's path)."""
        pending, self._pending = self._pending, []
        for spec, seed in pending:
            self._fill(spec, seed)

    def sweep(self) -> None:
        """Let go of dead, expired and surplus warm runners."""
        now = time.monotonic()
        for slot in list(self.slots):
            expired = (slot.reserved_at is not None and now - slot.reserved_at > RESERVE_S) or (
                now - self._used.get(slot.spec, slot.born) > IDLE_S
            )
            if not slot.alive():
                self._let_go(slot)
                shutil.rmtree(self.root / str(slot.pid), ignore_errors=True)  # it died early
            elif expired:
                self._let_go(slot)

    def forget_in_child(self) -> None:
        """In a process forked from the host: close its copies of the warm runners'
        sockets (the warm runners must see them close when the host goes)."""
        for slot in self.slots:
            with contextlib.suppress(OSError):
                slot.sock.close()

    def describe(self) -> list[dict[str, Any]]:
        return [slot.describe() for slot in self.slots if slot.alive()]

    # -- inside -------------------------------------------------------------------------

    def _wanted(self, request: dict[str, Any]) -> tuple[WarmSpec, int] | None:
        """The kind and seed of a run request that may use a warm runner, else None."""
        spec = WarmSpec.of(request) if request.get("warm") and self.size else None
        seed = request.get("seed")
        if spec is None or not isinstance(seed, int):
            return None
        return spec, seed

    def _recent_unoffered(self, spec: WarmSpec) -> bool:
        """Did a run of this kind draw its own seed lately (so this one is that run)?"""
        times = self._drawn_without_offer.get(spec, [])
        times[:] = [t for t in times if time.monotonic() - t <= RESERVE_S]
        return bool(times)

    def _fill(self, spec: WarmSpec, seed: int | None) -> None:
        """Fork a warm runner of ``spec`` with ``seed`` (None: a new drawn one) unless
        ``size`` free ones like it are kept already. A kind never has more than ``size``
        warm runners for drawn seeds and ``size`` for given ones, reserved ones included (a
        burst of submits does not fork one per run): the oldest free one of another given
        seed makes room, a reserved one never does."""
        self.sweep()
        drawn = seed is None
        mine = [s for s in self.slots if s.spec == spec and s.drawn == drawn]
        alike = [s for s in mine if s.reserved_at is None and (drawn or s.seed == seed)]
        if len(alike) >= self.size:
            return
        others = [s for s in mine if s.reserved_at is None and s not in alike]
        while len(mine) >= self.size and others:
            oldest = others.pop(0)
            mine.remove(oldest)
            self._let_go(oldest)
        if len(mine) >= self.size:
            return
        kinds = sorted({s.spec for s in self.slots} | {spec}, key=lambda k: self._used.get(k, 0))
        for stale in kinds[: max(0, len(kinds) - MAX_KINDS)]:
            for slot in [s for s in self.slots if s.spec == stale]:
                self._let_go(slot)
        chosen = secrets.randbelow(DRAWN_SEED_BOUND) if seed is None else seed
        slot = self._fork(spec, chosen, drawn)
        if slot is not None:
            self.slots.append(slot)

    def _let_go(self, slot: WarmSlot) -> None:
        if slot in self.slots:
            self.slots.remove(slot)
        slot.close()

    def _fork(self, spec: WarmSpec, seed: int, drawn: bool) -> WarmSlot | None:
        mine, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                mine.close()
                self.forget_in_child()
                self.close_in_child()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                from .warm_runner import warm_runner_main

                code = warm_runner_main(spec, seed, theirs, self.root, self.renderer)
            except BaseException:
                traceback.print_exc()
            finally:
                from .processes import exit_without_finalizing

                exit_without_finalizing(code)
        theirs.close()
        log.info("warm runner %d for kernel %s (seed %s)", pid, spec.kernel_name, seed)
        return WarmSlot(spec, seed, drawn, pid, mine)

    @staticmethod
    def _hand_over(slot: WarmSlot, request: dict[str, Any]) -> int | None:
        """Send the run to the warm runner; its pid once it took the run's name, or None
        (it is gone, refused, or too slow: it is killed, so a cold runner can take over)."""
        try:
            slot.sock.settimeout(HANDOFF_TIMEOUT_S)
            slot.sock.sendall(json.dumps(request).encode() + b"\n")
            named = slot.sock.recv(1) == b"1"
        except OSError:
            named = False
        slot.close()
        if named:
            return slot.pid
        with contextlib.suppress(OSError):
            os.killpg(slot.pid, signal.SIGKILL)  # it leads its own session
        return None
