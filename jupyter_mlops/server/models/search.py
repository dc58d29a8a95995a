"""Shapes of the run search (``GET /runs?filter=&order_by=``) and of its column chooser."""

from __future__ import annotations

from pydantic import Field

from .base import ResponseModel


class SearchError(ResponseModel):
    """A filter, order_by or cursor that cannot be used (400)."""

    message: str = Field(
        description="What is wrong and where, e.g. \"expected a value after '<' at column 23\"."
    )
    status: int
    column: int | None = Field(
        None,
        description="1-based column in `filter` (or `order_by`, see `field`) of the mistake.",
    )
    field: str | None = Field(None, description="`filter`, `order_by` or `cursor`.")


class RunKeys(ResponseModel):
    """Every parameter, metric and tag name some run has (at most 1,000 of each)."""

    params: list[str]
    metrics: list[str]
    tags: list[str] = Field(description="Tag keys: `team` for `team=nlp`, or a plain tag.")
