"""Run lifecycle: the run row from creation to its one terminal status, and deletion.

Every run row is built by :func:`new_run` (the CLI and REST submit, reproduce, the
scheduler's failed fires, interactive tracking, test doubles), so a column added to
``runs`` is given its value for a run without a snapshot in one place.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import selectinload

from .base import StoreBase, found, ids_with_prefix
from .models import ACTIVE_STATUSES, TERMINAL_STATUSES, Run, RunEvent, RunParam, RunStatus, RunTag
from .types import utcnow

NO_SNAPSHOT: Mapping[str, str] = {
    "commit_sha": "",
    "snapshot_ref": "",
    "git_dir": "",
    "worktree": "",
    "notebook_relpath": "",
}
"""The snapshot columns of a run that has no snapshot (nothing to reproduce from)."""


class RunNotFound(LookupError):
    """No run with that id (the message names it, for CLI and REST errors)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {run_id!r}")
        self.run_id = run_id


def new_run_id() -> str:
    """Time-ordered-ish, unique, short enough to type: 12 hex chars of a uuid4."""
    return uuid.uuid4().hex[:12]


def run_values(
    run_id: str,
    *,
    source: str,
    backend: str,
    notebook_path: str,
    notebook_abspath: str | None = None,
    kernel_name: str = "",
    seed: int = 0,
    created_at: datetime | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """The column values of a new ``runs`` row: what every run has, the snapshot columns
    empty unless ``columns`` give them (:data:`NO_SNAPSHOT`), then any other ``columns``
    (status, gpus, branch, schedule...). ``notebook_abspath`` defaults to the path."""
    return {
        "id": run_id,
        "created_at": created_at or utcnow(),
        "source": source,
        "backend": backend,
        "notebook_path": notebook_path,
        "notebook_abspath": notebook_path if notebook_abspath is None else notebook_abspath,
        "kernel_name": kernel_name,
        "seed": seed,
        **NO_SNAPSHOT,
        **columns,
    }


def new_run(run_id: str, **values: Any) -> Run:
    """A new, unsaved :class:`Run` from :func:`run_values` (same arguments)."""
    return Run(**run_values(run_id, **values))


def param_rows(params: Mapping[str, tuple[Any, ...]]) -> list[RunParam]:
    """``{name: (value, type name[, overridden])}`` as run param rows (values stored as
    JSON); without the flag a value is an override (it was given for the run)."""
    return [
        RunParam(
            name=name,
            value_json=json.dumps(row[0]),
            type_name=row[1],
            overridden=bool(row[2]) if len(row) > 2 else True,
        )
        for name, row in params.items()
    ]


def tag_rows(tags: Iterable[str]) -> list[RunTag]:
    return [RunTag(tag=tag) for tag in sorted(set(tags))]


# Core statements on the tables, built once: the ORM's statement cache keys and unit of
# work cost more than the four inserts themselves.
_INSERT_RUN = insert(Run.__table__)
_INSERT_PARAM = insert(RunParam.__table__)
_INSERT_TAG = insert(RunTag.__table__)
_INSERT_EVENT = insert(RunEvent.__table__)
_RUN_COLUMNS = [(c.key, c.default) for c in Run.__table__.columns]


def _column_values(run: Run) -> dict[str, Any]:
    """The ``runs`` row of an unsaved ``run``, with the columns' scalar defaults filled in
    on ``run`` too (what an ORM flush would have done), so the caller's object is the row."""
    values: dict[str, Any] = {}
    state = run.__dict__  # the attributes given (an unsaved object has no lazy ones)
    for key, default in _RUN_COLUMNS:
        value = state.get(key)
        if value is None and default is not None and getattr(default, "is_scalar", False):
            value = default.arg  # type: ignore[attr-defined]
            setattr(run, key, value)
        values[key] = value
    return values


class RunLifecycle(StoreBase):
    """Runs and their status (a part of :class:`~jupyter_mlops.store.RunStore`)."""

    def create_run(
        self,
        run: Run,
        *,
        params: Mapping[str, tuple[Any, ...]] = {},
        tags: Iterable[str] = (),
        fired_by: str | None = None,
    ) -> Run:
        """Insert a run with its parameters and tags in one transaction (all or nothing);
        ``fired_by``: the note of why a trigger fired it, an event of kind ``trigger``.

        Returns ``run`` itself, as written: the flush fills its column defaults and the
        session does not expire it, so reading the row back (half the cost of a submit's
        store work) would only return the same values."""
        run.status = RunStatus.QUEUED.value
        run.created_at = run.created_at or utcnow()
        run.params = param_rows(params)
        run.tags = tag_rows(tags)
        for child in (*run.params, *run.tags):
            child.run_id = run.id
        with self.writing() as session:
            conn = session.connection()
            conn.execute(_INSERT_RUN, [_column_values(run)])
            if run.params:
                conn.execute(
                    _INSERT_PARAM,
                    [
                        {
                            "run_id": run.id,
                            "name": p.name,
                            "value_json": p.value_json,
                            "type_name": p.type_name,
                            "overridden": p.overridden,
                        }
                        for p in run.params
                    ],
                )
            if run.tags:
                conn.execute(_INSERT_TAG, [{"run_id": run.id, "tag": t.tag} for t in run.tags])
            conn.execute(
                _INSERT_EVENT,
                {"run_id": run.id, "at": run.created_at, "kind": "status", "status": run.status},
            )
            if fired_by is not None:
                conn.execute(
                    _INSERT_EVENT,
                    {
                        "run_id": run.id,
                        "at": run.created_at,
                        "kind": "trigger",
                        "message": fired_by,
                    },
                )
        return run

    def get_run(self, run_id: str) -> Run | None:
        with self.reading() as session:
            return session.scalar(
                select(Run)
                .where(Run.id == run_id)
                .options(selectinload(Run.params), selectinload(Run.tags))
            )

    def require_run(self, run_id: str) -> Run:
        return found(self.get_run(run_id), RunNotFound(run_id))

    def resolve_run_id(self, prefix: str) -> str:
        """Accept a unique prefix of a run id, as git does for commits."""
        if not prefix:
            raise RunNotFound(prefix)
        with self.reading() as session:
            ids = ids_with_prefix(session, Run.id, prefix)
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise RunNotFound(prefix)
        raise LookupError(f"run id prefix {prefix!r} is ambiguous; give more characters")

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

    def record_runs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert finished run rows (:func:`run_values`) as they are: no params, tags or
        status event, one Core executemany. For runs that were never executed, where the
        cost of recording them must stay out of the way (test and benchmark doubles)."""
        if not rows:
            return
        with self.writing() as session:
            session.connection().execute(insert(Run.__table__), [dict(r) for r in rows])
