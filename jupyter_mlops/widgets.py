"""ipywidgets views of the run store inside a notebook.

``RunHistory()`` shows the run history (newest first) with a status and a tag filter,
and a line plot of one metric of one run::

    from jupyter_mlops.widgets import RunHistory
    RunHistory(notebook="train.ipynb", limit=20)

It reads the run store directly (``JUPYTER_MLOPS_DB_URL`` / ``JUPYTER_MLOPS_DATA_DIR``,
else the default data directory), so it works in any kernel that can reach the store,
without the Jupyter server extension. Plots are small inline SVGs drawn here (no
plotting library needed), colored with JupyterLab's theme variables.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .config import Settings
from .notebook.identity import notebook_names
from .serialize import run_summary
from .store import ACTIVE_STATUSES, RunStatus

if TYPE_CHECKING:
    from .store import RunStore

__all__ = ["RunHistory", "svg_line_plot"]

ALL = ""
ACTIVE = "active"
STATUS_OPTIONS: list[tuple[str, str]] = [
    ("all", ALL),
    ("active", ACTIVE),
    *[(s.value.replace("_", " "), s.value) for s in RunStatus],
]
MAX_METRICS_SHOWN = 4
"""Latest metric values shown per table row (the rest in the cell's tooltip)."""

_CELL = "padding:2px 8px;border-bottom:1px solid var(--jp-border-color2,#e0e0e0);"
_HEAD = _CELL + "text-align:left;font-weight:600;color:var(--jp-ui-font-color2,#616161);"
_STATUS_COLOR = {
    "running": "var(--jp-brand-color1,#1976d2)",
    "succeeded": "var(--jp-success-color1,#388e3c)",
    "failed": "var(--jp-error-color1,#d32f2f)",
    "lost": "var(--jp-error-color1,#d32f2f)",
    "cancelled": "var(--jp-warn-color1,#f57c00)",
    "timed_out": "var(--jp-warn-color1,#f57c00)",
}


def format_value(value: float | None) -> str:
    """A metric value in 4 significant digits; ``NaN`` for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.4g}"


def _format_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _segments(
    points: Iterable[tuple[int, float | None]],
) -> list[list[tuple[int, float]]]:
    """Runs of finite points (NaN, None and infinities break the line)."""
    segments: list[list[tuple[int, float]]] = [[]]
    for step, value in points:
        if value is None or not math.isfinite(value):
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((step, float(value)))
    return [s for s in segments if s]


def svg_line_plot(
    points: Sequence[tuple[int, float | None]],
    *,
    title: str = "",
    width: int = 560,
    height: int = 220,
    note: str = "",
) -> str:
    """An inline SVG line plot of ``[(step, value), ...]``: steps on x, a line per run of
    finite values (NaN leaves a gap), a dot per point when there are few, the y range
    and the first and last step labelled. Colors are JupyterLab theme variables."""
    esc = html.escape
    left, right, top, bottom = 64, 12, 22, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    segments = _segments(points)
    finite = [p for s in segments for p in s]
    fg = "var(--jp-ui-font-color2,#616161)"
    grid = "var(--jp-border-color2,#e0e0e0)"
    line = "var(--jp-brand-color1,#1976d2)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="jp-mlops-svg-plot" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(title or "metric plot")}" '
        f'style="font-family:var(--jp-ui-font-family,sans-serif);font-size:11px">',
        f'<text x="{left}" y="14" style="fill:var(--jp-ui-font-color1,#000);'
        f'font-weight:600">{esc(title)}</text>',
    ]
    if note:
        parts.append(
            f'<text x="{width - right}" y="14" text-anchor="end" style="fill:{fg}">'
            f"{esc(note)}</text>"
        )
    if not finite:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            f'style="fill:{fg}">no finite values to plot</text></svg>'
        )
        return "".join(parts)
    x0 = min(s for s, _ in finite)
    x1 = max(s for s, _ in finite)
    y0 = min(v for _, v in finite)
    y1 = max(v for _, v in finite)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        pad = abs(y0) * 0.05 or 1.0
        y0, y1 = y0 - pad, y1 + pad

    def sx(step: float) -> float:
        return left + (step - x0) / (x1 - x0) * plot_w

    def sy(value: float) -> float:
        return top + (1 - (value - y0) / (y1 - y0)) * plot_h

    for frac in (0.0, 0.5, 1.0):
        y = top + frac * plot_h
        value = y1 - frac * (y1 - y0)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'style="stroke:{grid}" />'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" style="fill:{fg}">'
            f"{esc(format_value(value))}</text>"
        )
    parts.append(
        f'<text x="{left}" y="{height - 8}" style="fill:{fg}">{x0:g}</text>'
        f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end" style="fill:{fg}">'
        f"{x1:g}</text>"
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle" '
        f'style="fill:{fg}">step</text>'
    )
    for segment in segments:
        coords = " ".join(f"{sx(s):.1f},{sy(v):.1f}" for s, v in segment)
        parts.append(
            f'<polyline points="{coords}" style="fill:none;stroke:{line};stroke-width:1.5;'
            'stroke-linejoin:round" />'
        )
    if len(finite) <= 60:
        parts.extend(
            f'<circle cx="{sx(s):.1f}" cy="{sy(v):.1f}" r="2.5" style="fill:{line}" />'
            for s, v in finite
        )
    parts.append("</svg>")
    return "".join(parts)


def default_metric(summaries: Sequence[Any]) -> str | None:
    """The metric a plot shows first: a curve (more than one point) before a single value,
    a key with "loss" first among those, else the first key (sorted)."""
    if not summaries:
        return None

    def rank(m: Any) -> tuple[bool, bool, str]:
        return (m.total_points <= 1, "loss" not in m.key.lower(), m.key)

    return str(min(summaries, key=rank).key)


class RunHistory(widgets.VBox):
    """The run history of the store, filterable, with a metric plot of a chosen run.

    ``notebook``: only runs of this notebook (path relative to the server root, or
    absolute); ``limit``: the newest this many runs. ``store``/``settings``: which run
    store (default: from the environment). Call :meth:`refresh` to reload.
    """

    def __init__(
        self,
        notebook: str | None = None,
        limit: int = 50,
        *,
        store: RunStore | None = None,
        settings: Settings | None = None,
        max_points: int = 500,
        **kwargs: Any,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if store is None:
            from .store import RunStore

            store = RunStore.from_settings(settings or Settings.from_env())
        self.store = store
        self.notebook = notebook
        self.limit = limit
        self.max_points = max_points
        self.rows: list[dict[str, Any]] = []
        """What the table shows: run summaries with their latest ``metrics``."""
        self._quiet = False  # set while the pickers are updated from code

        self.status = widgets.Dropdown(
            options=STATUS_OPTIONS, value=ALL, description="Status", layout={"width": "220px"}
        )
        self.tag = widgets.Text(
            value="",
            placeholder="exact tag",
            description="Tag",
            continuous_update=False,
            layout={"width": "220px"},
        )
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="Reload the runs from the store"
        )
        self.summary = widgets.HTML()
        self.table = widgets.HTML()
        self.run_picker = widgets.Dropdown(options=[], description="Run", layout={"width": "360px"})
        self.key_picker = widgets.Dropdown(
            options=[], description="Metric", layout={"width": "280px"}
        )
        self.plot = widgets.HTML()

        self.status.observe(self._on_filter, names="value")
        self.tag.observe(self._on_filter, names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.run_picker.observe(self._on_run, names="value")
        self.key_picker.observe(self._on_key, names="value")

        super().__init__(
            children=[
                widgets.HBox([self.status, self.tag, self.refresh_button]),
                self.summary,
                self.table,
                widgets.HBox([self.run_picker, self.key_picker]),
                self.plot,
            ],
            **kwargs,
        )
        self.add_class("jp-mlops-run-history")
        self.refresh()

    # -- data -------------------------------------------------------------------------

    def _statuses(self) -> list[str] | None:
        value = self.status.value
        if value == ALL:
            return None
        if value == ACTIVE:
            return sorted(s.value for s in ACTIVE_STATUSES)
        return [value]

    def _load(self) -> list[dict[str, Any]]:
        page = self.store.list_runs(
            status=self._statuses(),
            notebook=notebook_names(self.notebook, Path.cwd(), None) if self.notebook else None,
            tag=self.tag.value.strip() or None,
            limit=self.limit,
        )
        runs = page.runs
        metrics = self.store.latest_metric_values([r.id for r in runs])
        rows = []
        for run in runs:
            row = run_summary(run)
            row["created"] = run.created_at
            row["metrics"] = metrics[run.id]
            rows.append(row)
        return rows

    def refresh(self) -> None:
        """Reload the runs with the current filters; keep the chosen run when it is
        still listed."""
        self.rows = self._load()
        self.table.value = self._table_html(self.rows)
        shown = len(self.rows)
        more = " (the newest; raise limit for more)" if shown == self.limit else ""
        self.summary.value = (
            f'<span style="color:var(--jp-ui-font-color2,#616161)">'
            f"{shown} run{'s' if shown != 1 else ''}{more}</span>"
        )
        options = [
            (f"{row['id'][:8]}  {row['notebook']}  ({row['status']})", row["id"])
            for row in self.rows
        ]
        previous = self.run_picker.value
        ids = [value for _, value in options]
        self._quiet = True
        try:
            self.run_picker.options = options
            self.run_picker.value = previous if previous in ids else (ids[0] if ids else None)
        finally:
            self._quiet = False
        self._pick_keys()

    # -- events -----------------------------------------------------------------------

    def _on_filter(self, _change: Any = None) -> None:
        self.refresh()

    def _on_run(self, _change: Any = None) -> None:
        if not self._quiet:
            self._pick_keys()

    def _on_key(self, _change: Any = None) -> None:
        if not self._quiet:
            self._draw()

    def _pick_keys(self) -> None:
        """Offer the chosen run's metric keys; keep the key shown, else pick a curve."""
        run_id = self.run_picker.value
        summaries = self.store.metric_summaries(run_id) if run_id else []
        keys = [m.key for m in summaries]
        previous = self.key_picker.value
        self._quiet = True
        try:
            self.key_picker.options = keys
            self.key_picker.value = previous if previous in keys else default_metric(summaries)
        finally:
            self._quiet = False
        self._draw()

    def _draw(self) -> None:
        run_id, key = self.run_picker.value, self.key_picker.value
        if not run_id:
            self.plot.value = _hint("No run to plot.")
            return
        if not key:
            self.plot.value = _hint(f"Run {run_id[:8]} has logged no metric.")
            return
        series = self.store.metric_series(run_id, key, self.max_points)
        total = series["total_points"]
        note = f"{total} points" + (", downsampled" if series["downsampled"] else "")
        self.plot.value = svg_line_plot(series["points"], title=f"{key} · {run_id[:8]}", note=note)

    # -- rendering ----------------------------------------------------------------------

    def _table_html(self, rows: Sequence[dict[str, Any]]) -> str:
        esc = html.escape
        if not rows:
            filtered = self.status.value != ALL or self.tag.value.strip()
            return _hint("No run matches these filters." if filtered else "No runs yet.")
        head = (
            "".join(
                f'<th style="{_HEAD}">{name}</th>'
                for name in ("Run", "Notebook", "Status", "Created", "Duration", "Parameters")
            )
            + f'<th style="{_HEAD}">Metrics</th>'
        )
        body = []
        for row in rows:
            color = _STATUS_COLOR.get(row["status"], "var(--jp-ui-font-color2,#616161)")
            params = ", ".join(f"{k}={v!r}" for k, v in row["parameters"].items())
            items = [f"{k}={format_value(v)}" for k, v in row["metrics"].items()]
            shown = ", ".join(items[:MAX_METRICS_SHOWN])
            if len(items) > MAX_METRICS_SHOWN:
                shown += f", +{len(items) - MAX_METRICS_SHOWN}"
            body.append(
                f'<tr data-run-id="{esc(row["id"])}" data-status="{esc(row["status"])}">'
                f'<td style="{_CELL}"><code>{esc(row["id"][:8])}</code></td>'
                f'<td style="{_CELL}">{esc(row["notebook"])}</td>'
                f'<td style="{_CELL}color:{color};font-weight:600">'
                f"{esc(row['status'].replace('_', ' '))}</td>"
                f'<td style="{_CELL}">{esc(_format_time(row["created"]))}</td>'
                f'<td style="{_CELL}">{esc(_format_duration(row["duration_s"]))}</td>'
                f'<td style="{_CELL}" title="{esc(params)}">{esc(params)}</td>'
                f'<td style="{_CELL}" title="{esc(", ".join(items))}">{esc(shown)}</td>'
                "</tr>"
            )
        return (
            '<table class="jp-mlops-run-table" style="border-collapse:collapse;'
            'font-size:var(--jp-ui-font-size1,13px)">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )


def _hint(text: str) -> str:
    return f'<p style="color:var(--jp-ui-font-color2,#616161)">{html.escape(text)}</p>'
