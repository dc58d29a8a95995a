"""``jupyter mlops logs RUN_ID [--follow]``: what a run's cells printed.

The output so far, from the store (bounded: past a cap a notice names the
``logs/output.txt`` artifact with the full text, ``jupyter mlops artifacts get``). With
``--follow``, new output as it comes until the run ends; the exit code is then the run's
own, as with ``run --wait``. Standard output and results go to stdout; stderr, errors and
notices to stderr, so a pipe keeps the program's output apart.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from traitlets import Bool

from .base import EXIT_FAILED, EXIT_OK, STATUS_EXIT, MLOpsBaseApp, quiet_broken_pipe

FOLLOW_POLL_S = 0.25
RECONCILE_EVERY_S = 5.0
"""How often a follower checks for a runner that died (the run then ends as lost)."""

TO_STDOUT = frozenset({"stdout", "result"})


def stream_for(kind: str) -> TextIO:
    return sys.stdout if kind in TO_STDOUT else sys.stderr


class LogsApp(MLOpsBaseApp):
    name = "jupyter-mlops-logs"
    description = (
        "Print what a run's cells printed. Usage: jupyter mlops logs RUN_ID [--follow]. "
        "With --follow (-f), print new output until the run ends and exit with the run's "
        "status (0 succeeded, 1 failed, 3 cancelled, 4 timed out, 5 lost)."
    )
    flags = {
        "follow": ({"LogsApp": {"follow": True}}, "Print new output until the run ends."),
        "f": ({"LogsApp": {"follow": True}}, "Same as --follow."),
    }
    follow = Bool(False, help="Print new output until the run ends.").tag(config=True)

    def run(self) -> int:
        run_id = self.run_id_argument()
        with quiet_broken_pipe():
            after = self._print_since(run_id, 0)
            if not self.follow:
                return EXIT_OK
            return self._follow(run_id, after)

    def _print_since(self, run_id: str, after: int) -> int:
        """Print every chunk after ``after``; the last ``seq`` printed."""
        while True:
            chunks = self.store.output_since(run_id, after)
            if not chunks:
                return after
            for chunk in chunks:
                stream_for(chunk.stream).write(chunk.text)
            sys.stdout.flush()
            sys.stderr.flush()
            after = chunks[-1].seq

    def _follow(self, run_id: str, after: int) -> int:
        from ..store import RunStatus

        last_reconcile = time.monotonic()
        while True:
            run: Any = self.store.require_run(run_id)  # before the chunks: see run_output
            after = self._print_since(run_id, after)
            if RunStatus(run.status).is_terminal:
                break
            time.sleep(FOLLOW_POLL_S)
            if time.monotonic() - last_reconcile >= RECONCILE_EVERY_S:
                last_reconcile = time.monotonic()
                self.jobs().reconcile()  # a runner that died: the run ends as lost
        line = f"run {run.id} {run.status}"
        if run.status_reason:
            line += f": {run.status_reason}"
        print(line, file=sys.stderr)
        return STATUS_EXIT.get(run.status, EXIT_FAILED)
