"""Response shapes of verified reproductions, the reproducibility summary and the input
comparison (drift) of two runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import ResponseModel, Timestamp

Verdict = Literal["identical", "equivalent", "differs"]


class InputCheck(ResponseModel):
    """One recorded input of the original, checked before its reproduction ran."""

    kind: str = Field(description="commit | kernel | package | dataset | artifact")
    name: str
    status: Literal["same", "changed", "missing", "added", "unknown"]
    reason: str = Field(description="`same`, `changed: old → new` or `missing`")
    blocking: bool = Field(
        description="Whether this refuses the reproduction (unless changed inputs are allowed)."
    )
    original: str | None = None
    current: str | None = None


class VerifyOptions(ResponseModel):
    rtol: float
    atol: float
    normalize: list[str] = Field(description="Regexes of volatile text replaced before comparing.")
    allow_changed_inputs: bool
    strict_env: bool


class CellDifference(ResponseModel):
    cell_index: int = Field(description="0-based, as the run's cell progress counts cells.")
    outcome: Literal["equivalent", "differs"]
    original: str
    reproduction: str
    diff: str = Field(description="A short unified diff, original → reproduction.")
    source: str


class MetricDifference(ResponseModel):
    key: str
    step: int | None
    original: float | None
    reproduction: float | None
    outcome: Literal["equivalent", "differs"]
    why: str


class ModelDifference(ResponseModel):
    name: str
    original: str | None = Field(description="sha256 of the original's weights (null: none).")
    reproduction: str | None


class VerificationResult(ResponseModel):
    verdict: Verdict
    summary: str
    cells: list[CellDifference] = Field(description="The first differing cells.")
    metrics: list[MetricDifference]
    models: list[ModelDifference]
    counts: dict[str, int]


class RunVerification(ResponseModel):
    """A verified reproduction: what it was compared with and, once it ended, the verdict."""

    original_id: str
    requested_at: Timestamp | None
    options: VerifyOptions
    inputs: list[InputCheck]
    changed_inputs: bool = Field(description="It ran although inputs changed (allowed).")
    verdict: Verdict | None = Field(
        description="null until the reproduction ends.",
        json_schema_extra={"enum": ["identical", "equivalent", "differs", None]},
    )
    summary: str | None
    result: VerificationResult | None
    finished_at: Timestamp | None


class ReproducibilityItem(ResponseModel):
    item: str
    pinned: bool
    detail: str


class ColumnDrift(ResponseModel):
    column: str
    type: str
    psi: float | None = Field(description="Population stability index (null: not computable).")
    ks: float | None = Field(description="Kolmogorov-Smirnov statistic (numeric columns).")
    flagged: bool
    note: str


class InputSide(ResponseModel):
    uri: str
    sha256: str
    size: int
    rows: int | None
    kind: str


class InputComparison(ResponseModel):
    name: str
    status: Literal["same", "changed", "only_first", "only_second"]
    first: InputSide | None
    second: InputSide | None
    drift: list[ColumnDrift] | None = Field(description="Per column, when the content changed.")
    flagged: bool


class InputsComparison(ResponseModel):
    """Two runs' inputs side by side, with drift per column of changed tables."""

    first: str
    second: str
    psi_threshold: float
    ks_threshold: float
    inputs: list[InputComparison]
