"""A run's HTML rendering (``output.html``), made after its terminal status or on first view.

Rendering is optional output: nobody waits for it to learn how a run ended. The runner
records the terminal status first and renders afterwards (:func:`store_html`, from the
executed notebook in its run directory), unless runs wait for a slot (then their CPU comes
first, and the rendering is left to the first view); until that artifact exists, the HTML view
renders the stored executed notebook itself (:func:`ensure_html`) and stores the result,
so the first view of a run whose runner was killed after its status, or that finished
before this existed, still shows its HTML, and later views read the cached artifact.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from .artifacts import BlobStore, artifact_row
from .rendering import NotebookHtmlRenderer
from .store import Artifact, RunStore

log = logging.getLogger("jupyter_mlops.html")

OUTPUT_NOTEBOOK = "output.ipynb"
OUTPUT_HTML = "output.html"


def store_html(
    store: RunStore,
    artifacts: BlobStore,
    run_id: str,
    notebook: Path,
    renderer: NotebookHtmlRenderer | None = None,
) -> Artifact:
    """Render ``notebook`` (the run's executed notebook) and store it as ``output.html``;
    raises what rendering or storing raised (the caller decides whether it is a warning)."""
    html = (renderer or NotebookHtmlRenderer()).render(notebook)
    with store.blob_lock(exclusive=False):  # see jupyter_mlops.artifact_gc
        sha, size = artifacts.put_file(html)
        return store.add_artifact(artifact_row(run_id, OUTPUT_HTML, "html", sha, size))


def ensure_html(
    store: RunStore,
    artifacts: BlobStore,
    run_id: str,
    renderer: NotebookHtmlRenderer | None = None,
) -> Artifact | None:
    """The run's ``output.html``, rendered from its stored executed notebook when it is not
    there yet; None when the run has no executed notebook (nothing to render) or was
    deleted meanwhile (its first view and its deletion crossed: an ordinary "not found",
    nothing to log)."""
    existing = store.get_artifact(run_id, OUTPUT_HTML)
    if existing is not None:
        return existing
    executed = store.get_artifact(run_id, OUTPUT_NOTEBOOK)
    if executed is None:
        return None
    try:
        return _render_stored(store, artifacts, run_id, executed, renderer)
    except Exception:
        # the runner (or another viewer) may have stored it at the same moment
        stored = store.get_artifact(run_id, OUTPUT_HTML)
        if stored is not None:
            return stored
        if store.get_run(run_id) is None:
            log.debug("run %s was deleted while its HTML was rendered", run_id)
            return None
        raise


def _render_stored(
    store: RunStore,
    artifacts: BlobStore,
    run_id: str,
    executed: Artifact,
    renderer: NotebookHtmlRenderer | None,
) -> Artifact:
    """Render the stored executed notebook (a copy in a temporary directory) and store it."""
    with tempfile.TemporaryDirectory(prefix="mlops-html-") as tmp:
        copy = Path(tmp) / OUTPUT_NOTEBOOK
        with artifacts.open(executed.sha256) as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target)
        return store_html(store, artifacts, run_id, copy, renderer)
