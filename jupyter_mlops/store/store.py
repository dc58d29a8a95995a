"""``RunStore``: every query and transaction of the run store lives here.

Callers get plain ORM objects detached from their session (``expire_on_commit`` is
off), so they can be read after the transaction without lazy loads. The store is
synchronous on purpose: the server calls it from a thread pool, runners and the CLI
call it directly.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ..config import Settings
from .engine import WRITE_OPTION, ensure_schema, make_engine
from .models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    Artifact,
    Environment,
    LatestMetric,
    Metric,
    MetricRollup,
    Run,
    RunEvent,
    RunParam,
    RunStatus,
    RunTag,
)
from .types import utcnow

ROLLUP_SHIFT = 3
"""Rollup level ``l`` buckets steps by ``step >> (ROLLUP_SHIFT * l)``: widths 8, 64, 512..."""
ROLLUP_LEVELS = tuple(range(1, 14))
"""Widths 8 ... 8**13 (about 5.5e11 steps); the top level also gives a series' totals."""
LOGGED_PARAM_TYPE = "logged"
"""``run_params.type_name`` of values logged with ``log_params`` (not job parameters)."""
LOGGED_PARAM_PREFIX = "logged."
"""Name prefix for a logged value that differs from a job parameter of the same name."""
METRIC_CHUNK = 50_000
"""Points per INSERT executemany (bounds the memory of one statement's parameters)."""

MetricPoint = tuple[str, int, "float | None", "datetime | float"]
"""(key, step, value, at): one point for ``RunStore.log_metrics_batch``. NaN may be None;
``at`` is an aware datetime or POSIX seconds (what the tracker records)."""


def _merge_rollup(into: list[Any], other: Sequence[Any]) -> None:
    """Merge aggregate ``other`` into ``into``: [count, first, last, min_s, min_v, max_s, max_v].

    Ties keep the earliest step, for the smallest and for the largest value alike, as the
    SQL upsert in ``log_metrics_batch`` and the raw-point path of ``metric_series`` do.
    """
    into[0] += other[0]
    if other[1] < into[1]:
        into[1] = other[1]
    if other[2] > into[2]:
        into[2] = other[2]
    v = other[4]
    if v is not None:
        cur = into[4]
        if cur is None or v < cur or (v == cur and other[3] < into[3]):
            into[3], into[4] = other[3], v
        cur = into[6]
        v = other[6]
        if cur is None or v > cur or (v == cur and other[5] < into[5]):
            into[5], into[6] = other[5], v


def rollup_rows(
    run_id: str, key: str, points: Iterable[tuple[int, float | None]]
) -> list[dict[str, Any]]:
    """Rollup rows (every level) summarising ``points`` = [(step, value or None), ...]."""
    level: dict[int, list[Any]] = {}
    shift = ROLLUP_SHIFT
    for step, value in points:
        bucket = step >> shift
        agg = level.get(bucket)
        if agg is None:
            if value is None:
                level[bucket] = [1, step, step, None, None, None, None]
            else:
                level[bucket] = [1, step, step, step, value, step, value]
        else:
            _merge_rollup(
                agg,
                (1, step, step, step, value, step, value)
                if value is not None
                else (1, step, step, None, None, None, None),
            )
    rows: list[dict[str, Any]] = []
    for lv in ROLLUP_LEVELS:
        if lv > ROLLUP_LEVELS[0]:
            coarser: dict[int, list[Any]] = {}
            for bucket, agg in level.items():
                parent = coarser.get(bucket >> shift)
                if parent is None:
                    coarser[bucket >> shift] = list(agg)
                else:
                    _merge_rollup(parent, agg)
            level = coarser
        for bucket, (count, first, last, min_s, min_v, max_s, max_v) in level.items():
            rows.append(
                {
                    "run_id": run_id,
                    "key": key,
                    "level": lv,
                    "bucket": bucket,
                    "count": count,
                    "first_step": first,
                    "last_step": last,
                    "min_step": min_s,
                    "min_value": min_v,
                    "max_step": max_s,
                    "max_value": max_v,
                }
            )
    return rows


def _float_or_none(value: float | None) -> float | None:
    if value is None or value != value:  # NaN: stored as NULL
        return None
    return float(value)


