"""``PipelineStore``: the queries and transactions of pipeline runs (a sibling store over
a :class:`~jupyter_mlops.store.RunStore`'s engine, like the schedules').

Exactly once: a process advances a pipeline run only while it holds the run's lease
(:meth:`PipelineStore.acquire_lease`, a compare-and-set on the row, renewed on every
pass), and every step change is a compare-and-set on the step's status
(:meth:`PipelineStore.move_step`), so two processes never both submit a step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update

from .base import found, ids_with_prefix
from .models import Run, RunStatus
from .models_pipelines import PipelineRun, PipelineStep, PipelineStepAttempt
from .types import utcnow

if TYPE_CHECKING:
    from .store import RunStore


class PipelineNotFound(LookupError):
    def __init__(self, pipeline_id: str) -> None:
        super().__init__(f"no pipeline run with id {pipeline_id!r}")
        self.pipeline_id = pipeline_id


def _plain(row: Any) -> Any:
    """A detached copy of an ORM row (no session, no lazy loads)."""
    cls = type(row)
    return cls(**{c.key: getattr(row, c.key) for c in cls.__table__.columns})


class PipelineStore:
    """Pipeline runs, steps, attempts, the step cache lookup and the run leases."""

    def __init__(self, runs: RunStore) -> None:
        self.runs = runs

    # -- pipeline runs ------------------------------------------------------------------

    def create(self, pipeline: PipelineRun, steps: Sequence[PipelineStep]) -> PipelineRun:
        now = utcnow()
        pipeline.created_at = pipeline.updated_at = now
        with self.runs.writing() as session:
            session.add(pipeline)
            session.flush()
            for step in steps:
                step.pipeline_id = pipeline.id
                step.updated_at = now
                session.add(step)
        return self.require(pipeline.id)

    def get(self, pipeline_id: str) -> PipelineRun | None:
        with self.runs.reading() as session:
            row = session.get(PipelineRun, pipeline_id)
            return _plain(row) if row is not None else None

    def require(self, pipeline_id: str) -> PipelineRun:
        return found(self.get(pipeline_id), PipelineNotFound(pipeline_id))

    def resolve_id(self, key: str) -> str:
        """A pipeline run id or a unique prefix of one."""
        with self.runs.reading() as session:
            ids = ids_with_prefix(session, PipelineRun.id, key) if key else []
        if len(ids) == 1:
            return ids[0]
        if ids:
            raise LookupError(f"pipeline run id prefix {key!r} is ambiguous; give more characters")
        raise PipelineNotFound(key)

    def list(self, limit: int = 50) -> list[PipelineRun]:
        with self.runs.reading() as session:
            rows = session.scalars(
                select(PipelineRun)
                .order_by(PipelineRun.created_at.desc(), PipelineRun.id.desc())
                .limit(limit)
            ).all()
            return [_plain(r) for r in rows]

    def set_status(
        self, pipeline_id: str, status: str, reason: str | None = None, *, finished: bool = False
    ) -> None:
        now = utcnow()
        with self.runs.writing() as session:
            session.execute(
                update(PipelineRun)
                .where(PipelineRun.id == pipeline_id)
                .values(
                    status=status,
                    status_reason=reason,
                    updated_at=now,
                    finished_at=now if finished else None,
                )
            )

    def unfinished(self) -> list[str]:
        """Ids of the pipeline runs still running (what a process may advance)."""
        with self.runs.reading() as session:
            return list(
                session.scalars(select(PipelineRun.id).where(PipelineRun.status == "running")).all()
            )

    # -- steps and attempts ----------------------------------------------------------------

    def steps(self, pipeline_id: str) -> list[PipelineStep]:
        with self.runs.reading() as session:
            rows = session.scalars(
                select(PipelineStep)
                .where(PipelineStep.pipeline_id == pipeline_id)
                .order_by(PipelineStep.position)
            ).all()
            return [_plain(r) for r in rows]

    def step_counts(self, pipeline_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """{pipeline id: {step status: how many}} of many runs in one query (a list of
        pipeline runs shows its progress without reading every step)."""
        ids = list(pipeline_ids)
        if not ids:
            return {}
        out: dict[str, dict[str, int]] = {i: {} for i in ids}
        with self.runs.reading() as session:
            rows = session.execute(
                select(PipelineStep.pipeline_id, PipelineStep.status, func.count())
                .where(PipelineStep.pipeline_id.in_(ids))
                .group_by(PipelineStep.pipeline_id, PipelineStep.status)
            ).all()
        for pipeline_id, status, count in rows:
            out[pipeline_id][status] = int(count)
        return out

    def attempts(self, pipeline_id: str) -> list[PipelineStepAttempt]:
        with self.runs.reading() as session:
            rows = session.scalars(
                select(PipelineStepAttempt)
                .where(PipelineStepAttempt.pipeline_id == pipeline_id)
                .order_by(PipelineStepAttempt.created_at, PipelineStepAttempt.attempt)
            ).all()
            return [_plain(r) for r in rows]

    def move_step(
        self, pipeline_id: str, name: str, expected: Iterable[str], **values: Any
    ) -> bool:
        """Change a step only while its status is one of ``expected`` (compare-and-set);
        False when another process moved it first."""
        values["updated_at"] = utcnow()
        with self.runs.writing() as session:
            result = session.execute(
                update(PipelineStep)
                .where(
                    PipelineStep.pipeline_id == pipeline_id,
                    PipelineStep.name == name,
                    PipelineStep.status.in_(list(expected)),
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def start_attempt(
        self,
        pipeline_id: str,
        name: str,
        expected: Iterable[str],
        attempt: PipelineStepAttempt,
        *,
        reason: str | None = None,
    ) -> bool:
        """Move the step to the attempt (status, run, cache key, ``reason``: why it runs,
        such as the dataset that changed) and record the attempt, in one transaction,
        only while the step's status is one of ``expected``."""
        now = utcnow()
        with self.runs.writing() as session:
            result = session.execute(
                update(PipelineStep)
                .where(
                    PipelineStep.pipeline_id == pipeline_id,
                    PipelineStep.name == name,
                    PipelineStep.status.in_(list(expected)),
                )
                .values(
                    status=attempt.status,
                    attempt=attempt.attempt,
                    run_id=attempt.run_id,
                    cached_from=attempt.cached_from,
                    cache_key=attempt.cache_key,
                    reason=reason,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return False
            attempt.pipeline_id, attempt.step, attempt.created_at = pipeline_id, name, now
            session.add(attempt)
        return True

    def set_attempt_status(self, pipeline_id: str, name: str, attempt: int, status: str) -> None:
        with self.runs.writing() as session:
            session.execute(
                update(PipelineStepAttempt)
                .where(
                    PipelineStepAttempt.pipeline_id == pipeline_id,
                    PipelineStepAttempt.step == name,
                    PipelineStepAttempt.attempt == attempt,
                )
                .values(status=status)
            )

    def cached_runs(self, cache_key: str, limit: int = 10) -> list[str]:
        """The succeeded runs executed for ``cache_key`` (the step cache), newest first:
        the first whose recorded datasets are unchanged serves the step."""
        with self.runs.reading() as session:
            return list(
                session.scalars(
                    select(Run.id)
                    .join(PipelineStepAttempt, PipelineStepAttempt.run_id == Run.id)
                    .where(
                        PipelineStepAttempt.cache_key == cache_key,
                        Run.status == RunStatus.SUCCEEDED.value,
                    )
                    .order_by(Run.finished_at.desc())
                    .limit(limit)
                ).all()
            )

    def cached_run(self, cache_key: str) -> str | None:
        """The newest succeeded run executed for ``cache_key``, if any."""
        return next(iter(self.cached_runs(cache_key, limit=1)), None)

    def last_step_run(self, pipeline_path: str, step: str, other_than: str) -> str | None:
        """The run whose outputs ``step`` last had (executed or served from the cache) in
        another run of the same pipeline file: what a cache miss is explained against."""
        with self.runs.reading() as session:
            row = session.execute(
                select(PipelineStepAttempt.run_id, PipelineStepAttempt.cached_from)
                .join(PipelineRun, PipelineRun.id == PipelineStepAttempt.pipeline_id)
                .where(
                    PipelineRun.pipeline_path == pipeline_path,
                    PipelineStepAttempt.step == step,
                    PipelineStepAttempt.pipeline_id != other_than,
                    PipelineStepAttempt.status.in_([RunStatus.SUCCEEDED.value, "cached"]),
                )
                .order_by(PipelineStepAttempt.created_at.desc())
                .limit(1)
            ).first()
        return (row.run_id or row.cached_from) if row is not None else None

    def executed_by(self, run_id: str) -> PipelineStepAttempt | None:
        """The attempt that executed ``run_id`` (None: not a pipeline step's run)."""
        with self.runs.reading() as session:
            row = session.scalar(
                select(PipelineStepAttempt).where(PipelineStepAttempt.run_id == run_id).limit(1)
            )
            return _plain(row) if row is not None else None

    def run_statuses(self, run_ids: Iterable[str]) -> dict[str, str]:
        ids = [i for i in run_ids if i]
        if not ids:
            return {}
        with self.runs.reading() as session:
            return dict(session.execute(select(Run.id, Run.status).where(Run.id.in_(ids))).all())

    # -- leases ------------------------------------------------------------------------

    def acquire_lease(
        self, pipeline_id: str, holder: str, *, ttl: float, now: datetime | None = None
    ) -> bool:
        """Take or renew the lease on a pipeline run for ``ttl`` seconds; False while another
        holder's lease is unexpired (or the run is gone)."""
        now = now or utcnow()
        with self.runs.writing() as session:
            result = session.execute(
                update(PipelineRun)
                .where(
                    PipelineRun.id == pipeline_id,
                    or_(
                        PipelineRun.lease_holder.is_(None),
                        PipelineRun.lease_holder == holder,
                        PipelineRun.lease_expires_at < now,
                    ),
                )
                .values(lease_holder=holder, lease_expires_at=now + timedelta(seconds=ttl))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def release_lease(self, pipeline_id: str, holder: str) -> None:
        with self.runs.writing() as session:
            session.execute(
                update(PipelineRun)
                .where(PipelineRun.id == pipeline_id, PipelineRun.lease_holder == holder)
                .values(lease_holder=None, lease_expires_at=None)
            )
