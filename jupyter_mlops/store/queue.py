"""The slot queue: which queued run may start, under one lock, counted from statuses.

See :mod:`jupyter_mlops.backends.queue` for the design (runners wait in ``queued`` and
claim a slot here); this module holds the queries: queue positions, the locked claim,
and a waiting runner's bookkeeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from .base import StoreBase
from .locks import QUEUE, lock_in_transaction
from .models import Run, RunEvent, RunStatus
from .run_rows import QUEUE_POSITION_ATTR, RunRow
from .types import utcnow

_CLAIMED = (RunStatus.STARTING.value, RunStatus.RUNNING.value)


@dataclass(frozen=True)
class SlotClaim:
    """What one attempt to take a run slot found (see :meth:`RunStore.claim_slot`)."""

    claimed: bool
    status: str | None
    """The run's status after the attempt; None when there is no such run."""
    devices: str | None = None
    """The GPUs granted (``CUDA_VISIBLE_DEVICES``), when claimed."""
    position: int | None = None
    """While waiting: 1 when next to start, n when n - 1 earlier runs are ahead."""
    waiting_for: str | None = None
    """While waiting: what for, in words."""
    ready: bool = False
    """A dry run found the slot free."""
    cancel_requested: bool = False
    impossible: str | None = None
    """The request can never be met here (more GPUs than this host has)."""


def _device_list(value: str | None) -> list[int]:
    return [int(p) for p in (value or "").split(",") if p.strip().isdigit()]