def _aware(value: datetime | float) -> datetime:
    if not isinstance(value, datetime):
        return datetime.fromtimestamp(value, timezone.utc)
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the run store; use timezone-aware values")
    return value


class _SqliteTimes:
    """What ``UTCDateTime`` writes on SQLite (naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``),
    from aware datetimes or POSIX seconds, reusing the formatted second (the bulk of a
    batch shares a handful of seconds): a third of the cost of datetime objects."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, value: datetime | float) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is not timezone.utc:
                value = _aware(value).astimezone(timezone.utc)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        second = int(value // 1)
        micro = round((value - second) * 1_000_000)
        if micro == 1_000_000:
            second, micro = second + 1, 0
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{micro:06d}"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RunNotFound(LookupError):
    """No run with that id (the message names it, for CLI and REST errors)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {run_id!r}")
        self.run_id = run_id


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    next_cursor: str | None


QUEUE_LOCK_KEY = 0x6D6C6F71  # "mloq": PostgreSQL advisory lock serializing slot claims
QUEUE_POSITION_ATTR = "queue_position"
"""Attribute set on queued :class:`Run` objects by :meth:`RunStore.annotate_queue_positions`
(1 = next to start); ``serialize.run_summary`` reads it."""
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


def _encode_cursor(run: Run) -> str:
    return f"{run.created_at.timestamp():.6f}:{run.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    from datetime import timezone

    try:
        stamp, run_id = cursor.split(":", 1)
        return datetime.fromtimestamp(float(stamp), tz=timezone.utc), run_id
    except ValueError as err:
        raise ValueError(f"malformed cursor {cursor!r}") from err


