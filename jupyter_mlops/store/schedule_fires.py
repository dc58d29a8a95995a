"""Firing schedules exactly once: slot claims, the concurrency policy, recovery.

Exactly once, across any number of scheduler processes sharing the store:

* :meth:`ScheduleFiring.claim_due` claims slots with a compare-and-set on the schedule row
  (``next_fire_at`` still what was read and ``last_fired_slot`` older than the slot) and
  inserts one ``schedule_fires`` row per claimed slot (primary key ``(schedule_id, slot)``)
  in the same transaction. Only the claimer submits; a slot is never claimed twice.
* The fire row carries the run id, chosen at claim time. A scheduler that dies between
  claim and submit leaves a ``pending`` fire without a run: :meth:`recover_stale_fires`
  records it as a failed run *with that id* after a timeout, so a late submit collides
  with it (primary key of ``runs``) instead of running the slot a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .claim_targets import add_failed_pipeline_run, claim_id, claimed_exists
from .models import ACTIVE_STATUSES, Run, RunEvent, RunStatus, Schedule, ScheduleFire
from .runs import new_run, param_rows, tag_rows
from .store import RunStore
from .types import utcnow

PENDING = "pending"
"""Claimed; the claimer is submitting the run (or died doing so: see recovery)."""
WAITING = "waiting"
"""Concurrency ``queue``: waits for the schedule's previous run to end."""
DONE = "done"
"""The slot's run exists (whatever its status)."""
SKIPPED = "skipped"
"""Not run, with a reason (concurrency ``skip``, or the queue was full)."""

QUEUE_LIMIT = 20
"""Most slots of one schedule that may wait (concurrency ``queue``); later ones are skipped."""

_ACTIVE = [s.value for s in ACTIVE_STATUSES]


@dataclass(frozen=True)
class Plan:
    """What to fire for one due schedule: ``slots`` (ascending) and the next due time."""

    slots: list[datetime]
    next_fire_at: datetime | None


Planner = Callable[[Schedule, datetime], Plan]


@dataclass(frozen=True)
class Fire:
    """A claimed slot with what is needed to submit it (a detached copy of the schedule)."""

    schedule: Schedule
    slot: datetime
    run_id: str
    state: str
    reason: str | None = None


def detached(schedule: Schedule) -> Schedule:
    """A plain copy that outlives the session (no lazy loads, no identity map)."""
    return Schedule(**{c.key: getattr(schedule, c.key) for c in Schedule.__table__.columns})


def for_update(query: Any, dialect: str, *, skip_locked: bool = False) -> Any:
    """Row locks on PostgreSQL; SQLite's write transactions are exclusive already."""
    if dialect == "postgresql":
        return query.with_for_update(skip_locked=skip_locked)
    return query


