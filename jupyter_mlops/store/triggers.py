"""``TriggerStore``: event triggers, their exactly-once event claims, and monitored streams.

Exactly once, across any number of scheduler processes sharing the store:

* A watcher reads a trigger (``state`` and ``version``), looks at the world (a branch's
  commits, a dataset's hash, a stream's new points) and calls :meth:`TriggerStore.advance`
  with the new state and the events it saw. ``advance`` is a compare-and-set on
  ``version``: of several processes that saw the same thing, exactly one advances the
  trigger; the others get ``None`` and submit nothing.
* Each event row (primary key ``(trigger_id, key)``: the commit sha, the data hash, the
  point id) carries the run id chosen at claim time, as schedule slots do: a claimer that
  dies before submitting leaves a ``pending`` event whose run does not exist, which
  :meth:`recover_stale_events` records as a failed run *with that id*, so a late submit
  collides with it instead of running twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .base import found, id_or_name
from .claim_targets import (
    PIPELINE,
    add_failed_pipeline_run,
    claim_id,
    claimed_exists,
    claimed_status,
)
from .locks import STREAM_POINTS, lock_in_transaction
from .models_triggers import StreamPoint, Trigger, TriggerEvent
from .schedule_fires import add_failed_run
from .store import RunStore
from .types import utcnow

PENDING = "pending"
"""Claimed; the claimer is submitting the run (or died doing so: see recovery)."""
DONE = "done"
"""The event's run exists (whatever its status)."""
SKIPPED = "skipped"
"""Seen but not run, with a reason (e.g. a commit superseded by a newer one)."""


class TriggerNotFound(LookupError):
    """No trigger with that id (the message names it, for CLI and REST errors)."""

    def __init__(self, trigger_id: str) -> None:
        super().__init__(f"no trigger with id {trigger_id!r}")
        self.trigger_id = trigger_id


@dataclass(frozen=True)
class NewEvent:
    """An event a watcher saw: ``run`` False records it as skipped with ``reason``."""

    key: str
    details: dict[str, Any] = field(default_factory=dict)
    run: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class ClaimedEvent:
    """An event this process claimed and must submit (a detached copy of its trigger)."""

    trigger: Trigger
    key: str
    run_id: str
    details: dict[str, Any]
    claimed_at: datetime
    target: str = "notebook"
    """What ``run_id`` names: a run, or a pipeline run (``pipeline``)."""


@dataclass(frozen=True)
class EventRecord:
    """A row of a trigger's event history, with its run's status."""

    key: str
    state: str
    run_id: str | None
    run_status: str | None
    claimed_at: datetime
    details: dict[str, Any]
    reason: str | None


@dataclass(frozen=True)
class StreamValue:
    """One point of a monitored stream."""

    id: int
    key: str
    value: float | None
    step: int | None
    logged_at: datetime


def detached(trigger: Trigger) -> Trigger:
    """A plain copy that outlives the session (no lazy loads, no identity map)."""
    return Trigger(**{c.key: getattr(trigger, c.key) for c in Trigger.__table__.columns})


