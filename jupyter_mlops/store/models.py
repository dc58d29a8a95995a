"""The run store's tables (SQLAlchemy 2 typed ORM).

Changing a table here needs an Alembic revision in ``store/migrations/versions``;
``tests/test_store.py::test_migrations_match_models`` fails when the two drift apart.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column, relationship

from .types import JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RunStatus(str, Enum):
    """Life cycle of a run. Exactly one terminal status is ever recorded."""

    QUEUED = "queued"
    STARTING = "starting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    LOST = "lost"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
        RunStatus.TIMED_OUT,
        RunStatus.LOST,
    }
)
ACTIVE_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.STARTING, RunStatus.RUNNING})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def run_owned(**options: Any) -> Mapped[str]:
    """The ``run_id`` column of a table whose rows belong to a run: they go when it goes."""
    return mapped_column(String(32), ForeignKey("runs.id", ondelete="CASCADE"), **options)


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="cli")
    submitted_by: Mapped[str | None] = mapped_column(String(255))
    """Who submitted the run: the jupyter-server identity (REST, UI), the OS user or
    ``--user`` (CLI); None for runs recorded before it was kept."""
    backend: Mapped[str] = mapped_column(String(16), default="local")

    notebook_path: Mapped[str] = mapped_column(Text, index=True)
    notebook_abspath: Mapped[str] = mapped_column(Text)
    kernel_name: Mapped[str] = mapped_column(String(255))
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    cuda_visible_devices: Mapped[str | None] = mapped_column(String(255))
    timeout_s: Mapped[float | None] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(BigInteger)

    commit_sha: Mapped[str] = mapped_column(String(64))
    snapshot_ref: Mapped[str] = mapped_column(String(255))
    git_dir: Mapped[str] = mapped_column(Text)
    worktree: Mapped[str] = mapped_column(Text)
    notebook_relpath: Mapped[str] = mapped_column(Text)
    branch: Mapped[str | None] = mapped_column(String(255))
    base_commit: Mapped[str | None] = mapped_column(String(64))
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    dirty_files: Mapped[list[str] | None] = mapped_column(JSONType)
    """Which files differed from HEAD (at most ``snapshot.create.DIRTY_FILES_LISTED``; runs
    from before migration 0005: None)."""
    dirty_count: Mapped[int | None] = mapped_column(Integer)
    """How many files differed in all (the list above may be cut short)."""
    private_repo: Mapped[bool] = mapped_column(Boolean, default=False)
    reproduced_from: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="SET NULL")
    )

    run_dir: Mapped[str | None] = mapped_column(Text)
    runner_pid: Mapped[int | None] = mapped_column(Integer)
    runner_create_time: Mapped[float | None] = mapped_column(Float)
    """When the runner started, in seconds since its machine booted (older rows: psutil's
    epoch ``create_time``): with ``runner_pid`` its identity, so a reused pid is never
    signalled (see :func:`jupyter_mlops.processes.started_since_boot`)."""
    runner_host: Mapped[str | None] = mapped_column(String(255))
    kernel_pid: Mapped[int | None] = mapped_column(Integer)
    kernel_create_time: Mapped[float | None] = mapped_column(Float)
    """When the kernel started, as ``runner_create_time``."""
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    cells_total: Mapped[int | None] = mapped_column(Integer)
    cells_done: Mapped[int] = mapped_column(Integer, default=0)
    current_cell: Mapped[int | None] = mapped_column(Integer)

    error_cell_index: Mapped[int | None] = mapped_column(Integer)
    error_execution_count: Mapped[int | None] = mapped_column(Integer)
    """The failing cell's ``In [n]``, as JupyterLab numbers it (from migration 0005)."""
    error_ename: Mapped[str | None] = mapped_column(Text)
    error_evalue: Mapped[str | None] = mapped_column(Text)
    error_traceback: Mapped[str | None] = mapped_column(Text)

    schedule_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("schedules.id", ondelete="SET NULL"), index=True
    )
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The schedule's slot (its due instant) this run was fired for; None for run-now."""

    params: Mapped[list[RunParam]] = relationship(
        back_populates="run",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RunParam.name",
    )
    tags: Mapped[list[RunTag]] = relationship(
        back_populates="run",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RunTag.tag",
    )

    @property
    def status_enum(self) -> RunStatus:
        return RunStatus(self.status)


