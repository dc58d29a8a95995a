"""``jupyter mlops runs`` and ``jupyter mlops show``: what the run store holds."""

from __future__ import annotations

from typing import Any

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
        "filter": "RunsApp.filter",
        "order-by": "RunsApp.order_by",
    }
    flags = dict(JSON_FLAG)

    status = List(Unicode(), help="Only these statuses (repeatable).").tag(config=True)
    notebook = Unicode("", help="Only runs of this notebook.").tag(config=True)
    tag = Unicode("", help="Only runs with this tag.").tag(config=True)
    limit = Int(50, help=f"At most this many runs, 1 to {MAX_LIMIT}.").tag(config=True)
    filter = Unicode(
        "",
        help="Run search filter, MLflow's syntax: \"params.lr = 0.05 and metrics.val/loss < "
        "0.2 and tags.team = 'nlp' and status = 'failed'\" (see the README).",
    ).tag(config=True)
    order_by = Unicode(
        "", help="Sort by an attribute, params.NAME or metrics.NAME, then ASC or DESC."
    ).tag(config=True)

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
        if self.filter.strip() or self.order_by.strip():
            return self.search()
        page = self.store.list_runs(
            status=self.status or None,
            notebook=self.jobs().notebook_names(self.notebook) if self.notebook else None,
            tag=self.tag or None,
            limit=self.limit,
        )
        rows = [run_summary(r) for r in page.runs]  # list_runs set the queue positions
        return self.print_result(rows, format_runs)

    def search(self) -> int:
        """``--filter`` / ``--order-by``: the run search language, as in REST; each JSON row
        also carries its latest metric values."""
        from ..search_syntax import SearchSyntaxError, parse_filter, parse_order_by
        from ..serialize import run_summary

        mixed = [f"--{n}" for n in ("status", "notebook", "tag") if getattr(self, n)]
        if mixed:
            fail(
                f"--filter and --order-by cannot be combined with {', '.join(mixed)}: write "
                "it into --filter (status = 'failed', tags.team = 'nlp')"
            )
        checks = (
            ("--filter", parse_filter, self.filter),
            ("--order-by", parse_order_by, self.order_by),
        )
        for option, parse, text in checks:
            try:
                parse(text)
            except SearchSyntaxError as err:
                fail(pointed_error(option, text, err))
        try:
            page = self.store.query_runs(
                filter=self.filter, order_by=self.order_by, limit=self.limit
            )
        except SearchSyntaxError as err:  # an unknown status, found while compiling
            fail(pointed_error("--filter", self.filter, err))
        rows = [run_summary(r) for r in page.runs]
        values = self.store.latest_metric_values([r["id"] for r in rows])
        for row in rows:
            row["metrics"] = values.get(row["id"], {})
        return self.print_result(rows, format_runs)


def pointed_error(option: str, text: str, err: Any) -> str:
    """One line: the option, the message with its column, and the text it is about."""
    return f"{option} {text!r}: {err}"


class ShowApp(MLOpsBaseApp):
    name = "jupyter-mlops-show"
    description = "Show everything about one run (id or unique prefix)."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        from ..serialize import stored_detail

        self.jobs().reconcile()
        run = self.store.require_run(self.run_id_argument())
        self.store.annotate_queue_positions([run])
        return self.print_result(stored_detail(self.store, run), format_run_detail)
