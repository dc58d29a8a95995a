"""HTML rendering of executed notebooks (nbconvert), off the run's critical path.

The first rendering in a process costs about 0.45 s on top of the conversion itself
(importing nbconvert and IPython's lexer, compiling the lab templates). It used to be
warmed up on a background thread while the cells ran, where it competed with execution
for the GIL (0.7-1 s of CPU next to a notebook of fast cells). Now nothing renders before
the run's terminal status: the runner renders after it (see
:mod:`jupyter_mlops.html_artifact`), and the HTML view renders on first view when the
artifact is not there yet. One lock per renderer: the exporter is not thread-safe.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ._imports import skip_slow_jsonschema_formats


class NotebookHtmlRenderer:
    """Renders notebook files to standalone HTML with nbconvert's lab template."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exporter: Any = None

    def render(self, notebook: Path) -> Path:
        """Write ``<notebook>.html`` beside ``notebook`` and return its path."""
        import nbformat

        node = nbformat.read(str(notebook), as_version=4)
        with self._lock:
            body, _ = self._exporter_instance().from_notebook_node(node)
        target = notebook.with_suffix(".html")
        target.write_text(body, encoding="utf-8")
        return target

    def warm_up(self) -> None:
        """Render a small notebook in memory: compiles the templates, the filters' regular
        expressions and the lexer, which a runner host then shares with every runner it
        forks (about 0.6 s of CPU each, otherwise, right after its run ends)."""
        import nbformat

        cell = nbformat.v4.new_code_cell("print('x')", execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
        node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# x"), cell])
        node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        node.metadata["language_info"] = {  # as ipykernel writes it: IPython's lexer
            "name": "python",
            "pygments_lexer": "ipython3",
            "codemirror_mode": {"name": "ipython", "version": 3},
        }
        with self._lock:
            self._exporter_instance().from_notebook_node(node)

    def _exporter_instance(self) -> Any:
        if self._exporter is None:
            skip_slow_jsonschema_formats()
            from nbconvert import HTMLExporter

            self._exporter = HTMLExporter()
        return self._exporter