class SlotQueue(StoreBase):
    """Queue positions and slot claims (a part of :class:`~jupyter_mlops.store.RunStore`)."""

    def annotate_queue_positions(
        self, runs: Sequence[Run] | Sequence[RunRow]
    ) -> Sequence[Run] | Sequence[RunRow]:
        """Set ``queue_position`` on the queued runs among ``runs`` (one query per queue on
        the page, none when no run is queued); returns ``runs``."""
        positions = self.queue_positions(runs)
        for run in runs:
            setattr(run, QUEUE_POSITION_ATTR, positions.get(run.id))
        return runs

    def queue_positions(self, runs: Iterable[Run | RunRow]) -> dict[str, int]:
        """{run id: position} of the queued runs among ``runs``; 1 is the next to start.

        A queue is a backend's on one host for the local backend (its runs wait for that
        machine's slots), one per backend otherwise (Dask orders its own queue; the
        position there is the submission order). Order: ``created_at``, then id.
        """
        groups: dict[tuple[str, str | None], list[Run | RunRow]] = {}
        for run in runs:
            if run.status == RunStatus.QUEUED.value:
                host = run.runner_host if run.backend == "local" else None
                groups.setdefault((run.backend, host), []).append(run)
        positions: dict[str, int] = {}
        if not groups:
            return positions
        with self.reading() as session:
            for (backend, host), members in groups.items():
                newest = max(r.created_at for r in members)
                query = select(Run.id).where(
                    Run.status == RunStatus.QUEUED.value,
                    Run.backend == backend,
                    Run.created_at <= newest,
                )
                if backend == "local":
                    query = query.where(
                        Run.runner_host == host if host is not None else Run.runner_host.is_(None)
                    )
                order = session.scalars(query.order_by(Run.created_at, Run.id)).all()
                index = {run_id: i + 1 for i, run_id in enumerate(order)}
                for run in members:
                    if run.id in index:
                        positions[run.id] = index[run.id]
        return positions

    def runs_waiting(self, backend: str, host: str | None) -> bool:
        """Does a run of this queue (a backend's, on one host for the local backend) wait
        for a slot? One indexed look, for a runner deciding whether optional work may take
        CPU from the runs behind it."""
        with self.reading() as session:
            query = select(Run.id).where(
                Run.status == RunStatus.QUEUED.value, Run.backend == backend
            )
            if backend == "local":
                query = query.where(
                    Run.runner_host == host if host is not None else Run.runner_host.is_(None)
                )
            return session.scalars(query.limit(1)).first() is not None

    def claim_slot(
        self,
        run_id: str,
        *,
        host: str,
        max_concurrent: int | None,
        gpu_indices: Sequence[int],
        fifo: bool = True,
        dry_run: bool = False,
        **fields: Any,
    ) -> SlotClaim:
        """Atomically move a queued run to ``starting`` when a slot is free for it.

        The run store is the queue: the slots of host ``host`` are taken by its runs in
        ``starting``/``running``. Under one lock (so two runners never take the last slot
        twice, whichever process they live in), the run is claimed only when

        * ``fifo``: no queued run of its pool (same backend, same host) is older (first
          come, first served: a run asking for many GPUs at the head of the queue holds
          back later runs, even ones that would fit, so it is never starved);
        * ``max_concurrent``: fewer runs of its pool are active than that (None: no limit);
        * its ``gpus`` are free among ``gpu_indices``, counting the devices held by every
          active run on the host, whichever backend started it; the lowest free indices
          are granted and recorded as ``cuda_visible_devices``.

        Claiming sets ``started_at``, the heartbeat and ``fields`` (runner pid, host, run
        dir) and records the status event. ``dry_run`` only evaluates, without the lock
        and without writing (cheap polling before a real attempt).
        """
        with self.reading() if dry_run else self.writing() as session:
            if not dry_run:
                lock_in_transaction(session, QUEUE)  # slot claims one at a time
            row = session.execute(
                select(
                    Run.status, Run.gpus, Run.created_at, Run.backend, Run.cancel_requested
                ).where(Run.id == run_id)
            ).one_or_none()
            if row is None:
                return SlotClaim(False, None)
            status, gpus, created_at, backend, cancel = row
            if status != RunStatus.QUEUED.value:
                return SlotClaim(False, status)
            if cancel:
                return SlotClaim(False, status, cancel_requested=True)
            pool = and_(Run.backend == backend, Run.runner_host == host)
            if fifo:
                ahead = session.scalar(
                    select(func.count())
                    .select_from(Run)
                    .where(
                        pool,
                        Run.status == RunStatus.QUEUED.value,
                        or_(
                            Run.created_at < created_at,
                            and_(Run.created_at == created_at, Run.id < run_id),
                        ),
                    )
                )
                if ahead:
                    return SlotClaim(
                        False,
                        status,
                        position=ahead + 1,
                        waiting_for=f"{ahead} earlier run(s) ahead in the queue",
                    )
            if max_concurrent is not None:
                active = session.scalar(
                    select(func.count()).select_from(Run).where(pool, Run.status.in_(_CLAIMED))
                )
                if (active or 0) >= max_concurrent:
                    return SlotClaim(
                        False,
                        status,
                        position=1,
                        waiting_for=f"all {max_concurrent} run slot(s) of {host} are busy",
                    )
            devices: str | None = None
            if gpus:
                if gpus > len(gpu_indices):
                    return SlotClaim(
                        False,
                        status,
                        impossible=f"the run asks for {gpus} GPU(s) but {host} has "
                        f"{len(gpu_indices)}",
                    )
                held: set[int] = set()
                for (cvd,) in session.execute(
                    select(Run.cuda_visible_devices).where(
                        Run.runner_host == host,
                        Run.status.in_(_CLAIMED),
                        Run.cuda_visible_devices.is_not(None),
                        Run.id != run_id,
                    )
                ):
                    held.update(_device_list(cvd))
                free = [i for i in gpu_indices if i not in held]
                if len(free) < gpus:
                    return SlotClaim(
                        False,
                        status,
                        position=1,
                        waiting_for=f"{gpus} free GPU(s) ({len(free)} of {len(gpu_indices)} free)",
                    )
                devices = ",".join(str(i) for i in free[:gpus])
            if dry_run:
                return SlotClaim(False, status, position=1, ready=True, devices=devices)
            now = utcnow()
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.QUEUED.value)
                .values(
                    status=RunStatus.STARTING.value,
                    cuda_visible_devices=devices,
                    started_at=now,
                    heartbeat_at=now,
                    **fields,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return SlotClaim(False, status)
            session.add(
                RunEvent(run_id=run_id, at=now, kind="status", status=RunStatus.STARTING.value)
            )
        return SlotClaim(True, RunStatus.STARTING.value, devices=devices)

    def take_started_run(self, run_id: str, *, pid: int, create_time: float | None) -> bool:
        """Name this process the runner of a run a dispatcher claimed a slot for
        (``starting``), unless another runner already is: whether it is now this one's.
        One statement, so of two runners started for one run only one ever runs it."""
        with self.writing() as session:
            result = session.execute(
                update(Run)
                .where(
                    Run.id == run_id,
                    Run.status == RunStatus.STARTING.value,
                    or_(Run.runner_pid.is_(None), Run.runner_pid == pid),
                )
                .values(runner_pid=pid, runner_create_time=create_time)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)

    def set_queued_runner(
        self,
        run_id: str,
        *,
        pid: int | None,
        host: str | None,
        create_time: float | None = None,
    ) -> bool:
        """Record which process waits for a queued run (only while it is queued), with its
        start time (``create_time``: what proves a later process with that pid is it)."""
        with self.writing() as session:
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.QUEUED.value)
                .values(
                    runner_pid=pid,
                    runner_host=host,
                    runner_create_time=create_time,
                    heartbeat_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)

    def queued_heartbeat(self, run_id: str) -> None:
        """A waiting runner's sign of life (only while its run is queued)."""
        with self.writing() as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.QUEUED.value)
                .values(heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
