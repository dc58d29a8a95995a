"""``ScheduleStore``: the queries and transactions of cron schedules.

It works on a :class:`~jupyter_mlops.store.RunStore`'s engine and sessions, so schedules
live in the run store (SQLite or PostgreSQL) next to the runs they fire. Firing (slot
claims, exactly once) is :mod:`jupyter_mlops.store.schedule_fires`; this module adds the
schedules themselves, their history and the scheduler leases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .base import found, id_or_name
from .claim_targets import PIPELINE, claimed_status
from .models import Run, Schedule, ScheduleFire, SchedulerLease
from .models_pipelines import PipelineRun
from .schedule_fires import ScheduleFiring, detached, for_update
from .types import utcnow


class ScheduleNotFound(LookupError):
    """No schedule with that id (the message names it, for CLI and REST errors)."""

    def __init__(self, schedule_id: str) -> None:
        super().__init__(f"no schedule with id {schedule_id!r}")
        self.schedule_id = schedule_id


class LastRun(NamedTuple):
    """A schedule's newest run (both None when it has none)."""

    run_id: str | None
    status: str | None


@dataclass(frozen=True)
class FireRecord:
    """A row of a schedule's fire history, with its run's status."""

    slot: datetime
    state: str
    run_id: str
    run_status: str | None
    holder: str
    claimed_at: datetime
    reason: str | None


