"""``jupyter mlops cancel`` and ``jupyter mlops delete``: end a run that is queued or
running, remove one that has ended."""

from __future__ import annotations

from traitlets import Bool

from .base import EXIT_OK, JSON_FLAG, MLOpsBaseApp
from .follow import wait_for_run


class CancelApp(MLOpsBaseApp):
    name = "jupyter-mlops-cancel"
    description = "Cancel a queued or running run; its kernel and children are killed."
    flags = {
        **JSON_FLAG,
        "wait": ({"CancelApp": {"wait": True}}, "Wait until the run has ended."),
    }
    wait = Bool(False).tag(config=True)

    def run(self) -> int:
        run_id = self.run_id_argument()
        run = self.jobs().cancel(run_id)
        if self.wait:
            wait_for_run(self, run_id, None, progress=False)
            run = self.store.require_run(run_id)
        print(f"run {run_id}: {run.status}" + (" (cancel requested)" if not self.wait else ""))
        return EXIT_OK


class DeleteApp(MLOpsBaseApp):
    name = "jupyter-mlops-delete"
    description = "Delete a finished run (row, snapshot ref and run directory)."

    def run(self) -> int:
        run_id = self.run_id_argument()
        self.jobs().delete(run_id)
        print(f"deleted {run_id}")
        return EXIT_OK