class ScheduleFiring:
    """Claims and recovery of schedule slots over a run store's engine (a part of
    :class:`~jupyter_mlops.store.schedules.ScheduleStore`)."""

    def __init__(self, runs: RunStore) -> None:
        self.runs = runs
        self.engine = runs.engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def earliest_next_fire(self) -> datetime | None:
        with self.runs.reading() as session:
            return session.scalar(
                select(func.min(Schedule.next_fire_at)).where(Schedule.active.is_(True))
            )

    def has_waiting(self) -> bool:
        with self.runs.reading() as session:
            return (
                session.scalar(
                    select(ScheduleFire.slot).where(ScheduleFire.state == WAITING).limit(1)
                )
                is not None
            )

    def claim_due(
        self,
        now: datetime,
        *,
        holder: str,
        planner: Planner,
        limit: int = 64,
        on_error: Callable[[Schedule, Exception], None] | None = None,
    ) -> list[Fire]:
        """Claim the slots of up to ``limit`` due schedules in one transaction.

        Returns every claimed slot: ``pending`` ones are the caller's to submit, ``waiting``
        and ``skipped`` ones were decided by the concurrency policy. On PostgreSQL due rows
        are locked with ``SKIP LOCKED``, so concurrent schedulers split the work instead of
        queueing on the same rows; on SQLite the write transaction is exclusive. The
        compare-and-set below is what guarantees exactly once either way.
        """
        claimed: list[Fire] = []
        table = Schedule.__table__
        with self.runs.writing() as session:
            conn = session.connection()  # Core statements: the ORM costs ~0.3 ms a row here
            query = (
                select(table)
                .where(table.c.active.is_(True), table.c.next_fire_at <= now)
                .order_by(table.c.next_fire_at, table.c.id)
                .limit(limit)
            )
            rows = conn.execute(for_update(query, self.dialect, skip_locked=True)).all()
            for row in rows:
                schedule = Schedule(**row._mapping)
                try:
                    plan = planner(schedule, now)
                except Exception as err:  # e.g. a cron or zone edited into something invalid
                    conn.execute(
                        update(table)
                        .where(table.c.id == schedule.id)
                        .values(active=False, next_fire_at=None, updated_at=now)
                    )
                    if on_error is not None:
                        on_error(schedule, err)
                    continue
                claimed += self._claim(session, schedule, plan, now, holder)
            if claimed:
                conn.execute(
                    insert(ScheduleFire.__table__),
                    [
                        {
                            "schedule_id": f.schedule.id,
                            "slot": f.slot,
                            "run_id": f.run_id,
                            "target": f.schedule.target,
                            "state": f.state,
                            "holder": holder,
                            "claimed_at": now,
                            "reason": f.reason,
                        }
                        for f in claimed
                    ],
                )
        return claimed

    def _claim(
        self, session: Session, schedule: Schedule, plan: Plan, now: datetime, holder: str
    ) -> list[Fire]:
        slots = plan.slots
        if schedule.last_fired_slot is not None:
            slots = [s for s in slots if s > schedule.last_fired_slot]
        c = Schedule.__table__.c
        conditions = [
            c.id == schedule.id,
            c.active.is_(True),
            c.next_fire_at == schedule.next_fire_at,
        ]
        if slots:
            conditions.append(or_(c.last_fired_slot.is_(None), c.last_fired_slot < slots[0]))
        result = session.connection().execute(
            update(Schedule.__table__)
            .where(*conditions)
            .values(
                next_fire_at=plan.next_fire_at,
                last_fired_slot=slots[-1] if slots else schedule.last_fired_slot,
            )
        )
        if result.rowcount != 1 or not slots:
            return []  # someone else claimed it (or changed it) first; or nothing to fire
        if schedule.concurrency == "allow":
            decisions = [(PENDING, None)] * len(slots)
        else:
            decisions = self._concurrency(session, schedule, len(slots))
        # The fire rows are inserted by the caller, in the same transaction.
        return [
            Fire(schedule, slot, claim_id(schedule.target), state, reason)
            for slot, (state, reason) in zip(slots, decisions, strict=True)
        ]

    def _concurrency(
        self, session: Session, schedule: Schedule, count: int
    ) -> list[tuple[str, str | None]]:
        """Decide each new slot under ``skip``/``queue``: busy while a run of the schedule is
        active or one of its slots is still pending or waiting."""
        active = session.scalar(
            select(Run.id).where(Run.schedule_id == schedule.id, Run.status.in_(_ACTIVE)).limit(1)
        )
        open_fires = dict(
            session.execute(
                select(ScheduleFire.state, func.count())
                .where(
                    ScheduleFire.schedule_id == schedule.id,
                    ScheduleFire.state.in_([PENDING, WAITING]),
                )
                .group_by(ScheduleFire.state)
            ).all()
        )
        busy = (1 if active else 0) + sum(open_fires.values())
        waiting = open_fires.get(WAITING, 0)
        decisions: list[tuple[str, str | None]] = []
        for _ in range(count):
            if busy == 0:
                decisions.append((PENDING, None))
            elif schedule.concurrency == "queue" and waiting < QUEUE_LIMIT:
                decisions.append((WAITING, "waiting for the previous run of this schedule"))
                waiting += 1
            else:
                what = f"run {active}" if active else "the previous run of this schedule"
                if schedule.concurrency == "queue":
                    reason = f"skipped: {QUEUE_LIMIT} slots are already waiting for {what}"
                else:
                    reason = f"skipped: {what} is still active (concurrency: skip)"
                decisions.append((SKIPPED, reason))
                continue
            busy += 1
        return decisions

    def claim_waiting(self, now: datetime, *, holder: str, limit: int = 100) -> list[Fire]:
        """Move the oldest waiting slot of each idle, active schedule to ``pending`` (ours)."""
        claimed: list[Fire] = []
        with self.runs.writing() as session:
            rows = session.execute(
                select(ScheduleFire, Schedule)
                .join(Schedule, Schedule.id == ScheduleFire.schedule_id)
                .where(ScheduleFire.state == WAITING, Schedule.active.is_(True))
                .order_by(ScheduleFire.slot)
                .limit(limit)
            ).all()
            seen: set[str] = set()
            for fire, schedule in rows:
                if schedule.id in seen:
                    continue
                seen.add(schedule.id)
                busy = session.scalar(
                    select(func.count())
                    .select_from(Run)
                    .where(Run.schedule_id == schedule.id, Run.status.in_(_ACTIVE))
                ) or session.scalar(
                    select(func.count())
                    .select_from(ScheduleFire)
                    .where(ScheduleFire.schedule_id == schedule.id, ScheduleFire.state == PENDING)
                )
                if busy:
                    continue
                result = session.execute(
                    update(ScheduleFire)
                    .where(
                        ScheduleFire.schedule_id == fire.schedule_id,
                        ScheduleFire.slot == fire.slot,
                        ScheduleFire.state == WAITING,
                    )
                    .values(state=PENDING, holder=holder, claimed_at=now, reason=None)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:
                    claimed.append(Fire(detached(schedule), fire.slot, fire.run_id, PENDING))
        return claimed

    def finish_fires(self, fires: Sequence[Fire]) -> None:
        """The runs of these pending slots exist: mark them done, remember the last run."""
        if not fires:
            return
        latest: dict[str, Fire] = {}
        for fire in fires:
            if fire.schedule.id not in latest or fire.slot > latest[fire.schedule.id].slot:
                latest[fire.schedule.id] = fire
        f, s = ScheduleFire.__table__, Schedule.__table__
        with self.runs.writing() as session:
            conn = session.connection()
            conn.execute(
                update(f)
                .where(
                    f.c.schedule_id == bindparam("b_schedule"),
                    f.c.slot == bindparam("b_slot"),
                    f.c.state == PENDING,
                )
                .values(state=DONE),
                [{"b_schedule": x.schedule.id, "b_slot": x.slot} for x in fires],
            )
            conn.execute(
                update(s)
                .where(s.c.id == bindparam("b_schedule"))
                .values(last_run_id=bindparam("b_run")),
                [{"b_schedule": x.schedule.id, "b_run": x.run_id} for x in latest.values()],
            )

    def record_failed_fire(self, fire: Fire, reason: str, *, now: datetime | None = None) -> str:
        """The slot's run could not be submitted: record a FAILED run with ``reason`` under
        the claimed run id (unless a run with that id exists already) and finish the slot."""
        now = now or utcnow()
        try:
            with self.runs.writing() as session:
                exists = claimed_exists(session, fire.schedule.target, fire.run_id) or None
                if exists is None:
                    add_failed_claim(session, fire.schedule, fire.run_id, reason, now, fire.slot)
                session.execute(
                    update(ScheduleFire)
                    .where(
                        ScheduleFire.schedule_id == fire.schedule.id,
                        ScheduleFire.slot == fire.slot,
                    )
                    .values(state=DONE, reason=reason if exists is None else None)
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    update(Schedule)
                    .where(Schedule.id == fire.schedule.id)
                    .values(last_run_id=fire.run_id)
                    .execution_options(synchronize_session=False)
                )
        except IntegrityError:
            # Recovery (or another path) recorded this run id at the same moment: it exists.
            # The schedule may also have been deleted meanwhile (its fires went with it).
            pass
        return fire.run_id

    def recover_stale_fires(self, now: datetime, *, timeout: float, limit: int = 100) -> list[str]:
        """Pending slots claimed more than ``timeout`` seconds ago whose run does not exist
        were lost with their scheduler: record each as a FAILED run (the claimed id) with a
        reason. Returns the run ids recorded."""
        horizon = now - timedelta(seconds=timeout)
        with self.runs.reading() as session:
            rows = session.execute(
                select(ScheduleFire, Schedule)
                .join(Schedule, Schedule.id == ScheduleFire.schedule_id)
                .where(ScheduleFire.state == PENDING, ScheduleFire.claimed_at < horizon)
                .order_by(ScheduleFire.claimed_at)
                .limit(limit)
            ).all()
            stale = [
                (f.slot, f.run_id, f.target, f.holder, f.claimed_at, detached(s)) for f, s in rows
            ]
        recorded: list[str] = []
        for slot, run_id, target, holder, claimed_at, schedule in stale:
            reason = (
                f"scheduler {holder} claimed this slot at {claimed_at.isoformat()} but did not "
                f"submit its run within {timeout:g} s (it probably crashed or was stopped)"
            )
            try:
                with self.runs.writing() as session:
                    result = session.execute(
                        update(ScheduleFire)
                        .where(
                            ScheduleFire.schedule_id == schedule.id,
                            ScheduleFire.slot == slot,
                            ScheduleFire.state == PENDING,
                            ScheduleFire.claimed_at == claimed_at,
                        )
                        .values(state=DONE)
                        .execution_options(synchronize_session=False)
                    )
                    if result.rowcount != 1:
                        continue
                    if claimed_exists(session, target, run_id):
                        continue  # the run exists: only the bookkeeping was missing
                    session.execute(
                        update(ScheduleFire)
                        .where(ScheduleFire.schedule_id == schedule.id, ScheduleFire.slot == slot)
                        .values(reason=reason)
                        .execution_options(synchronize_session=False)
                    )
                    schedule.target = target
                    add_failed_claim(session, schedule, run_id, reason, now, slot)
                    session.execute(
                        update(Schedule)
                        .where(Schedule.id == schedule.id)
                        .values(last_run_id=run_id)
                        .execution_options(synchronize_session=False)
                    )
            except IntegrityError:
                continue  # the submit inserted the run at the same moment: nothing was lost
            recorded.append(run_id)
        return recorded

    def prune_fires(self, before: datetime) -> int:
        """Forget finished fire records claimed before ``before`` (the runs stay)."""
        with self.runs.writing() as session:
            result = session.execute(
                delete(ScheduleFire).where(
                    ScheduleFire.state.in_([DONE, SKIPPED]), ScheduleFire.claimed_at < before
                )
            )
            return int(result.rowcount or 0)


def _slot_columns(schedule: Schedule, slot: datetime | None) -> dict[str, Any]:
    return {"schedule_id": schedule.id, "scheduled_for": slot, "branch": schedule.branch}


def add_failed_claim(
    session: Session, schedule: Schedule, claimed: str, reason: str, now: datetime, slot: datetime
) -> None:
    """The failed run (or, for a pipeline schedule, pipeline run) of a slot that fired but
    could not start, under the id claimed for it."""
    if schedule.target == "pipeline":
        add_failed_pipeline_run(session, schedule, claimed, reason, now, source="schedule")
    else:
        add_failed_run(session, schedule, claimed, reason, now, **_slot_columns(schedule, slot))


def _type_name(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(
        type(value), type(value).__name__
    )


def add_failed_run(
    session: Session,
    owner: Schedule | Any,
    run_id: str,
    reason: str,
    now: datetime,
    *,
    source: str = "schedule",
    **columns: Any,
) -> None:
    """A run row that says, with a reason, that a schedule slot or a trigger event fired but
    could not run. ``owner`` is the schedule or trigger (its notebook and run settings);
    ``columns`` add the link back (``schedule_id``, ``scheduled_for``, ``branch``)."""
    parameters = owner.parameters or {}
    run = new_run(
        run_id,
        created_at=now,
        finished_at=now,
        status=RunStatus.FAILED.value,
        status_reason=reason,
        source=source,
        backend="none",
        notebook_path=owner.notebook_path,
        notebook_abspath=owner.notebook_abspath,
        kernel_name=owner.kernel_name or "",
        gpus=owner.gpus,
        timeout_s=owner.timeout_s,
        cells_total=0,
        **columns,
    )
    run.params = param_rows({k: (v, _type_name(v)) for k, v in sorted(parameters.items())})
    run.tags = tag_rows(owner.tags or [])
    session.add(run)
    session.flush()  # the run first: events reference it
    session.add(RunEvent(run_id=run_id, at=now, kind="status", status="failed", message=reason))
