"""The model registry's queries and transactions (a part of
:class:`~jupyter_mlops.store.RunStore`).

Every change that must not race takes the model's row lock first (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite every write transaction already holds the database's
write lock from its ``BEGIN IMMEDIATE``), so per model there is one writer at a time:
version numbers are allocated from ``last_version`` without gaps or duplicates, and an
alias moves by compare-and-set against the holder the caller saw. The audit event of a
change is written in the same transaction as the change, so the history never disagrees
with the state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from .base import StoreBase, found
from .models import Artifact, Run
from .models_registry import ModelAlias, ModelVersion, RegisteredModel, RegistryEvent
from .runs import RunNotFound
from .types import utcnow

FINAL_PROMOTION_ACTIONS = ("alias_set", "promotion_refused")


class ModelNotFound(LookupError):
    """No registered model, version or alias by that name, or no model artifact to
    register; the message says which."""


class RegistryConflict(ValueError):
    """The change contradicts the registry's state (the message says how)."""


class AliasMoved(RegistryConflict):
    """The alias no longer names the version the caller checked against."""

    def __init__(self, name: str, alias: str, expected: int | None, actual: int | None) -> None:
        def shown(v: int | None) -> str:
            return f"version {v}" if v is not None else "no version"

        super().__init__(
            f"alias {name}@{alias} moved meanwhile: it names {shown(actual)}, not "
            f"{shown(expected)} as when the promotion was checked; nothing changed"
        )
        self.expected = expected
        self.actual = actual


def audit(
    session: Session,
    name: str,
    action: str,
    *,
    actor: str,
    at: datetime | None = None,
    details: Mapping[str, Any] | None = None,
    **fields: Any,
) -> RegistryEvent:
    """Add the audit event of a change to ``name`` to the change's own transaction, so
    the history never holds an event without its change or a change without its event."""
    event = RegistryEvent(
        model_name=name,
        at=at or utcnow(),
        actor=actor,
        action=action,
        details=dict(details) if details else None,
        **fields,
    )
    session.add(event)
    return event


@dataclass
class ModelListing:
    """A model with what its list row shows."""

    model: RegisteredModel
    aliases: dict[str, int]
    versions: int
    latest_version: int | None


