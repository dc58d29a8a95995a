"""The ``run_verifications`` table: a reproduction asked to verify itself, and its verdict.

One row per verified reproduction. It is written when the reproduction is submitted, with
what the run is compared against (the original, the tolerances, the normalization
patterns) and the pre-flight check of every recorded input, so the runner that ends the
reproduction knows what to compare, wherever it was started from (JupyterLab, the CLI, a
schedule). The runner then writes the verdict into it once, before the run's terminal
status, so whoever sees the run finished also sees its verdict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, run_owned
from .types import JSONType, UTCDateTime, utcnow


class RunVerification(Base):
    __tablename__ = "run_verifications"

    run_id: Mapped[str] = run_owned(primary_key=True)
    """The reproduction."""
    original_id: Mapped[str] = mapped_column(String(32), index=True)
    """The run it reproduces (no foreign key: the verdict outlives a deleted original)."""
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType)
    """rtol, atol, normalize (the regexes), allow_changed_inputs, strict_env."""
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    """The pre-flight check: one ``{kind, name, status, reason, ...}`` per recorded input."""
    changed_inputs: Mapped[bool] = mapped_column(Boolean, default=False)
    """Run although an input changed or was missing (``--allow-changed-inputs``)."""
    verdict: Mapped[str | None] = mapped_column(String(16))
    """None until the reproduction ends; then identical | equivalent | differs."""
    summary: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