class TriggerStore:
    """Triggers, their events and the monitored streams, over a run store's engine."""

    def __init__(self, runs: RunStore) -> None:
        self.runs = runs
        self.engine = runs.engine

    # -- triggers -----------------------------------------------------------------------

    def create(self, trigger: Trigger) -> Trigger:
        now = utcnow()
        trigger.created_at = trigger.created_at or now
        trigger.updated_at = trigger.updated_at or now
        trigger.version = trigger.version or 0
        with self.runs.writing() as session:
            session.add(trigger)
        return self.require(trigger.id)

    def get(self, trigger_id: str) -> Trigger | None:
        with self.runs.reading() as session:
            row = session.get(Trigger, trigger_id)
            return detached(row) if row is not None else None

    def require(self, trigger_id: str) -> Trigger:
        return found(self.get(trigger_id), TriggerNotFound(trigger_id))

    def resolve_id(self, key: str) -> str:
        """A trigger id, a unique prefix of one, or a unique trigger name."""
        with self.runs.reading() as session:
            return id_or_name(
                session, Trigger.id, Trigger.name, key, "trigger", TriggerNotFound(key)
            )

    def list(self, *, active_only: bool = False) -> list[Trigger]:
        query = select(Trigger).order_by(Trigger.created_at, Trigger.id)
        if active_only:
            query = query.where(Trigger.active.is_(True))
        with self.runs.reading() as session:
            return [detached(t) for t in session.scalars(query)]

    def set_active(self, trigger_id: str, active: bool) -> Trigger:
        with self.runs.writing() as session:
            result = session.execute(
                update(Trigger)
                .where(Trigger.id == trigger_id)
                .values(active=active, updated_at=utcnow(), next_check_at=None)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                raise TriggerNotFound(trigger_id)
        return self.require(trigger_id)

    def delete(self, trigger_id: str) -> None:
        """Delete a trigger and its event history; its runs stay."""
        with self.runs.writing() as session:
            session.execute(delete(TriggerEvent).where(TriggerEvent.trigger_id == trigger_id))
            result = session.execute(delete(Trigger).where(Trigger.id == trigger_id))
            if result.rowcount != 1:
                raise TriggerNotFound(trigger_id)

    def note_error(self, trigger_id: str, error: str | None, retry_at: datetime | None) -> None:
        """Record (or clear) why the last check failed, and when to look again."""
        with self.runs.writing() as session:
            session.execute(
                update(Trigger)
                .where(Trigger.id == trigger_id)
                .values(last_error=error, next_check_at=retry_at)
                .execution_options(synchronize_session=False)
            )

    # -- events -------------------------------------------------------------------------

    def advance(
        self,
        trigger: Trigger,
        state: dict[str, Any],
        events: Sequence[NewEvent],
        *,
        holder: str,
        now: datetime | None = None,
    ) -> list[ClaimedEvent] | None:
        """Move ``trigger`` from the state it was read in to ``state`` and claim ``events``,
        in one transaction; None when another process changed the trigger first (it saw
        the same events and claimed them). Events already recorded are left alone."""
        now = now or utcnow()
        claimed: list[ClaimedEvent] = []
        with self.runs.writing() as session:
            result = session.execute(
                update(Trigger)
                .where(
                    Trigger.id == trigger.id,
                    Trigger.version == trigger.version,
                    Trigger.active.is_(True),
                )
                .values(
                    state=state,
                    version=trigger.version + 1,
                    last_error=None,
                    next_check_at=None,
                    **({"last_event_at": now} if events else {}),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            keys = [e.key for e in events]
            seen = set(
                session.scalars(
                    select(TriggerEvent.key).where(
                        TriggerEvent.trigger_id == trigger.id, TriggerEvent.key.in_(keys)
                    )
                )
            )
            rows = []
            copy = detached(trigger)
            copy.state, copy.version = state, trigger.version + 1
            for event in events:
                if event.key in seen:
                    continue
                seen.add(event.key)
                run_id = claim_id(trigger.target) if event.run else None
                rows.append(
                    {
                        "trigger_id": trigger.id,
                        "key": event.key,
                        "run_id": run_id,
                        "target": trigger.target,
                        "state": PENDING if event.run else SKIPPED,
                        "holder": holder,
                        "claimed_at": now,
                        "details": event.details,
                        "reason": event.reason,
                    }
                )
                if run_id is not None:
                    claimed.append(
                        ClaimedEvent(copy, event.key, run_id, event.details, now, trigger.target)
                    )
            if rows:
                session.execute(insert(TriggerEvent), rows)
        return claimed

    def finish_event(self, event: ClaimedEvent) -> None:
        """The event's run was submitted (with the note of why it fired, written with the
        run): mark the event done and remember its run as the trigger's last, at once."""
        with self.runs.writing() as session:
            session.execute(
                update(TriggerEvent)
                .where(TriggerEvent.trigger_id == event.trigger.id, TriggerEvent.key == event.key)
                .values(state=DONE)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(Trigger)
                .where(Trigger.id == event.trigger.id)
                .values(last_run_id=event.run_id)
                .execution_options(synchronize_session=False)
            )

    def record_failed_event(self, event: ClaimedEvent, reason: str) -> str:
        """The event's run could not be submitted: record a FAILED run with ``reason``
        under the claimed id (unless one exists) and finish the event."""
        try:
            with self.runs.writing() as session:
                exists = claimed_exists(session, event.target, event.run_id) or None
                if exists is None and event.target == PIPELINE:
                    add_failed_pipeline_run(
                        session, event.trigger, event.run_id, reason, utcnow(), source="trigger"
                    )
                elif exists is None:
                    add_failed_run(
                        session, event.trigger, event.run_id, reason, utcnow(), source="trigger"
                    )
                session.execute(
                    update(TriggerEvent)
                    .where(
                        TriggerEvent.trigger_id == event.trigger.id,
                        TriggerEvent.key == event.key,
                    )
                    .values(state=DONE, reason=reason if exists is None else None)
                    .execution_options(synchronize_session=False)
                )
        except IntegrityError:
            pass  # recovery recorded this run id at the same moment: it exists
        return event.run_id

    def recover_stale_events(
        self,
        now: datetime,
        *,
        timeout: float,
        limit: int = 100,
    ) -> list[str]:
        """Pending events claimed more than ``timeout`` seconds ago whose run does not exist
        were lost with their claimer: record each as a FAILED run (the claimed id). One
        whose run exists lost only its bookkeeping (the claimer died between submitting
        and :meth:`finish_event`; the run has its note of why it fired): it is finished."""
        horizon = now - timedelta(seconds=timeout)
        with self.runs.reading() as session:
            rows = session.execute(
                select(TriggerEvent, Trigger)
                .join(Trigger, Trigger.id == TriggerEvent.trigger_id)
                .where(TriggerEvent.state == PENDING, TriggerEvent.claimed_at < horizon)
                .order_by(TriggerEvent.claimed_at)
                .limit(limit)
            ).all()
            stale = [
                ClaimedEvent(
                    detached(t), e.key, e.run_id or "", dict(e.details), e.claimed_at, e.target
                )
                for e, t in rows
            ]
        recorded: list[str] = []
        for event in stale:
            reason = (
                f"a scheduler claimed trigger event {event.key} at "
                f"{event.claimed_at.isoformat()} but did not submit its run within "
                f"{timeout:g} s (it probably crashed or was stopped)"
            )
            with self.runs.reading() as session:
                if claimed_exists(session, event.target, event.run_id):
                    self.finish_event(event)  # the run exists: only the bookkeeping
                    continue
            self.record_failed_event(event, reason)
            recorded.append(event.run_id)
        return recorded

    def events_of(self, trigger_id: str, limit: int = 20) -> list[EventRecord]:
        """A trigger's newest events first, with their runs' status."""
        status, joins = claimed_status(TriggerEvent)
        query = select(TriggerEvent, status)
        for table, on in joins:
            query = query.outerjoin(table, on)
        with self.runs.reading() as session:
            rows = session.execute(
                query.where(TriggerEvent.trigger_id == trigger_id)
                .order_by(TriggerEvent.claimed_at.desc(), TriggerEvent.key)
                .limit(limit)
            ).all()
        return [
            EventRecord(
                e.key, e.state, e.run_id, status, e.claimed_at, dict(e.details or {}), e.reason
            )
            for e, status in rows
        ]

    def event_of_run(self, run_id: str) -> tuple[Trigger, EventRecord] | None:
        """The trigger and event that fired ``run_id`` (None for any other run)."""
        with self.runs.reading() as session:
            row = session.execute(
                select(TriggerEvent, Trigger)
                .join(Trigger, Trigger.id == TriggerEvent.trigger_id)
                .where(TriggerEvent.run_id == run_id)
            ).first()
            if row is None:
                return None
            e, trigger = row
            record = EventRecord(
                e.key, e.state, e.run_id, None, e.claimed_at, dict(e.details or {}), e.reason
            )
            return detached(trigger), record

    # -- monitored streams --------------------------------------------------------------

    def push_points(
        self, stream: str, points: Iterable[tuple[str, float | None, int | None]]
    ) -> int:
        """Append ``(key, value, step)`` points to ``stream``; returns how many."""
        now = utcnow()
        rows = [
            {"stream": stream, "key": key, "value": value, "step": step, "logged_at": now}
            for key, value, step in points
        ]
        if rows:
            with self.runs.writing() as session:
                lock_in_transaction(session, STREAM_POINTS)  # ids become visible in order
                session.execute(insert(StreamPoint), rows)
        return len(rows)

    def points_after(
        self, stream: str, key: str, after_id: int, *, limit: int = 1000
    ) -> list[StreamValue]:
        """The points of ``stream``/``key`` logged after point ``after_id``, oldest first."""
        with self.runs.reading() as session:
            rows = session.execute(
                select(StreamPoint)
                .where(
                    StreamPoint.stream == stream,
                    StreamPoint.key == key,
                    StreamPoint.id > after_id,
                )
                .order_by(StreamPoint.id)
                .limit(limit)
            ).scalars()
            return [StreamValue(p.id, p.key, p.value, p.step, p.logged_at) for p in rows]

    def last_point_id(self, stream: str, key: str) -> int:
        """The newest point's id of ``stream``/``key`` (0 when there is none)."""
        with self.runs.reading() as session:
            value = session.scalar(
                select(StreamPoint.id)
                .where(StreamPoint.stream == stream, StreamPoint.key == key)
                .order_by(StreamPoint.id.desc())
                .limit(1)
            )
        return int(value or 0)