class RegistryStore(StoreBase):
    """Registered models, versions, aliases and the audit trail."""

    # -- reading ------------------------------------------------------------------------

    @staticmethod
    def _model(session: Session, name: str, *, lock: bool = False) -> RegisteredModel:
        query = select(RegisteredModel).where(RegisteredModel.name == name)
        if lock:
            query = query.with_for_update()
        return found(session.scalar(query), ModelNotFound(f"no registered model named {name!r}"))

    def get_model(self, name: str) -> RegisteredModel | None:
        with self.reading() as session:
            return session.scalar(select(RegisteredModel).where(RegisteredModel.name == name))

    def require_model(self, name: str) -> RegisteredModel:
        with self.reading() as session:
            return self._model(session, name)

    def list_models(self) -> list[ModelListing]:
        with self.reading() as session:
            models = session.scalars(select(RegisteredModel).order_by(RegisteredModel.name)).all()
            counts = dict(
                session.execute(
                    select(ModelVersion.model_id, func.count()).group_by(ModelVersion.model_id)
                ).all()
            )
            latest = dict(
                session.execute(
                    select(ModelVersion.model_id, func.max(ModelVersion.version)).group_by(
                        ModelVersion.model_id
                    )
                ).all()
            )
            aliases: dict[int, dict[str, int]] = {}
            for model_id, alias, version in session.execute(
                select(ModelAlias.model_id, ModelAlias.alias, ModelVersion.version)
                .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
                .order_by(ModelAlias.alias)
            ).all():
                aliases.setdefault(model_id, {})[alias] = version
        return [
            ModelListing(m, aliases.get(m.id, {}), counts.get(m.id, 0), latest.get(m.id))
            for m in models
        ]

    def model_versions(self, name: str) -> list[ModelVersion]:
        with self.reading() as session:
            model = self._model(session, name)
            return list(
                session.scalars(
                    select(ModelVersion)
                    .where(ModelVersion.model_id == model.id)
                    .order_by(ModelVersion.version)
                ).all()
            )

    def model_aliases(self, name: str) -> dict[str, int]:
        """``{alias: version number}`` of a model."""
        with self.reading() as session:
            model = self._model(session, name)
            return self._aliases(session, model.id)

    @staticmethod
    def _aliases(session: Session, model_id: int) -> dict[str, int]:
        rows = session.execute(
            select(ModelAlias.alias, ModelVersion.version)
            .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
            .where(ModelAlias.model_id == model_id)
            .order_by(ModelAlias.alias)
        ).all()
        return {alias: version for alias, version in rows}

    def get_version(self, name: str, version: int) -> ModelVersion:
        with self.reading() as session:
            return self._version(session, self._model(session, name), version)

    @staticmethod
    def _version(session: Session, model: RegisteredModel, version: int) -> ModelVersion:
        row = session.scalar(
            select(ModelVersion).where(
                ModelVersion.model_id == model.id, ModelVersion.version == version
            )
        )
        return found(row, ModelNotFound(f"model {model.name!r} has no version {version}"))

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``name@alias`` names (one indexed join: what serving resolves)."""
        with self.reading() as session:
            row = session.scalar(
                select(ModelVersion)
                .join(ModelAlias, ModelAlias.version_id == ModelVersion.id)
                .join(RegisteredModel, RegisteredModel.id == ModelAlias.model_id)
                .where(RegisteredModel.name == name, ModelAlias.alias == alias)
            )
            if row is None:
                self._model(session, name)  # an unknown model says so
                raise ModelNotFound(f"model {name!r} has no alias {alias!r}")
            return row

    def alias_holder(self, name: str, alias: str) -> int | None:
        """The version number ``name@alias`` names now, None when it names none."""
        with self.reading() as session:
            return self._aliases(session, self._model(session, name).id).get(alias)

    def versions_of_run(self, run_id: str) -> list[tuple[str, int]]:
        """(model name, version) of every registered version made from the run."""
        with self.reading() as session:
            rows = session.execute(
                select(RegisteredModel.name, ModelVersion.version)
                .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                .where(ModelVersion.run_id == run_id)
                .order_by(RegisteredModel.name, ModelVersion.version)
            ).all()
        return [(name, version) for name, version in rows]

    def model_history(self, name: str) -> list[RegistryEvent]:
        """Every event of the model, oldest first (also after the model was deleted)."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(RegistryEvent)
                    .where(RegistryEvent.model_name == name)
                    .order_by(RegistryEvent.id)
                ).all()
            )

    def registry_event(self, event_id: int) -> RegistryEvent | None:
        with self.reading() as session:
            return session.get(RegistryEvent, event_id)

    def promotion_outcome(self, promotion_id: int) -> RegistryEvent | None:
        """The event that ended promotion ``promotion_id``; None while it is pending."""
        with self.reading() as session:
            return session.scalar(
                select(RegistryEvent).where(
                    RegistryEvent.promotion_id == promotion_id,
                    RegistryEvent.action.in_(FINAL_PROMOTION_ACTIONS),
                )
            )

    def pending_promotions(self) -> list[RegistryEvent]:
        """``promotion_started`` events no outcome has ended yet, oldest first."""
        outcome = aliased(RegistryEvent)
        with self.reading() as session:
            return list(
                session.scalars(
                    select(RegistryEvent)
                    .outerjoin(
                        outcome,
                        (outcome.promotion_id == RegistryEvent.id)
                        & outcome.action.in_(FINAL_PROMOTION_ACTIONS),
                    )
                    .where(RegistryEvent.action == "promotion_started", outcome.id.is_(None))
                    .order_by(RegistryEvent.id)
                ).all()
            )

    # -- writing ------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        actor: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        try:
            with self.writing() as session:
                model = RegisteredModel(
                    name=name,
                    description=description,
                    tags=dict(tags or {}),
                    created_by=actor,
                    created_at=utcnow(),
                    last_version=0,
                )
                session.add(model)
        except IntegrityError:
            raise RegistryConflict(f"a model named {name!r} is already registered") from None
        return model

    def register_version(
        self,
        name: str,
        run_id: str,
        artifact_name: str,
        *,
        actor: str,
        description: str = "",
        signature: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Make the run's model artifact the model's next version (the model is created on
        first use); one transaction with its ``register`` event."""
        if self.get_model(name) is None:
            with contextlib.suppress(RegistryConflict):  # someone else made it meanwhile
                self.create_model(name, actor=actor)
        with self.writing() as session:
            model = self._model(session, name, lock=True)
            if session.get(Run, run_id) is None:
                raise RunNotFound(run_id)
            artifact = session.scalar(
                select(Artifact).where(Artifact.run_id == run_id, Artifact.name == artifact_name)
            )
            if artifact is None:
                raise ModelNotFound(f"run {run_id} has no artifact named {artifact_name!r}")
            if artifact.kind != "model":
                raise RegistryConflict(
                    f"artifact {artifact_name!r} of run {run_id} is a {artifact.kind}, not a "
                    "model logged with log_model"
                )
            meta = dict(artifact.meta or {})
            model.last_version += 1
            version = ModelVersion(
                model_id=model.id,
                version=model.last_version,
                run_id=run_id,
                artifact_name=artifact_name,
                sha256=artifact.sha256,
                size=artifact.size,
                framework="torch" if "torch_version" in meta else meta.get("framework", ""),
                framework_version=str(meta.get("torch_version", meta.get("framework_version", ""))),
                class_name=str(meta.get("architecture", "")),
                parameter_count=meta.get("parameters"),
                signature=dict(signature) if signature else meta.get("signature"),
                description=description,
                created_at=utcnow(),
                created_by=actor,
            )
            session.add(version)
            details = {"run_id": run_id, "artifact": artifact_name, "sha256": artifact.sha256}
            audit(
                session,
                name,
                "register",
                actor=actor,
                at=version.created_at,
                version=version.version,
                details=details,
            )
        return version

    def move_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        expected: int | None,
        actor: str,
        action: str = "alias_set",
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
        promotion_id: int | None = None,
    ) -> RegistryEvent:
        """Point ``name@alias`` at ``version`` if it still names ``expected`` (None: no
        version), else raise :class:`AliasMoved`; the event is written with the move."""
        with self.writing() as session:
            model = self._model(session, name, lock=True)
            target = self._version(session, model, version)
            if promotion_id is not None and self._outcome_in(session, promotion_id):
                raise RegistryConflict(f"promotion {promotion_id} has already ended")
            current = session.get(ModelAlias, (model.id, alias))
            holder = None
            if current is not None:
                holder = session.scalar(
                    select(ModelVersion.version).where(ModelVersion.id == current.version_id)
                )
            if holder != expected:
                raise AliasMoved(name, alias, expected, holder)
            now = utcnow()
            if current is None:
                session.add(
                    ModelAlias(
                        model_id=model.id,
                        alias=alias,
                        version_id=target.id,
                        updated_at=now,
                        updated_by=actor,
                    )
                )
            else:
                current.version_id = target.id
                current.updated_at = now
                current.updated_by = actor
            return audit(
                session,
                name,
                action,
                actor=actor,
                at=now,
                version=version,
                alias=alias,
                previous_version=holder,
                promotion_id=promotion_id,
                reason=reason,
                details=details,
            )

    @staticmethod
    def _outcome_in(session: Session, promotion_id: int) -> bool:
        return (
            session.scalar(
                select(RegistryEvent.id).where(
                    RegistryEvent.promotion_id == promotion_id,
                    RegistryEvent.action.in_(FINAL_PROMOTION_ACTIONS),
                )
            )
            is not None
        )

    def record_registry_event(
        self,
        name: str,
        action: str,
        *,
        actor: str,
        version: int | None = None,
        alias: str | None = None,
        previous_version: int | None = None,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
        promotion_id: int | None = None,
    ) -> RegistryEvent:
        """Append an event that changes nothing else (a started or refused promotion).
        A refusal that ends a promotion is written once: a second one raises."""
        with self.writing() as session:
            if promotion_id is not None:  # the model may be gone: its refusal is still kept
                session.scalar(
                    select(RegisteredModel.id).where(RegisteredModel.name == name).with_for_update()
                )
                if self._outcome_in(session, promotion_id):
                    raise RegistryConflict(f"promotion {promotion_id} has already ended")
            return audit(
                session,
                name,
                action,
                actor=actor,
                version=version,
                alias=alias,
                previous_version=previous_version,
                promotion_id=promotion_id,
                reason=reason,
                details=details,
            )

    def set_policy(self, name: str, policy: Mapping[str, Any] | None, *, actor: str) -> None:
        with self.writing() as session:
            model = self._model(session, name, lock=True)
            model.policy = dict(policy) if policy else None
            audit(session, name, "policy_set", actor=actor, details={"policy": model.policy})

    def delete_version(self, name: str, version: int, *, actor: str, reason: str | None) -> None:
        """Remove a version no alias names (move or clear the alias first)."""
        with self.writing() as session:
            model = self._model(session, name, lock=True)
            row = self._version(session, model, version)
            named = [a for a, v in self._aliases(session, model.id).items() if v == version]
            if named:
                raise RegistryConflict(
                    f"version {version} of {name!r} is named by alias(es) "
                    f"{', '.join('@' + a for a in named)}; move them before deleting it"
                )
            session.delete(row)
            audit(session, name, "delete", actor=actor, version=version, reason=reason)

    def delete_model(self, name: str, *, actor: str, reason: str | None) -> None:
        """Remove the model with its versions and aliases; its history stays."""
        with self.writing() as session:
            model = self._model(session, name, lock=True)
            session.execute(delete(ModelAlias).where(ModelAlias.model_id == model.id))
            session.execute(delete(ModelVersion).where(ModelVersion.model_id == model.id))
            session.delete(model)
            audit(session, name, "delete", actor=actor, reason=reason)
