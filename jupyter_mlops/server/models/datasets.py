"""Response bodies for datasets and lineage: a run's inputs, known datasets and their
versions, and the lineage of a run or of some content (by sha256)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import ResponseModel, RunStatusName, Timestamp

SHA256_PATTERN = "^[0-9a-f]{64}$"


class RunInput(ResponseModel):
    """Something a run read: a dataset by content hash, or an upstream artifact."""

    name: str = Field(description="The parameter's name, the name given, or the URI.")
    kind: str = Field(description="dataset or artifact")
    source: str = Field(description="parameter, use_dataset or upstream")
    uri: str = Field(description="Absolute path, glob or URL.")
    sha256: str = Field(
        description="Content hash; a directory or glob: the hash of its sorted manifest.",
        json_schema_extra={"pattern": SHA256_PATTERN},
    )
    size: int = Field(json_schema_extra={"minimum": 0})
    file_count: int = Field(json_schema_extra={"minimum": 0})
    mtime: float | None = Field(description="Seconds since the epoch (newest file).")
    etag: str | None
    version_id: str | None
    stats: dict[str, Any] | None = Field(
        description="CSV/Parquet summary: format, rows, sampled, sample_rows, columns."
    )
    recorded_at: Timestamp


class DatasetVersion(ResponseModel):
    """One content a dataset URI was read with."""

    sha256: str = Field(json_schema_extra={"pattern": SHA256_PATTERN})
    size: int
    rows: int | None
    first_used: Timestamp
    last_used: Timestamp
    run_ids: list[str] = Field(description="Runs that read this version, oldest first.")


class Dataset(ResponseModel):
    uri: str
    names: list[str] = Field(description="The names runs gave it.")
    versions: list[DatasetVersion] = Field(description="Newest use first.")


class DatasetList(ResponseModel):
    datasets: list[Dataset] = Field(description="Most recently used first.")


class LineageProducer(ResponseModel):
    """A run that stored this content as an artifact or model."""

    run_id: str
    artifact: str
    kind: str


class LineageUse(ResponseModel):
    """A run that read this content as an input."""

    run_id: str
    name: str
    uri: str


class LineageInput(RunInput):
    used_by: list[str] = Field(description="Other runs that read the same content.")
    versions: list[DatasetVersion] = Field(
        description="Every content this URI was read with (this one included)."
    )
    produced_by: list[LineageProducer] = Field(
        description="Runs whose artifact is this content (the data came from them)."
    )


class LineageOutput(ResponseModel):
    name: str
    kind: str
    sha256: str
    size: int
    used_by: list[LineageUse] = Field(description="Runs that read this artifact's content.")


class LineageRun(ResponseModel):
    id: str
    status: RunStatusName
    notebook: str
    commit: str
    branch: str | None
    base_commit: str | None
    dirty: bool
    reproduced_from: str | None
    created_at: Timestamp


class RunLineage(ResponseModel):
    """Which code and data produced a run's outputs, and who used them."""

    run: LineageRun
    inputs: list[LineageInput]
    outputs: list[LineageOutput]


class ContentLineage(ResponseModel):
    """Where some content (a dataset version, an artifact, a model) came from and went."""

    sha256: str
    produced_by: list[LineageProducer]
    used_by: list[LineageUse]