class RunParam(Base):
    __tablename__ = "run_params"

    run_id: Mapped[str] = run_owned(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    type_name: Mapped[str] = mapped_column(String(32))
    overridden: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Given for the run (typed, on the CLI, by a schedule) rather than the notebook's default
    as inspected at submit. Rows of runs from before migration 0005 are all True: only
    overrides were recorded then."""

    run: Mapped[Run] = relationship(back_populates="params")


class RunTag(Base):
    __tablename__ = "run_tags"

    run_id: Mapped[str] = run_owned(primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)

    run: Mapped[Run] = relationship(back_populates="tags")


class RunEvent(Base):
    """Status changes and cell progress, in order: the run's timeline."""

    __tablename__ = "run_events"
    __table_args__ = (Index("ix_run_events_run_id_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = run_owned()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # "status" | "cell"
    status: Mapped[str | None] = mapped_column(String(16))
    cell_index: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)


class Metric(Base):
    """One logged metric point. ``value`` is NULL for NaN (SQLite cannot store NaN).

    Several points may share a step (nothing logged is dropped). Points are written only
    through ``RunStore.log_metrics_batch``, which keeps ``latest_metrics`` and
    ``metric_rollups`` in step with this table in the same transaction.
    """

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_run_id_key_step", "run_id", "key", "step"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = run_owned()
    key: Mapped[str] = mapped_column(String(255))
    step: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LatestMetric(Base):
    """The last value per (run, key), so lists and sorting never scan all points."""

    __tablename__ = "latest_metrics"

    run_id: Mapped[str] = run_owned(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)  # NULL: NaN
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MetricRollup(Base):
    """Min/max summaries of a metric series over fixed step buckets, at several widths.

    Level ``l`` buckets steps by ``step >> (3 * l)`` (widths 8, 64, 512, ... 8**13), and
    each row keeps the point count, the first and last step, and the points with the
    smallest and largest value (so spikes survive downsampling). Serving a chart then
    reads at most a few thousand rows of one level instead of scanning every point:
    a full scan of 1,000,000 points alone costs 70-110 ms on SQLite, a GROUP BY over
    them 220-340 ms. Maintained by ``RunStore.log_metrics_batch`` only.
    """

    __tablename__ = "metric_rollups"
    __table_args__ = {"sqlite_with_rowid": False}

    run_id: Mapped[str] = run_owned(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    first_step: Mapped[int] = mapped_column(BigInteger)
    last_step: Mapped[int] = mapped_column(BigInteger)
    min_step: Mapped[int | None] = mapped_column(BigInteger)  # NULL: only NaN so far
    min_value: Mapped[float | None] = mapped_column(Float)
    max_step: Mapped[int | None] = mapped_column(BigInteger)
    max_value: Mapped[float | None] = mapped_column(Float)


class Artifact(Base):
    """A file a run produced; the bytes live content-addressed in the artifact root."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("run_id", "name", name="uq_artifacts_run_id_name"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = run_owned(index=True)
    name: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(32))  # notebook | html | model | file | log
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Environment(Base):
    """What the run ran on: interpreter, packages, git, torch/CUDA, GPUs (secrets filtered)."""

    __tablename__ = "environments"

    run_id: Mapped[str] = run_owned(primary_key=True)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


def target_column() -> Mapped[str]:
    """What a schedule or trigger fires, and what a claim's id names: ``notebook`` (a run)
    or ``pipeline`` (a pipeline run)."""
    return mapped_column(String(16), default="notebook", server_default="notebook")


class Schedule(Base):
    """A notebook run on a cron schedule (evaluated in ``timezone``), from the working copy
    or from the head of a git branch at fire time."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_active_next_fire_at", "active", "next_fire_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notebook_path: Mapped[str] = mapped_column(Text)
    notebook_abspath: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = target_column()
    """``notebook``, or ``pipeline``: ``notebook_path`` is then a pipeline file."""
    branch: Mapped[str | None] = mapped_column(String(255))
    """None: the working copy as it is at fire time; else the branch's head commit."""
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    kernel_name: Mapped[str | None] = mapped_column(String(255))
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    timeout_s: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[list[str]] = mapped_column(JSONType)

    cron: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    catchup: Mapped[str] = mapped_column(String(8), default="skip")  # skip | once | all
    max_catchup: Mapped[int] = mapped_column(Integer, default=10)
    concurrency: Mapped[str] = mapped_column(String(8), default="allow")  # allow|skip|queue

    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_fired_slot: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_id: Mapped[str | None] = mapped_column(String(32))


class ScheduleFire(Base):
    """One claimed (schedule, slot): the primary key is what makes a slot fire exactly once.

    The run id is chosen when the slot is claimed, in the same transaction, so a claim whose
    scheduler died before submitting is found (no run with that id) and recorded as a failed
    run with that very id; a late submit then collides with it instead of running twice.
    """

    __tablename__ = "schedule_fires"
    __table_args__ = (Index("ix_schedule_fires_state_claimed_at", "state", "claimed_at"),)

    schedule_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = target_column()
    """What ``run_id`` names: a run (``notebook``) or a pipeline run (``pipeline``)."""
    state: Mapped[str] = mapped_column(String(16))  # pending | waiting | done | skipped
    holder: Mapped[str] = mapped_column(String(255))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)


class SchedulerLease(Base):
    """A named lease (one holder until ``expires_at``) for scheduler housekeeping that
    needs a single leader; firing itself never depends on it."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def configure_orm() -> None:
    """Configure every mapper now rather than on the first query (a runner host does it
    once for all the runners it forks)."""
    configure_mappers()
