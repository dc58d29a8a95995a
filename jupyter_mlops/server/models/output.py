"""Response shapes of a run's live output (``GET /runs/{id}/output``, ``output`` events)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import ResponseModel, RunStatusName, Timestamp


class OutputChunk(ResponseModel):
    seq: int = Field(json_schema_extra={"minimum": 1}, description="The run's chunk number")
    cell_index: int | None = Field(description="The notebook cell that wrote it (0-based)")
    stream: Literal["stdout", "stderr", "result", "error", "notice"] = Field(
        description="`notice`: written by jupyter-mlops (the truncation marker)."
    )
    text: str
    at: Timestamp


class RunOutput(ResponseModel):
    """A page of a run's output after a cursor; ask again from `next_after` for more."""

    run_id: str
    status: RunStatusName
    chunks: list[OutputChunk]
    next_after: int = Field(
        json_schema_extra={"minimum": 0},
        description="The `after` of the next request: the last `seq` seen.",
    )
    complete: bool = Field(
        description="The run has ended and every chunk was returned: none will follow."
    )
    full_output: str | None = Field(
        description="The artifact holding the run's full output, once stored "
        "(`logs/output.txt`); the store keeps a bounded part."
    )


class RunOutputNotice(ResponseModel):
    """The data of an `output` event: the run has output up to `seq`."""

    run_id: str
    seq: int = Field(json_schema_extra={"minimum": 1})
