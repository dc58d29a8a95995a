"""The tables of event triggers: what fires a run when code, data or a figure says so.

Siblings of the cron schedules (:class:`~jupyter_mlops.store.models.Schedule`): the same run
settings, the same exactly-once claims, the same scheduler processes. A trigger's ``state``
is what its watcher has seen so far (the last commit, data hash, metric point); ``version``
counts every change of it, so advancing a trigger is a compare-and-set that exactly one of
several scheduler processes wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, target_column
from .types import JSONType, UTCDateTime, utcnow

TRIGGER_KINDS = ("commit", "data", "drift", "metric")


class Trigger(Base):
    """A notebook run fired by events of one ``kind``, configured by ``config``."""

    __tablename__ = "triggers"
    __table_args__ = (Index("ix_triggers_active_next_check_at", "active", "next_check_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notebook_path: Mapped[str] = mapped_column(Text)
    notebook_abspath: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = target_column()
    """``notebook``, or ``pipeline``: ``notebook_path`` is then a pipeline file."""
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    kernel_name: Mapped[str | None] = mapped_column(String(255))
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    timeout_s: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[list[str]] = mapped_column(JSONType)

    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    """What to watch: ``branch``/``paths``/``policy`` (commit), ``uri`` (data, drift),
    ``reference``/``column_psi``/``ks`` (drift), ``condition``/``stream``/``for`` (metric)."""
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    """What the watcher has seen: ``last_commit``, ``last_sha256``, ``last_point``, ``crossed``."""
    version: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_id: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)


class TriggerEvent(Base):
    """One event a trigger saw. The primary key ``(trigger_id, key)`` (a commit sha, a data
    hash, a metric point) is what makes an event fire at most once; the run id is chosen at
    claim time, as for schedule slots, so a claimer that dies before submitting is found."""

    __tablename__ = "trigger_events"
    __table_args__ = (
        Index("ix_trigger_events_state_claimed_at", "state", "claimed_at"),
        Index("ix_trigger_events_run_id", "run_id"),
    )

    trigger_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("triggers.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str] = target_column()
    """What ``run_id`` names: a run (``notebook``) or a pipeline run (``pipeline``)."""
    state: Mapped[str] = mapped_column(String(16))  # pending | done | skipped
    holder: Mapped[str] = mapped_column(String(255))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    """Why it fired: the commit, the old and new hashes, drift figures, metric values."""
    reason: Mapped[str | None] = mapped_column(Text)


class StreamPoint(Base):
    """A production figure (``log_metric(..., stream=...)``, ``metrics push``): not a run's
    metric but a monitored stream's, which metric triggers watch."""

    __tablename__ = "stream_points"
    __table_args__ = (Index("ix_stream_points_stream_key_id", "stream", "key", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    stream: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[int | None] = mapped_column(BigInteger)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