class ScheduleStore(ScheduleFiring):
    """Schedules, fire claims and scheduler leases over a run store's engine."""

    # -- schedules ----------------------------------------------------------------------

    def create(self, schedule: Schedule) -> Schedule:
        now = utcnow()
        schedule.created_at = schedule.created_at or now
        schedule.updated_at = schedule.updated_at or now
        with self.runs.writing() as session:
            session.add(schedule)
        return self.require(schedule.id)

    def get(self, schedule_id: str) -> Schedule | None:
        with self.runs.reading() as session:
            row = session.get(Schedule, schedule_id)
            return detached(row) if row is not None else None

    def require(self, schedule_id: str) -> Schedule:
        return found(self.get(schedule_id), ScheduleNotFound(schedule_id))

    def resolve_id(self, key: str) -> str:
        """A schedule id, a unique prefix of one, or a unique schedule name."""
        with self.runs.reading() as session:
            return id_or_name(
                session, Schedule.id, Schedule.name, key, "schedule", ScheduleNotFound(key)
            )

    def list(self) -> list[tuple[Schedule, LastRun]]:
        """Every schedule (oldest first) with its last run (see :meth:`last_run`)."""
        newest = (
            select(Run.id)
            .where(Run.schedule_id == Schedule.id)
            .order_by(Run.created_at.desc(), Run.id.desc())
            .limit(1)
            .correlate(Schedule)
            .scalar_subquery()
        )
        with self.runs.reading() as session:
            rows = session.execute(
                select(Schedule, Run.id, Run.status)
                .outerjoin(Run, Run.id == func.coalesce(newest, Schedule.last_run_id))
                .order_by(Schedule.created_at, Schedule.id)
            ).all()
            found_rows = [(detached(s), LastRun(run_id, status)) for s, run_id, status in rows]
        return [(s, self.last_run(s) if s.target == PIPELINE else last) for s, last in found_rows]

    def last_run(self, schedule: Schedule) -> LastRun:
        """The schedule's newest run, id and status. Not only ``last_run_id``: the
        scheduler writes that just after submitting a slot's run, so in between the
        newest run already is the last one."""
        if schedule.target == PIPELINE:  # its pipeline runs: the last one fired
            with self.runs.reading() as session:
                row = session.execute(
                    select(PipelineRun.id, PipelineRun.status).where(
                        PipelineRun.id == schedule.last_run_id
                    )
                ).first()
            return LastRun(row[0], row[1]) if row is not None else LastRun(None, None)
        with self.runs.reading() as session:
            row = session.execute(
                select(Run.id, Run.status)
                .where(Run.schedule_id == schedule.id)
                .order_by(Run.created_at.desc(), Run.id.desc())
                .limit(1)
            ).first()
            if row is None and schedule.last_run_id is not None:
                row = session.execute(
                    select(Run.id, Run.status).where(Run.id == schedule.last_run_id)
                ).first()
        return LastRun(row[0], row[1]) if row is not None else LastRun(None, None)

    def update(self, schedule_id: str, compute: Callable[[Schedule], dict[str, Any]]) -> Schedule:
        """Change a schedule: ``compute(current row)`` returns the new field values; it runs
        inside the write transaction with the row locked, so a concurrent claim either
        happened before (and is seen) or fails its compare-and-set afterwards."""
        with self.runs.writing() as session:
            row = session.scalar(
                for_update(select(Schedule).where(Schedule.id == schedule_id), self.dialect)
            )
            if row is None:
                raise ScheduleNotFound(schedule_id)
            values = compute(detached(row))
            values["updated_at"] = utcnow()
            session.execute(
                update(Schedule)
                .where(Schedule.id == schedule_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return self.require(schedule_id)

    def delete(self, schedule_id: str) -> None:
        """Delete a schedule and its fire history; its runs stay (``schedule_id`` NULL)."""
        with self.runs.writing() as session:
            session.execute(
                update(Run)
                .where(Run.schedule_id == schedule_id)
                .values(schedule_id=None)
                .execution_options(synchronize_session=False)
            )
            session.execute(delete(ScheduleFire).where(ScheduleFire.schedule_id == schedule_id))
            result = session.execute(delete(Schedule).where(Schedule.id == schedule_id))
            if result.rowcount != 1:
                raise ScheduleNotFound(schedule_id)

    def set_last_run(self, schedule_id: str, run_id: str) -> None:
        with self.runs.writing() as session:
            session.execute(
                update(Schedule).where(Schedule.id == schedule_id).values(last_run_id=run_id)
            )

    def runs_of(self, schedule_id: str, limit: int = 20) -> list[Run]:
        with self.runs.reading() as session:
            return list(
                session.scalars(
                    select(Run)
                    .options(selectinload(Run.params), selectinload(Run.tags))
                    .where(Run.schedule_id == schedule_id)
                    .order_by(Run.created_at.desc(), Run.id.desc())
                    .limit(limit)
                ).all()
            )

    def fires(self, schedule_id: str, limit: int = 20) -> list[FireRecord]:
        """The schedule's most recent claimed slots, newest first, with their runs' status."""
        status, joins = claimed_status(ScheduleFire)
        query = select(ScheduleFire, status)
        for table, on in joins:
            query = query.outerjoin(table, on)
        with self.runs.reading() as session:
            rows = session.execute(
                query.where(ScheduleFire.schedule_id == schedule_id)
                .order_by(ScheduleFire.slot.desc())
                .limit(limit)
            ).all()
        return [
            FireRecord(
                slot=f.slot,
                state=f.state,
                run_id=f.run_id,
                run_status=status,
                holder=f.holder,
                claimed_at=f.claimed_at,
                reason=f.reason,
            )
            for f, status in rows
        ]

    # -- leases ---------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, *, ttl: float, now: datetime) -> bool:
        """Take or renew the lease ``name`` for ``ttl`` seconds; False while another holder's
        lease is unexpired."""
        expires = now + timedelta(seconds=ttl)
        try:
            with self.runs.writing() as session:
                result = session.execute(
                    update(SchedulerLease)
                    .where(
                        SchedulerLease.name == name,
                        or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now),
                    )
                    .values(holder=holder, expires_at=expires, acquired_at=now)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:
                    return True
                if session.get(SchedulerLease, name) is not None:
                    return False
                session.add(
                    SchedulerLease(name=name, holder=holder, acquired_at=now, expires_at=expires)
                )
                session.flush()
        except IntegrityError:
            return False  # another process created it first
        return True

    def release_lease(self, name: str, holder: str) -> None:
        with self.runs.writing() as session:
            session.execute(
                delete(SchedulerLease).where(
                    SchedulerLease.name == name, SchedulerLease.holder == holder
                )
            )

    def lease_holder(self, name: str, now: datetime) -> str | None:
        with self.runs.reading() as session:
            lease = session.get(SchedulerLease, name)
            return lease.holder if lease is not None and lease.expires_at >= now else None
