"""What a run leaves besides its status: its artifacts and its environment record.

The executed notebook, its HTML rendering (see :mod:`jupyter_mlops.rendering`), the
runner log and the kernel's stderr are stored as artifacts before the terminal status is
recorded, so a finished run is never half written. One that cannot be written (a full
disk, a notebook nbconvert cannot render) does not change the status, but it is never
silent either: it becomes a warning on the run (:meth:`RunStore.add_warning`), shown by
``jupyter mlops show``, the REST run detail and the run's page. The environment the run
executed in (see :mod:`jupyter_mlops.environment`) is captured while the kernel works.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifacts import BlobStore, artifact_row
from .kernel_start import KERNEL_LOG
from .processes import RUNNER_LOG
from .store import Run, RunStore

if TYPE_CHECKING:
    from .rendering import NotebookHtmlRenderer

log = logging.getLogger("jupyter_mlops.runner")

OUTPUT_NOTEBOOK = "output.ipynb"
OUTPUT_HTML = "output.html"


class RunOutputs:
    """The artifacts and records of one run, written into its store."""

    def __init__(
        self,
        store: RunStore,
        artifacts: BlobStore,
        run_id: str,
        run_dir: Path,
        cache_dir: Path,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.run_id = run_id
        self.output = run_dir / OUTPUT_NOTEBOOK
        self.runner_log = run_dir / RUNNER_LOG
        self.kernel_log = run_dir / KERNEL_LOG
        self.cache_dir = cache_dir
        self._html: NotebookHtmlRenderer | None = None
        self._html_lock = threading.Lock()

    @property
    def html(self) -> NotebookHtmlRenderer:
        """Made on first use (the warm-up on the background thread), so that the runner's
        start does not import it."""
        with self._html_lock:
            if self._html is None:
                from .rendering import NotebookHtmlRenderer

                self._html = NotebookHtmlRenderer()
            return self._html

    # -- records -----------------------------------------------------------------------

    def capture_environment(self, run: Run, *, redact: Sequence[str] = ()) -> None:
        """The kernel's interpreter, packages, CUDA and GPUs, and what the run was given;
        a failure is recorded as the record's ``error``, never raised. No text of
        ``redact`` (secret values, the server's token) is recorded."""
        try:
            from .environment import capture_environment
            from .kernels import kernel_python
            from .runtime_facts import runtime_facts

            data = capture_environment(
                kernel_name=run.kernel_name,
                kernel_python=kernel_python(run.kernel_name),
                extra={
                    "seed": run.seed,
                    "gpus_requested": run.gpus,
                    "gpus_assigned": run.cuda_visible_devices,
                    "backend": run.backend,
                    "queue_wait_s": (
                        (run.started_at - run.created_at).total_seconds()
                        if run.started_at
                        else None
                    ),
                    **runtime_facts(self.output.parent, run.notebook_relpath),
                    "git": {
                        "commit": run.commit_sha,
                        "ref": run.snapshot_ref,
                        "branch": run.branch,
                        "base_commit": run.base_commit,
                        "dirty": run.dirty,
                        "private_repo": run.private_repo,
                        "notebook": run.notebook_relpath,
                    },
                },
                cache_dir=self.cache_dir,
                redact_values=redact,
            )
            self.store.set_environment(self.run_id, data)
        except Exception as err:
            log.exception("environment capture failed")
            self.store.set_environment(self.run_id, {"error": f"{type(err).__name__}: {err}"})

    def record_kernel_cuda(self, info: dict[str, Any] | None) -> None:
        """The CUDA device the kernel actually used (when the notebook imported torch)."""
        if info is None:
            return
        try:
            self.store.update_environment(self.run_id, {"kernel_cuda": info})
        except Exception:
            log.exception("could not record the kernel's CUDA device")

    # -- artifacts ---------------------------------------------------------------------

    def warn(self, message: str) -> None:
        """Record ``message`` as a warning on the run (and in the runner log)."""
        log.warning("run %s: %s", self.run_id, message)
        try:
            self.store.add_warning(self.run_id, message)
        except Exception:
            log.exception("could not record the warning on the run")

    def write_partial(self, nbformat: Any, executed_nb: Any) -> None:
        """Keep what ran before the kernel died or was killed."""
        if executed_nb is not None:
            try:
                nbformat.write(executed_nb, str(self.output))
            except Exception as err:
                log.exception("could not write the partial notebook")
                self.warn(f"the partially executed notebook could not be written: {_why(err)}")

    def store_outputs(self) -> None:
        """The executed notebook, its HTML, the runner log and the kernel's stderr, as the
        run's artifacts; each one that cannot be made or stored is a warning."""
        if self.output.exists():
            self._add_artifact(self.output, OUTPUT_NOTEBOOK, "notebook", "executed notebook")
            try:
                html = self.html.render(self.output)
            except Exception as err:
                log.exception("HTML rendering failed")
                self.warn(f"the HTML rendering ({OUTPUT_HTML}) could not be made: {_why(err)}")
            else:
                self._add_artifact(html, OUTPUT_HTML, "html", "HTML rendering")
        if self.kernel_log.exists():
            self._add_artifact(self.kernel_log, KERNEL_LOG, "log", "kernel log")
        if self.runner_log.exists():
            for handler in logging.getLogger().handlers:
                handler.flush()
            self._add_artifact(self.runner_log, RUNNER_LOG, "log", "runner log")

    def _add_artifact(self, path: Path, name: str, kind: str, what: str) -> None:
        try:
            with self.store.blob_lock(exclusive=False):  # see jupyter_mlops.artifact_gc
                sha, size = self.artifacts.put_file(path)
                self.store.add_artifact(artifact_row(self.run_id, name, kind, sha, size))
        except Exception as err:
            log.exception("could not store %s", name)
            self.warn(f"the {what} ({name}) could not be stored: {_why(err)}")


def _why(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"
