"""Verified reproductions: the request written at submit, the verdict written at the end
(a part of :class:`~jupyter_mlops.store.RunStore`; the table is in :mod:`.models_verify`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import update

from .base import StoreBase
from .models_verify import RunVerification
from .types import utcnow


def verification_json(row: RunVerification) -> dict[str, Any]:
    """A verification as the REST API and ``show --json`` give it."""
    return {
        "original_id": row.original_id,
        "requested_at": row.requested_at.isoformat() if row.requested_at else None,
        "options": dict(row.options or {}),
        "inputs": list(row.inputs or []),
        "changed_inputs": bool(row.changed_inputs),
        "verdict": row.verdict,
        "summary": row.summary,
        "result": dict(row.result) if row.result is not None else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


class VerificationStore(StoreBase):
    def add_verification_request(
        self,
        run_id: str,
        *,
        original_id: str,
        options: Mapping[str, Any],
        inputs: Sequence[Mapping[str, Any]],
        changed_inputs: bool,
    ) -> None:
        with self.writing() as session:
            session.add(
                RunVerification(
                    run_id=run_id,
                    original_id=original_id,
                    requested_at=utcnow(),
                    options=dict(options),
                    inputs=[dict(i) for i in inputs],
                    changed_inputs=changed_inputs,
                )
            )

    def record_verdict(
        self, run_id: str, verdict: str, summary: str, result: Mapping[str, Any]
    ) -> bool:
        """Write the verdict once: False when there is no request or it already has one."""
        with self.writing() as session:
            done = session.execute(
                update(RunVerification)
                .where(RunVerification.run_id == run_id, RunVerification.verdict.is_(None))
                .values(verdict=verdict, summary=summary, result=dict(result), finished_at=utcnow())
            )
            return bool(done.rowcount)

    def verification(self, run_id: str) -> dict[str, Any] | None:
        """The run's verification (request and verdict), or None when it was not verified."""
        with self.reading() as session:
            row = session.get(RunVerification, run_id)
            return verification_json(row) if row is not None else None
