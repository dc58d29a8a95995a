"""The ``run_output`` table: what a run's cells printed, in order, as it happened.

Rows are written by the runner in batches (a few per second at most) and read by the REST
API, the event stream and ``jupyter mlops logs``. The text is bounded per cell and per run
(``output_cell_max_bytes``, ``output_run_max_bytes``): beyond the cap one ``notice`` row
says so and the full text goes to the run's ``logs/output.txt`` artifact instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, run_owned
from .types import UTCDateTime, utcnow

NOTICE_STREAM = "notice"
"""The ``stream`` of a row written by jupyter-mlops itself (the truncation marker)."""


class RunOutputChunk(Base):
    """One piece of a run's output: a stream write, a result or an error, or a notice.

    ``seq`` numbers a run's chunks from 1 (the cursor clients resume from); ``id`` is
    global and never reused (SQLite ``AUTOINCREMENT``), so the event stream can poll
    ``WHERE id > last`` across runs without missing rows after a deletion.
    """

    __tablename__ = "run_output"
    __table_args__ = (
        Index("ix_run_output_run_id_seq", "run_id", "seq", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = run_owned()
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cell_index: Mapped[int | None] = mapped_column(Integer)
    stream: Mapped[str] = mapped_column(String(16))  # stdout | stderr | result | error | notice
    text: Mapped[str] = mapped_column(Text)
