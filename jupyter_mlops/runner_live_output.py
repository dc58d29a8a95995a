"""The runner's live output: what the cells print, into the store while they run.

The papermill engine hands every output the kernel sends (a stream write, a result, an
error) to :meth:`OutputRecorder.output`, which only turns it into text and appends it to a
list under a lock (microseconds; a cell that prints nothing costs nothing). The recorder's
thread then, at most every :data:`OUTPUT_BATCH_SECONDS`:

* appends everything to ``logs/output.txt`` in the run directory, the full text, stored
  as the run's artifact of that name at the end;
* writes the same pieces, coalesced per cell and stream, to the store in one transaction,
  up to ``output_cell_max_bytes`` per cell and ``output_run_max_bytes`` per run; past a cap
  one ``notice`` chunk says so, so a cell printing 100 MB fills neither the store nor a
  browser following the run.

Known secrets (secret parameter values, the server's token) are replaced by ``***`` in
both, as in the environment record.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .runner_progress import RunThread
from .store import RunStore
from .store.models_output import NOTICE_STREAM
from .store.output import OutputPiece

log = logging.getLogger("jupyter_mlops.runner")

OUTPUT_BATCH_SECONDS = 0.25
LIVE_OUTPUT_FILE = Path("logs") / "output.txt"
"""The full output, in the run directory while it runs."""
LIVE_OUTPUT_ARTIFACT = "logs/output.txt"
"""The artifact holding the full output of a run that printed anything."""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def output_text(output: Mapping[str, Any]) -> tuple[str, str] | None:
    """(stream, text) of one notebook output node, or None for one without text.

    Streams keep their name (``stdout``/``stderr``); results and displays show their
    ``text/plain`` (or name the kind of data they hold); errors their traceback without
    terminal colours.
    """
    kind = output.get("output_type")
    if kind == "stream":
        return str(output.get("name") or "stdout"), str(output.get("text") or "")
    if kind in ("execute_result", "display_data"):
        data = output.get("data") or {}
        text = data.get("text/plain")
        if text is None:
            text = "[" + ", ".join(sorted(data)) + "]" if data else ""
        text = "".join(text) if isinstance(text, list) else str(text)
        return "result", text + ("" if text.endswith("\n") or not text else "\n")
    if kind == "error":
        lines = output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"]
        return "error", _ANSI.sub("", "\n".join(lines)) + "\n"
    return None


def valid_text(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates (undecodable bytes a cell wrote with
    ``surrogateescape``) become ``?``, which neither the store nor JSON refuses."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _utf8_prefix(text: str, limit: int) -> str:
    """The longest prefix of ``text`` of at most ``limit`` UTF-8 bytes."""
    return text.encode("utf-8")[: max(0, limit)].decode("utf-8", errors="ignore")


class OutputBudget:
    """Which part of each piece goes to the store: the per-cell and per-run caps."""

    def __init__(self, cell_max: int, run_max: int) -> None:
        self.cell_max = cell_max
        self.run_max = run_max
        self.run_bytes = 0
        self.cell_bytes: dict[int | None, int] = {}
        self.full_cells: set[int | None] = set()
        self.run_full = False

    def admit(self, piece: OutputPiece) -> list[OutputPiece]:
        """The pieces to store for ``piece``: itself, a prefix and a notice, or nothing."""
        cell = piece.cell_index
        if self.run_full or cell in self.full_cells:
            return []
        size = len(piece.text.encode("utf-8"))
        used = self.cell_bytes.get(cell, 0)
        room = min(self.cell_max - used, self.run_max - self.run_bytes)
        if size <= room:
            self.cell_bytes[cell] = used + size
            self.run_bytes += size
            return [piece]
        kept = _utf8_prefix(piece.text, room)
        kept_size = len(kept.encode("utf-8"))
        self.cell_bytes[cell] = used + kept_size
        self.run_bytes += kept_size
        if self.run_max - self.run_bytes <= self.cell_max - self.cell_bytes[cell]:
            self.run_full = True
            what = f"the run's output passed {self.run_max} bytes"
        else:
            self.full_cells.add(cell)
            what = f"this cell's output passed {self.cell_max} bytes"
        notice = OutputPiece(
            cell,
            NOTICE_STREAM,
            f"\n[output truncated: {what}; the full text is in the artifact "
            f"{LIVE_OUTPUT_ARTIFACT}]\n",
        )
        return ([OutputPiece(cell, piece.stream, kept)] if kept else []) + [notice]


def coalesce(pieces: Iterable[OutputPiece]) -> list[OutputPiece]:
    """Neighbouring pieces of one cell and stream joined into one (fewer rows)."""
    joined: list[OutputPiece] = []
    for piece in pieces:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.cell_index == piece.cell_index
            and last.stream == piece.stream
            and piece.stream != NOTICE_STREAM
        ):
            joined[-1] = OutputPiece(last.cell_index, last.stream, last.text + piece.text)
        else:
            joined.append(piece)
    return joined


class OutputRecorder(RunThread):
    """Takes the cells' outputs off the execution thread into the file and the store."""

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        run_dir: Path,
        *,
        cell_max: int,
        run_max: int,
        redact: Sequence[str] = (),
    ) -> None:
        super().__init__("mlops-output", store, run_id, OUTPUT_BATCH_SECONDS)
        self.redact = list(redact)
        self.path = run_dir / LIVE_OUTPUT_FILE
        self.budget = OutputBudget(cell_max, run_max)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: list[OutputPiece] = []
        self._file: IO[str] | None = None
        self._store_failed = False

    def output(self, cell_index: int | None, output: Mapping[str, Any]) -> None:
        """An output of cell ``cell_index`` (called on the execution thread: only queues)."""
        found = output_text(output)
        if found is None or not found[1]:
            return
        with self._lock:
            self._pending.append(OutputPiece(cell_index, *found))
        self._wake.set()

    def flush(self) -> None:
        with self._lock:
            pieces, self._pending = self._pending, []
        if not pieces:
            return
        pieces = [p._replace(text=self._clean(p.text)) for p in pieces]
        self._write_file(pieces)
        admitted = [kept for piece in pieces for kept in self.budget.admit(piece)]
        if admitted:
            self.store.append_output(self.run_id, coalesce(admitted))

    def _clean(self, text: str) -> str:
        text = valid_text(text)
        if self.redact:
            from .environment import redact_known_values

            text = redact_known_values(text, self.redact)
        return text

    def _write_file(self, pieces: list[OutputPiece]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8", errors="replace")
        self._file.write("".join(p.text for p in pieces))
        self._file.flush()

    def run(self) -> None:
        while not self._stopping.is_set():
            if not self._wake.wait(self.interval * 4):
                continue  # no output meanwhile (the loop looks at the stop flag)
            if self._stopping.is_set():
                break
            self._wake.clear()
            # gather a burst of outputs into one transaction; stop() does not wait for it
            self._stopping.wait(self.interval)
            self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:  # the store may be briefly unavailable; the file has it all
            if not self._store_failed:
                log.exception("run %s: live output not stored (still in the file)", self.run_id)
            self._store_failed = True

    def stop(self) -> None:
        """Write what is still pending and close the file."""
        self._stopping.set()
        self._wake.set()
        super().stop()
        self._flush_logged()
        if self._file is not None:
            self._file.close()
            self._file = None
