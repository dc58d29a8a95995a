"""``jupyter mlops runs`` and ``jupyter mlops show``: what the run store holds."""

from __future__ import annotations

from traitlets import Int, List, Unicode

from .base import JSON_FLAG, MLOpsBaseApp, fail
from .text import format_run_detail, format_runs

MAX_LIMIT = 1_000_000
"""The most runs ``runs --limit`` lists (more than any screen; a number the store takes)."""


class RunsApp(MLOpsBaseApp):
    name = "jupyter-mlops-runs"
    description = "List runs, newest first."
    aliases = {
        **MLOpsBaseApp.aliases,
        "status": "RunsApp.status",
        "notebook": "RunsApp.notebook",
        "tag": "RunsApp.tag",
        "limit": "RunsApp.limit",
    }
    flags = dict(JSON_FLAG)

    status = List(Unicode(), help="Only these statuses (repeatable).").tag(config=True)
    notebook = Unicode("", help="Only runs of this notebook.").tag(config=True)
    tag = Unicode("", help="Only runs with this tag.").tag(config=True)
    limit = Int(50, help=f"At most this many runs, 1 to {MAX_LIMIT}.").tag(config=True)

    def run(self) -> int:
        from ..serialize import run_summary
        from ..store import RunStatus

        valid = {s.value for s in RunStatus}
        bad = [s for s in self.status if s not in valid]
        if bad:
            fail(f"unknown status {bad}; choose from {sorted(valid)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            fail(f"--limit must be a whole number from 1 to {MAX_LIMIT}, got {self.limit}")
        self.jobs().reconcile()
        page = self.store.list_runs(
            status=self.status or None,
            notebook=self.jobs().notebook_names(self.notebook) if self.notebook else None,
            tag=self.tag or None,
            limit=self.limit,
        )
        rows = [run_summary(r) for r in page.runs]  # list_runs set the queue positions
        return self.print_result(rows, format_runs)


class ShowApp(MLOpsBaseApp):
    name = "jupyter-mlops-show"
    description = "Show everything about one run (id or unique prefix)."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        from ..serialize import run_detail

        self.jobs().reconcile()
        run_id = self.run_id_argument()
        store = self.store
        run = store.require_run(run_id)
        store.annotate_queue_positions([run])
        detail = run_detail(
            run,
            events=store.events(run_id),
            artifacts=store.artifacts(run_id),
            environment=store.environment(run_id),
            metrics=store.latest_metrics(run_id),
        )
        return self.print_result(detail, format_run_detail)
