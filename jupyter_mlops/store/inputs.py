"""What runs read (a part of :class:`~jupyter_mlops.store.RunStore`): their recorded
inputs, and the lineage queries over them (which runs used this content, which versions
a dataset had, which run produced an artifact).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_

from .base import StoreBase, chunks
from .models import Artifact
from .models_inputs import INPUT_KINDS, INPUT_SOURCES, RunInputRecord


@dataclass
class DatasetVersion:
    """One content (hash) a dataset URI had, and the runs that read it."""

    sha256: str
    size: int
    rows: int | None
    first_used: datetime
    last_used: datetime
    run_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "rows": self.rows,
            "first_used": self.first_used.isoformat(),
            "last_used": self.last_used.isoformat(),
            "run_ids": list(self.run_ids),
        }


@dataclass
class KnownDataset:
    """A dataset URI and its versions, newest first."""

    uri: str
    names: list[str]
    versions: list[DatasetVersion]

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "names": list(self.names),
            "versions": [v.to_dict() for v in self.versions],
        }


def input_record(
    run_id: str, fingerprint: Any, *, name: str | None = None, source: str = "use_dataset"
) -> RunInputRecord:
    """The row for a :class:`~jupyter_mlops.datasets.DatasetFingerprint` (any object with
    its fields) read by ``run_id``."""
    if source not in INPUT_SOURCES:
        raise ValueError(f"input source must be one of {INPUT_SOURCES}, got {source!r}")
    kind = getattr(fingerprint, "kind", "dataset")
    if kind not in INPUT_KINDS:
        raise ValueError(f"input kind must be one of {INPUT_KINDS}, got {kind!r}")
    return RunInputRecord(
        run_id=run_id,
        name=name or fingerprint.uri,
        kind=kind,
        source=source,
        uri=fingerprint.uri,
        sha256=fingerprint.sha256,
        size=int(fingerprint.size),
        file_count=int(fingerprint.file_count),
        mtime=fingerprint.mtime,
        etag=getattr(fingerprint, "etag", None),
        version_id=getattr(fingerprint, "version_id", None),
        stats=getattr(fingerprint, "stats", None),
        note=getattr(fingerprint, "note", None),
    )


def _rows(stats: dict[str, Any] | None) -> int | None:
    rows = (stats or {}).get("rows")
    return rows if isinstance(rows, int) else None


def _group_versions(records: Iterable[RunInputRecord]) -> list[DatasetVersion]:
    versions: dict[str, DatasetVersion] = {}
    for r in records:
        version = versions.get(r.sha256)
        if version is None:
            version = versions[r.sha256] = DatasetVersion(
                r.sha256, r.size, _rows(r.stats), r.recorded_at, r.recorded_at
            )
        version.first_used = min(version.first_used, r.recorded_at)
        version.last_used = max(version.last_used, r.recorded_at)
        if r.run_id not in version.run_ids:
            version.run_ids.append(r.run_id)
    return sorted(versions.values(), key=lambda v: v.last_used, reverse=True)


class InputStore(StoreBase):
    """Run inputs and lineage (a part of :class:`~jupyter_mlops.store.RunStore`)."""

    def add_run_inputs(self, records: Iterable[RunInputRecord]) -> list[RunInputRecord]:
        """Record inputs in one transaction; a (run, name) recorded before is replaced."""
        rows = list(records)
        if not rows:
            return rows
        with self.writing() as session:
            session.execute(
                delete(RunInputRecord).where(
                    tuple_(RunInputRecord.run_id, RunInputRecord.name).in_(
                        [(r.run_id, r.name) for r in rows]
                    )
                )
            )
            session.add_all(rows)
        return rows

    def add_run_input(self, record: RunInputRecord) -> RunInputRecord:
        return self.add_run_inputs([record])[0]

    def run_inputs(self, run_id: str) -> list[RunInputRecord]:
        """The run's inputs in the order they were recorded."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(RunInputRecord)
                    .where(RunInputRecord.run_id == run_id)
                    .order_by(RunInputRecord.id)
                ).all()
            )

    def runs_using(self, sha256: str, *, limit: int = 1000) -> list[RunInputRecord]:
        """Every input row with this content hash (which runs read it, under which name),
        oldest first."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(RunInputRecord)
                    .where(RunInputRecord.sha256 == sha256)
                    .order_by(RunInputRecord.recorded_at, RunInputRecord.id)
                    .limit(limit)
                ).all()
            )

    def dataset_versions(self, uri: str) -> list[DatasetVersion]:
        """The contents ``uri`` was read with, newest use first."""
        with self.reading() as session:
            records = session.scalars(
                select(RunInputRecord)
                .where(RunInputRecord.uri == uri)
                .order_by(RunInputRecord.recorded_at, RunInputRecord.id)
            ).all()
        return _group_versions(records)

    def known_datasets(self) -> list[KnownDataset]:
        """Every dataset URI any run read (``kind="dataset"``), most recently used first."""
        with self.reading() as session:
            records = session.scalars(
                select(RunInputRecord)
                .where(RunInputRecord.kind == "dataset")
                .order_by(RunInputRecord.recorded_at, RunInputRecord.id)
            ).all()
        by_uri: dict[str, list[RunInputRecord]] = {}
        for r in records:
            by_uri.setdefault(r.uri, []).append(r)
        datasets = [
            KnownDataset(uri, sorted({r.name for r in rows}), _group_versions(rows))
            for uri, rows in by_uri.items()
        ]
        return sorted(datasets, key=lambda d: d.versions[0].last_used, reverse=True)

    def artifacts_with_sha256(self, sha256: str) -> list[Artifact]:
        """The artifact rows (of any run) holding these bytes: who produced them."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(Artifact).where(Artifact.sha256 == sha256).order_by(Artifact.id)
                ).all()
            )

    def runs_using_any(self, digests: Iterable[str]) -> dict[str, list[RunInputRecord]]:
        """{sha256: its input rows} for several hashes at once (lineage of a run)."""
        wanted = sorted(set(digests))
        found: dict[str, list[RunInputRecord]] = {d: [] for d in wanted}
        with self.reading() as session:
            for chunk in chunks(wanted, 500):
                for r in session.scalars(
                    select(RunInputRecord)
                    .where(RunInputRecord.sha256.in_(list(chunk)))
                    .order_by(RunInputRecord.recorded_at, RunInputRecord.id)
                ).all():
                    found[r.sha256].append(r)
        return found