class RunStore:
    """The run store over one SQLAlchemy engine (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if migrate:
            ensure_schema(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> RunStore:
        return cls(settings.resolved_db_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def blob_lock(self, *, exclusive: bool) -> contextlib.AbstractContextManager[None]:
        """Writers of artifact blobs (shared) against the garbage collector (exclusive);
        see :mod:`jupyter_mlops.store.locks`."""
        from .locks import blob_lock

        return blob_lock(self.engine, exclusive=exclusive)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        with self._write.begin() as session:
            yield session

    # -- runs -------------------------------------------------------------------------

    def create_run(
        self,
        run: Run,
        *,
        params: Mapping[str, tuple[Any, str]] = {},
        tags: Iterable[str] = (),
    ) -> Run:
        """Insert a run with its parameters and tags in one transaction (all or nothing)."""
        run.status = RunStatus.QUEUED.value
        run.created_at = run.created_at or utcnow()
        run.params = [
            RunParam(name=name, value_json=json.dumps(value), type_name=type_name)
            for name, (value, type_name) in params.items()
        ]
        run.tags = [RunTag(tag=tag) for tag in sorted(set(tags))]
        with self.writing() as session:
            session.add(run)
            session.add(
                RunEvent(run_id=run.id, at=run.created_at, kind="status", status=run.status)
            )
        return self.require_run(run.id)

    def get_run(self, run_id: str) -> Run | None:
        with self.reading() as session:
            return session.scalar(
                select(Run)
                .where(Run.id == run_id)
                .options(selectinload(Run.params), selectinload(Run.tags))
            )

    def require_run(self, run_id: str) -> Run:
        run = self.get_run(run_id)
        if run is None:
            raise RunNotFound(run_id)
        return run

    def resolve_run_id(self, prefix: str) -> str:
        """Accept a unique prefix of a run id, as git does for commits."""
        if not prefix:
            raise RunNotFound(prefix)
        with self.reading() as session:
            ids = session.scalars(
                select(Run.id).where(Run.id.startswith(prefix, autoescape=True)).limit(2)
            ).all()
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise RunNotFound(prefix)
        raise LookupError(f"run id prefix {prefix!r} is ambiguous; give more characters")

    def list_runs(
        self,
        *,
        status: Sequence[str] | None = None,
        notebook: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Newest first, keyset-paginated on (created_at, id) so deep pages stay fast;
        queued runs carry their queue position."""
        from .queries import search_runs

        page = search_runs(
            self,
            status=status or (),
            notebook=notebook,
            tags=[tag] if tag else (),
            limit=limit,
            cursor=cursor,
        )
        self.annotate_queue_positions(page.runs)
        return page

    def annotate_queue_positions(self, runs: Sequence[Run]) -> Sequence[Run]:
        """Set ``queue_position`` on the queued runs among ``runs`` (one query per queue on
        the page, none when no run is queued); returns ``runs``."""
        positions = self.queue_positions(runs)
        for run in runs:
            setattr(run, QUEUE_POSITION_ATTR, positions.get(run.id))
        return runs

    def queue_positions(self, runs: Iterable[Run]) -> dict[str, int]:
        """{run id: position} of the queued runs among ``runs``; 1 is the next to start.

        A queue is a backend's on one host for the local backend (its runs wait for that
        machine's slots), one per backend otherwise (Dask orders its own queue; the
        position there is the submission order). Order: ``created_at``, then id.
        """
        groups: dict[tuple[str, str | None], list[Run]] = {}
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

    def _lock_queue(self, session: Session) -> None:
        """Serialize slot claims: SQLite writers already are (BEGIN IMMEDIATE); PostgreSQL
        takes a transaction-scoped advisory lock."""
        if self.dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": QUEUE_LOCK_KEY})

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
                self._lock_queue(session)
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

    def set_queued_runner(self, run_id: str, *, pid: int | None, host: str | None) -> bool:
        """Record which process waits for a queued run (only while it is queued)."""
        with self.writing() as session:
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.QUEUED.value)
                .values(runner_pid=pid, runner_host=host, heartbeat_at=utcnow())
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

    def active_runs(self) -> list[Run]:
        with self.reading() as session:
            return list(
                session.scalars(
                    select(Run).where(Run.status.in_([s.value for s in ACTIVE_STATUSES]))
                ).all()
            )

    def update_run(self, run_id: str, **fields: Any) -> None:
        with self.writing() as session:
            session.execute(update(Run).where(Run.id == run_id).values(**fields))

    def transition(
        self,
        run_id: str,
        status: RunStatus,
        *,
        reason: str | None = None,
        allowed_from: Iterable[RunStatus] | None = None,
        **fields: Any,
    ) -> bool:
        """Atomically move a run to ``status``; False when the run was not in a state
        that allows it.

        A terminal status is final: once a run has one, nothing overwrites it. This is
        what makes "exactly one terminal status" hold when the runner, a cancel request
        and the lost-run reconciler race each other.
        """
        sources = (
            {s.value for s in allowed_from}
            if allowed_from is not None
            else {s.value for s in RunStatus if s not in TERMINAL_STATUSES}
        )
        now = utcnow()
        values: dict[str, Any] = {"status": status.value, **fields}
        if reason is not None:
            values["status_reason"] = reason
        if status.is_terminal:
            values.setdefault("finished_at", now)
        if status in (RunStatus.STARTING, RunStatus.RUNNING):
            values.setdefault("heartbeat_at", now)
        with self.writing() as session:
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status.in_(sources))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return False
            session.add(
                RunEvent(run_id=run_id, at=now, kind="status", status=status.value, message=reason)
            )
        return True

    def heartbeat(self, run_id: str) -> None:
        self.update_run(run_id, heartbeat_at=utcnow())

    def request_cancel(self, run_id: str) -> None:
        self.update_run(run_id, cancel_requested=True)

    def cancel_requested(self, run_id: str) -> bool:
        """The run's cancel flag (one column: what a runner polls)."""
        with self.reading() as session:
            return bool(session.scalar(select(Run.cancel_requested).where(Run.id == run_id)))

    def record_progress(
        self,
        run_id: str,
        *,
        cells_done: int,
        current_cell: int | None,
        cell_events: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Cell progress and per-cell timings, batched by the runner into one transaction."""
        with self.writing() as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(cells_done=cells_done, current_cell=current_cell, heartbeat_at=utcnow())
            )
            if cell_events:
                session.add_all(RunEvent(run_id=run_id, kind="cell", **e) for e in cell_events)

    def events(self, run_id: str, *, kind: str | None = None) -> list[RunEvent]:
        query = select(RunEvent).where(RunEvent.run_id == run_id)
        if kind:
            query = query.where(RunEvent.kind == kind)
        with self.reading() as session:
            return list(session.scalars(query.order_by(RunEvent.id)).all())

    def delete_run(self, run_id: str) -> None:
        with self.writing() as session:
            session.execute(
                update(Run).where(Run.reproduced_from == run_id).values(reproduced_from=None)
            )
            result = session.execute(delete(Run).where(Run.id == run_id))
            if result.rowcount != 1:
                raise RunNotFound(run_id)

    def count_runs(self) -> int:
        with self.reading() as session:
            return session.scalar(select(func.count()).select_from(Run)) or 0

    # -- artifacts, environment, metrics --------------------------------------------------

    def add_artifact(self, artifact: Artifact) -> Artifact:
        with self.writing() as session:
            session.execute(
                delete(Artifact).where(
                    Artifact.run_id == artifact.run_id, Artifact.name == artifact.name
                )
            )
            session.add(artifact)
        return artifact

    def artifacts(self, run_id: str) -> list[Artifact]:
        with self.reading() as session:
            return list(
                session.scalars(
                    select(Artifact).where(Artifact.run_id == run_id).order_by(Artifact.id)
                ).all()
            )

    def get_artifact(self, run_id: str, name: str) -> Artifact | None:
        with self.reading() as session:
            return session.scalar(
                select(Artifact).where(Artifact.run_id == run_id, Artifact.name == name)
            )

    def artifact_refcount(self, sha256: str) -> int:
        with self.reading() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(Artifact).where(Artifact.sha256 == sha256)
                )
                or 0
            )

    def set_environment(self, run_id: str, data: Mapping[str, Any]) -> None:
        with self.writing() as session:
            session.merge(Environment(run_id=run_id, captured_at=utcnow(), data=dict(data)))

    def update_environment(self, run_id: str, patch: Mapping[str, Any]) -> None:
        """Merge top-level keys into the run's environment record (created if missing)."""
        with self.writing() as session:
            env = session.get(Environment, run_id)
            if env is None:
                session.add(Environment(run_id=run_id, captured_at=utcnow(), data=dict(patch)))
            else:
                env.data = {**(env.data or {}), **patch}

    def environment(self, run_id: str) -> dict[str, Any] | None:
        with self.reading() as session:
            env = session.get(Environment, run_id)
            return dict(env.data) if env else None

    def latest_metrics(self, run_id: str) -> dict[str, float]:
        with self.reading() as session:
            rows = session.execute(
                select(LatestMetric.key, LatestMetric.value).where(LatestMetric.run_id == run_id)
            ).all()
        return {key: value for key, value in rows}

    def stale_runs(self, *, lost_after: float) -> list[Run]:
        """Active runs whose last heartbeat (or creation) is older than ``lost_after``."""
        horizon = utcnow() - timedelta(seconds=lost_after)
        with self.reading() as session:
            return list(
                session.scalars(
                    select(Run).where(
                        Run.status.in_([s.value for s in ACTIVE_STATUSES]),
                        func.coalesce(Run.heartbeat_at, Run.created_at) < horizon,
                    )
                ).all()
            )

    # -- metrics (tracking) -----------------------------------------------------------

    def _dialect_insert(self, model: Any) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(model)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(model)

    def _metric_insert_sql(self) -> str:
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        return (
            "INSERT INTO metrics (run_id, key, step, value, at) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
        )

    def log_metrics_batch(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Store metric points ``(key, step, value, at)`` in one transaction.

        The points go in with one executemany INSERT; ``latest_metrics`` is upserted per
        key (the point with the highest step wins; on a tie, the later one) and the
        ``metric_rollups`` buckets are merged, all in the same transaction, so a reader
        never sees points without their summaries. NaN values are stored as NULL.
        """
        if not points:
            return
        rows: list[tuple[Any, ...]] = []
        latest: dict[str, dict[str, Any]] = {}
        series: dict[str, list[tuple[int, float | None]]] = {}
        at_param = _SqliteTimes() if self.dialect == "sqlite" else _aware
        for key, step, value, at in points:
            step = int(step)
            value = _float_or_none(value)
            rows.append((run_id, key, step, value, at_param(at)))
            current = latest.get(key)
            if current is None or step >= current["step"]:
                latest[key] = {"run_id": run_id, "key": key, "step": step, "value": value, "at": at}
            pts = series.get(key)
            if pts is None:
                series[key] = pts = []
            pts.append((step, value))
        rollups: list[dict[str, Any]] = []
        for key, pts in series.items():
            rollups.extend(rollup_rows(run_id, key, pts))

        for row in latest.values():
            if not isinstance(row["at"], datetime):
                row["at"] = datetime.fromtimestamp(row["at"], timezone.utc)
        lm = self._dialect_insert(LatestMetric)
        latest_stmt = lm.on_conflict_do_update(
            index_elements=[LatestMetric.run_id, LatestMetric.key],
            set_={"step": lm.excluded.step, "value": lm.excluded.value, "at": lm.excluded.at},
            where=lm.excluded.step >= LatestMetric.step,
        )
        ru = self._dialect_insert(MetricRollup)
        ex, cur = ru.excluded, MetricRollup
        take_min = and_(
            ex.min_value.is_not(None),
            or_(
                cur.min_value.is_(None),
                ex.min_value < cur.min_value,
                and_(ex.min_value == cur.min_value, ex.min_step < cur.min_step),
            ),
        )
        take_max = and_(
            ex.max_value.is_not(None),
            or_(
                cur.max_value.is_(None),
                ex.max_value > cur.max_value,
                and_(ex.max_value == cur.max_value, ex.max_step < cur.max_step),
            ),
        )
        rollup_stmt = ru.on_conflict_do_update(
            index_elements=[cur.run_id, cur.key, cur.level, cur.bucket],
            set_={
                "count": cur.count + ex.count,
                "first_step": case(
                    (ex.first_step < cur.first_step, ex.first_step), else_=cur.first_step
                ),
                "last_step": case(
                    (ex.last_step > cur.last_step, ex.last_step), else_=cur.last_step
                ),
                "min_step": case((take_min, ex.min_step), else_=cur.min_step),
                "min_value": case((take_min, ex.min_value), else_=cur.min_value),
                "max_step": case((take_max, ex.max_step), else_=cur.max_step),
                "max_value": case((take_max, ex.max_value), else_=cur.max_value),
            },
        )
        with self.writing() as session:
            conn = session.connection()
            # The bulk of the work: straight to the driver's executemany, without
            # SQLAlchemy's per-row parameter processing (which tripled the cost).
            sql = self._metric_insert_sql()
            for chunk in _chunks(rows, METRIC_CHUNK):
                conn.exec_driver_sql(sql, list(chunk))
            conn.execute(latest_stmt, list(latest.values()))
            for chunk in _chunks(rollups, METRIC_CHUNK):
                conn.execute(rollup_stmt, list(chunk))

    def metric_keys(self, run_id: str) -> list[str]:
        """The metric keys a run has logged, sorted."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(LatestMetric.key)
                    .where(LatestMetric.run_id == run_id)
                    .order_by(LatestMetric.key)
                ).all()
            )

    def metric_series(self, run_id: str, key: str, max_points: int | None = 1000) -> dict[str, Any]:
        """A metric series, downsampled in SQL when it has more than ``max_points`` points.

        Returns ``{"key", "total_points", "points": [(step, value), ...], "downsampled"}``,
        points in step order (NaN values come back as ``float("nan")``). ``max_points``
        None or 0: every point. Downsampling splits the step range into ``max_points // 2``
        buckets and keeps each bucket's smallest and largest value (spikes survive), so at
        most ``max_points`` points come back. It reads the coarsest rollup level that
        still has that many buckets (at most ~8x as many rows as buckets) and merges
        neighbouring buckets with window functions; only short series are bucketed from
        the raw points. Bucket edges are therefore aligned to the level's width.
        """
        R, M = MetricRollup, Metric
        top = ROLLUP_LEVELS[-1]
        with self.reading() as session:
            conn = session.connection()
            total, first, last = conn.execute(
                select(func.sum(R.count), func.min(R.first_step), func.max(R.last_step)).where(
                    R.run_id == run_id, R.key == key, R.level == top
                )
            ).one()
            total = int(total or 0)
            result: dict[str, Any] = {
                "key": key,
                "total_points": total,
                "points": [],
                "downsampled": False,
            }
            if total == 0:
                return result
            if not max_points or total <= max_points:
                rows = conn.execute(
                    select(M.step, M.value)
                    .where(M.run_id == run_id, M.key == key)
                    .order_by(M.step, M.id)
                ).all()
                result["points"] = [(s, math.nan if v is None else v) for s, v in rows]
                return result
            buckets = max(1, max_points // 2)
            level = 0
            for lv in reversed(ROLLUP_LEVELS):
                shift = ROLLUP_SHIFT * lv
                if (last >> shift) - (first >> shift) + 1 >= buckets:
                    level = lv
                    break
            if level == 0:  # a short step range: bucket the raw points
                width = -(-(last - first + 1) // buckets)
                group = (M.step - literal(first, BigInteger)) // literal(width, BigInteger)
                source = (
                    select(
                        group.label("g"),
                        M.step.label("lo_step"),
                        M.value.label("lo_value"),
                        M.step.label("hi_step"),
                        M.value.label("hi_value"),
                    )
                    .where(M.run_id == run_id, M.key == key, M.value.is_not(None))
                    .subquery()
                )
            else:
                shift = ROLLUP_SHIFT * level
                first_bucket = first >> shift
                span = (last >> shift) - first_bucket + 1
                factor = -(-span // buckets)
                group = (R.bucket - literal(first_bucket, BigInteger)) // literal(
                    factor, BigInteger
                )
                source = (
                    select(
                        group.label("g"),
                        R.min_step.label("lo_step"),
                        R.min_value.label("lo_value"),
                        R.max_step.label("hi_step"),
                        R.max_value.label("hi_value"),
                    )
                    .where(
                        R.run_id == run_id,
                        R.key == key,
                        R.level == level,
                        R.min_value.is_not(None),
                    )
                    .subquery()
                )
            c = source.c
            ranked = select(
                c.lo_step,
                c.lo_value,
                c.hi_step,
                c.hi_value,
                func.row_number()
                .over(partition_by=c.g, order_by=(c.lo_value.asc(), c.lo_step.asc()))
                .label("lo_rank"),
                func.row_number()
                .over(partition_by=c.g, order_by=(c.hi_value.desc(), c.hi_step.asc()))
                .label("hi_rank"),
            ).subquery()
            r = ranked.c
            rows = conn.execute(
                union_all(
                    select(r.lo_step, r.lo_value).where(r.lo_rank == 1),
                    select(r.hi_step, r.hi_value).where(r.hi_rank == 1),
                )
            ).all()
        result["points"] = sorted({(int(s), float(v)) for s, v in rows})
        result["downsampled"] = True
        return result

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> dict[str, str]:
        """Record values logged from the notebook as run params of type ``"logged"``.

        Job parameters are never overwritten: a logged value equal to the job parameter
        of the same name is already recorded and is skipped; a different one is stored as
        ``logged.<name>``. Logging a name again replaces the logged value. Returns
        {given name: stored name} for what was written. Values must be JSON-serializable.
        """
        written: dict[str, str] = {}
        with self.writing() as session:
            existing = {
                p.name: p
                for p in session.scalars(
                    select(RunParam).where(
                        RunParam.run_id == run_id, RunParam.name.in_(list(params))
                    )
                ).all()
            }
            for name, value in params.items():
                stored = name
                job_param = existing.get(name)
                if job_param is not None and job_param.type_name != LOGGED_PARAM_TYPE:
                    if json.loads(job_param.value_json) == value:
                        continue
                    stored = LOGGED_PARAM_PREFIX + name
                session.merge(
                    RunParam(
                        run_id=run_id,
                        name=stored,
                        value_json=json.dumps(value),
                        type_name=LOGGED_PARAM_TYPE,
                    )
                )
                written[name] = stored
        return written

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set ``key=value`` tags: a key's previous ``key=...`` tag is replaced."""
        with self.writing() as session:
            for key, value in tags.items():
                session.execute(
                    delete(RunTag).where(
                        RunTag.run_id == run_id, RunTag.tag.startswith(f"{key}=", autoescape=True)
                    )
                )
                session.add(RunTag(run_id=run_id, tag=f"{key}={value}"))

    def unreferenced_artifact_digests(self, digests: Iterable[str]) -> set[str]:
        """Those of ``digests`` that no artifact row of any run refers to any more."""
        wanted = sorted(set(digests))
        referenced: set[str] = set()
        with self.reading() as session:
            for chunk in _chunks(wanted, 500):
                referenced.update(
                    session.scalars(
                        select(Artifact.sha256).where(Artifact.sha256.in_(list(chunk))).distinct()
                    ).all()
                )
        return set(wanted) - referenced
