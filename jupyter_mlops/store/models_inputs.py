"""The ``run_inputs`` table: what a run read (datasets by content hash, upstream
artifacts), so a result can be traced back to its data and a reproduction checked
against it. Declared on the shared :class:`~.models.Base`; the rows go with their run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, run_owned
from .types import JSONType, UTCDateTime, utcnow

INPUT_SOURCES = ("parameter", "use_dataset", "upstream")
INPUT_KINDS = ("dataset", "artifact")


class RunInputRecord(Base):
    """One input of a run. ``name`` is the parameter's name (``source="parameter"``),
    the name given to ``use_dataset`` or else its URI; a name recorded again replaces
    the earlier row. ``uri`` is the absolute path, glob or URL; ``sha256`` the content
    hash (a directory's or glob's manifest hash); ``mtime`` seconds since the epoch (the
    newest file of a manifest); ``etag``/``version_id`` what an object store reported;
    ``stats`` the table summary of a tabular file (see
    :mod:`jupyter_mlops.datasets.stats`)."""

    __tablename__ = "run_inputs"
    __table_args__ = (
        UniqueConstraint("run_id", "name", name="uq_run_inputs_run_id_name"),
        Index("ix_run_inputs_sha256", "sha256"),
        Index("ix_run_inputs_uri", "uri"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = run_owned(index=True)
    name: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(16), default="dataset")
    source: Mapped[str] = mapped_column(String(16))
    uri: Mapped[str] = mapped_column(String(2048))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    file_count: Mapped[int] = mapped_column(Integer, default=1)
    mtime: Mapped[float | None] = mapped_column(Float)
    etag: Mapped[str | None] = mapped_column(String(255))
    version_id: Mapped[str | None] = mapped_column(String(255))
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    """Free text, e.g. which run produced an upstream artifact."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "uri": self.uri,
            "sha256": self.sha256,
            "size": self.size,
            "file_count": self.file_count,
            "mtime": self.mtime,
            "etag": self.etag,
            "version_id": self.version_id,
            "stats": self.stats,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "note": self.note,
        }
