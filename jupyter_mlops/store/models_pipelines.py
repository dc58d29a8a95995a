"""The tables of notebook pipelines: a pipeline run, its steps, and each step's attempts.

A pipeline run's progress lives here, not in any process: whichever process holds the
run's lease (``lease_holder`` until ``lease_expires_at``) advances it, and every step
change is a compare-and-set on the step's status, so a step is submitted once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base
from .types import JSONType, UTCDateTime, utcnow


def pipeline_owned(**options: Any) -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("pipeline_runs.id", ondelete="CASCADE"), **options)


class PipelineRun(Base):
    """One run of a pipeline file: one snapshot, the file as committed, the ``-p`` values."""

    __tablename__ = "pipeline_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    name: Mapped[str] = mapped_column(String(255))
    pipeline_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="cli")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSONType)
    no_cache: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_by: Mapped[str | None] = mapped_column(Text)
    """Which schedule slot or trigger event started it (None: started by hand)."""
    lease_holder: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PipelineStep(Base):
    """A step of a pipeline run: its current status, attempt, run and cache key."""

    __tablename__ = "pipeline_steps"

    pipeline_id: Mapped[str] = pipeline_owned(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    needs: Mapped[list[str]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[str | None] = mapped_column(String(32))
    cached_from: Mapped[str | None] = mapped_column(String(32))
    cache_key: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PipelineStepAttempt(Base):
    """One attempt of a step: the run it submitted, or the run it was served from."""

    __tablename__ = "pipeline_step_attempts"

    pipeline_id: Mapped[str] = pipeline_owned(primary_key=True)
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    cached_from: Mapped[str | None] = mapped_column(String(32))
    cache_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
