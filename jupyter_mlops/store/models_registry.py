"""The model registry's tables: registered models, their versions, aliases, audit events.

A version points at a model artifact of a run (by run id, artifact name and the digest of
its bytes), so everything the run knows (commit, parameters, datasets, environment) is its
lineage. Versions are numbered 1, 2, 3... per model; an alias names at most one version of
its model (the primary key). Events are append-only: what happened, who did it, why, and
the validation behind it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base
from .types import JSONType, UTCDateTime, utcnow

REGISTRY_ACTIONS = (
    "register",
    "alias_set",
    "promotion_started",
    "promotion_refused",
    "promotion_forced",
    "policy_set",
    "delete",
)
"""What a registry event records; ``promotion_started`` is followed by exactly one of
``alias_set`` or ``promotion_refused`` naming it in ``promotion_id``."""


class RegisteredModel(Base):
    """A named model: what its versions are versions of."""

    __tablename__ = "registered_models"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """The promotion policy: ``{"validate": notebook path, "require": [requirement, ...]}``."""
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    """The highest version number ever given: numbers are never reused after a delete."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255), default="")


class ModelVersion(Base):
    """One version of a registered model: a logged model artifact of a run."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version", name="uq_model_versions_model_id_version"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    model_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("registered_models.id", ondelete="CASCADE"),
    )
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(32), ForeignKey("runs.id"), index=True)
    """No cascade: a run whose model is registered cannot be deleted (its weights would go)."""
    artifact_name: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    framework: Mapped[str] = mapped_column(String(64), default="")
    framework_version: Mapped[str] = mapped_column(String(64), default="")
    class_name: Mapped[str] = mapped_column(Text, default="")
    parameter_count: Mapped[int | None] = mapped_column(BigInteger)
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255), default="")


class ModelAlias(Base):
    """``@alias`` of a model: the primary key makes it name one version at most."""

    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("registered_models.id", ondelete="CASCADE"),
        primary_key=True,
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        index=True,
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(255), default="")


class RegistryEvent(Base):
    """One audited change of the registry. Kept by model name, so the history of a deleted
    model (and its deletion) stays readable."""

    __tablename__ = "registry_events"
    __table_args__ = (Index("ix_registry_events_model_name_id", "model_name", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(32))
    version: Mapped[int | None] = mapped_column(Integer)
    alias: Mapped[str | None] = mapped_column(String(64))
    previous_version: Mapped[int | None] = mapped_column(Integer)
    """The version the alias named before (alias moves and promotions)."""
    promotion_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """The ``promotion_started`` event this event ends (None for others)."""
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """Validation run ids, requirements and their verdicts, values."""
