"""HTML rendering of executed notebooks (nbconvert), warmed up while the kernel works.

The first rendering in a process costs about 0.45 s on top of the conversion itself:
importing nbconvert, importing IPython for its syntax-highlighting lexer, and compiling
the lab templates. A runner renders exactly once, after the last cell, so all of that
used to sit between the end of the notebook and the run's terminal status.
:meth:`NotebookHtmlRenderer.warm_up` pays it earlier, on a background thread, by
converting a one-cell notebook while the kernel boots and executes; the real rendering
then only converts. Both take one lock, so a rendering that comes before the warm-up has
finished waits for it instead of doing the same work twice.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from ._imports import skip_slow_jsonschema_formats

log = logging.getLogger("jupyter_mlops.rendering")

# What an executed Python notebook looks like to nbconvert: a markdown cell, a code cell
# with a stream output and the IPython lexer, so the warm-up loads what the real one needs.
_WARM_UP_NOTEBOOK: dict[str, Any] = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    },
    "cells": [
        {"id": "warm-md", "cell_type": "markdown", "metadata": {}, "source": "# warm-up"},
        {
            "id": "warm-code",
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": "print(1)",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}],
        },
    ],
}


class NotebookHtmlRenderer:
    """Renders notebook files to standalone HTML with nbconvert's lab template."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exporter: Any = None

    def warm_up(self) -> None:
        """Load and exercise everything a rendering needs; best effort (a failure here
        only means the real rendering pays the cost, or reports its own error)."""
        try:
            import nbformat

            with self._lock:
                self._exporter_instance().from_notebook_node(nbformat.from_dict(_WARM_UP_NOTEBOOK))
        except Exception:
            log.warning("warming up the HTML renderer failed", exc_info=True)

    def render(self, notebook: Path) -> Path:
        """Write ``<notebook>.html`` beside ``notebook`` and return its path."""
        import nbformat

        node = nbformat.read(str(notebook), as_version=4)
        with self._lock:
            body, _ = self._exporter_instance().from_notebook_node(node)
        target = notebook.with_suffix(".html")
        target.write_text(body, encoding="utf-8")
        return target

    def _exporter_instance(self) -> Any:
        if self._exporter is None:
            skip_slow_jsonschema_formats()
            from nbconvert import HTMLExporter

            self._exporter = HTMLExporter()
        return self._exporter
