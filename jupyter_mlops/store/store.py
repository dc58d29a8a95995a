"""``RunStore``: every query and transaction of the run store lives here.

Callers get plain ORM objects detached from their session (``expire_on_commit`` is
off), so they can be read after the transaction without lazy loads. The store is
synchronous on purpose: the server calls it from a thread pool, runners and the CLI
call it directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ..config import Settings
from .engine import WRITE_OPTION, ensure_schema, make_engine
from .models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    Artifact,
    Environment,
    LatestMetric,
    Run,
    RunEvent,
    RunParam,
    RunStatus,
    RunTag,
)
from .types import utcnow


class RunNotFound(LookupError):
    """No run with that id (the message names it, for CLI and REST errors)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {run_id!r}")
        self.run_id = run_id


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    next_cursor: str | None


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
        """Newest first, keyset-paginated on (created_at, id) so deep pages stay fast."""
        query = select(Run).options(selectinload(Run.params), selectinload(Run.tags))
        if status:
            query = query.where(Run.status.in_(list(status)))
        if notebook:
            query = query.where(
                or_(Run.notebook_path == notebook, Run.notebook_abspath == notebook)
            )
        if tag:
            query = query.where(Run.id.in_(select(RunTag.run_id).where(RunTag.tag == tag)))
        if cursor:
            created_at, run_id = _decode_cursor(cursor)
            query = query.where(
                or_(
                    Run.created_at < created_at,
                    and_(Run.created_at == created_at, Run.id < run_id),
                )
            )
        query = query.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
        with self.reading() as session:
            runs = list(session.scalars(query).all())
        next_cursor = _encode_cursor(runs[limit - 1]) if len(runs) > limit else None
        return RunPage(runs=runs[:limit], next_cursor=next_cursor)

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
