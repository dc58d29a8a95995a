"""What a run records besides its status: artifacts, its environment, logged params, tags.

Artifact rows name blobs of the content-addressed artifact store by digest (the blobs
themselves live in :mod:`jupyter_mlops.artifacts`); the garbage collector asks here which
digests no row refers to any more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, select

from .base import StoreBase, chunks
from .models import Artifact, Environment, RunParam, RunTag
from .types import utcnow

LOGGED_PARAM_TYPE = "logged"
"""``run_params.type_name`` of values logged with ``log_params`` (not job parameters)."""
LOGGED_PARAM_PREFIX = "logged."
"""Name prefix for a logged value that differs from a job parameter of the same name."""


def injected_params(run: Any) -> list[RunParam]:
    """The run params papermill injects: the job's overrides (a secret among them), not
    the notebook's defaults recorded beside them, nor values the notebook logged."""
    return [p for p in run.params if p.overridden and p.type_name != LOGGED_PARAM_TYPE]


class ArtifactStore(StoreBase):
    """Artifacts, environment, logged params and tags (a part of
    :class:`~jupyter_mlops.store.RunStore`)."""

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

    def update_environment(self, run_id: str, patch: Mapping[str, Any]) -> None:
        """Merge top-level keys into the run's environment record (created if missing)."""
        with self.writing() as session:
            env = session.get(Environment, run_id)
            if env is None:
                session.add(Environment(run_id=run_id, captured_at=utcnow(), data=dict(patch)))
            else:
                env.data = {**(env.data or {}), **patch}

    def environment(self, run_id: str) -> dict[str, Any] | None:
        with self.reading() as session:
            env = session.get(Environment, run_id)
            return dict(env.data) if env else None

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> dict[str, str]:
        """Record values logged from the notebook as run params of type ``"logged"``.

        Job parameters are never overwritten: a logged value equal to the job parameter
        of the same name is already recorded and is skipped; a different one is stored as
        ``logged.<name>``. Logging a name again replaces the logged value. Returns
        {given name: stored name} for what was written. Values must be JSON-serializable.
        """
        written: dict[str, str] = {}
        with self.writing() as session:
            existing = {
                p.name: p
                for p in session.scalars(
                    select(RunParam).where(
                        RunParam.run_id == run_id, RunParam.name.in_(list(params))
                    )
                ).all()
            }
            for name, value in params.items():
                stored = name
                job_param = existing.get(name)
                if job_param is not None and job_param.type_name != LOGGED_PARAM_TYPE:
                    if json.loads(job_param.value_json) == value:
                        continue
                    stored = LOGGED_PARAM_PREFIX + name
                session.merge(
                    RunParam(
                        run_id=run_id,
                        name=stored,
                        value_json=json.dumps(value),
                        type_name=LOGGED_PARAM_TYPE,
                    )
                )
                written[name] = stored
        return written

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set ``key=value`` tags: a key's previous ``key=...`` tag is replaced."""
        with self.writing() as session:
            for key, value in tags.items():
                session.execute(
                    delete(RunTag).where(
                        RunTag.run_id == run_id, RunTag.tag.startswith(f"{key}=", autoescape=True)
                    )
                )
                session.add(RunTag(run_id=run_id, tag=f"{key}={value}"))

    def unreferenced_artifact_digests(self, digests: Iterable[str]) -> set[str]:
        """Those of ``digests`` that no artifact row of any run refers to any more."""
        wanted = sorted(set(digests))
        referenced: set[str] = set()
        with self.reading() as session:
            for chunk in chunks(wanted, 500):
                referenced.update(
                    session.scalars(
                        select(Artifact.sha256).where(Artifact.sha256.in_(list(chunk))).distinct()
                    ).all()
                )
        return set(wanted) - referenced
