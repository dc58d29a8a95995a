"""The in-kernel tracking API: metrics, params, tags, artifacts, models and seeds.

``import jupyter_mlops as mlops`` then ``mlops.log_metric("loss", loss)``; every function
here is re-exported lazily by the package.

Which run
    Inside a job the run is ``JUPYTER_MLOPS_RUN_ID`` (the runner exports it, together
    with the store URL, into the kernel's environment). Anywhere else (a notebook opened
    by hand, a script) the first call that records something creates an *interactive*
    run: ``source="interactive"``, status ``running``, the notebook path when Jupyter
    tells the kernel (``JPY_SESSION_NAME``) or the script path, the seed given to
    :func:`seed_everything` (else ``JUPYTER_MLOPS_SEED``, else -1 for "not seeded"),
    the git branch and HEAD of the working directory when it is a repository (no
    snapshot is taken: ``commit_sha`` is empty), and the environment (captured in the
    background). The run is marked ``succeeded`` when the interpreter exits normally
    (:func:`end_run` ends it earlier); while it lives, a heartbeat every couple of
    seconds keeps the reconciler from marking it lost.

Metrics are buffered
    :func:`log_metric` appends ``(key, step, value, time)`` to an in-memory list (about a
    microsecond). A background thread writes the buffer in one transaction per batch
    every second, or as soon as 5,000 points are waiting; it is also flushed at the end
    of every cell (an IPython ``post_run_cell`` hook, so a cell that raises loses
    nothing) and at interpreter exit. A producer that gets 1,000,000 points ahead of
    the store writes a batch itself (back-pressure, bounded memory). Points still in
    the buffer when the kernel is killed (cancel, timeout, SIGKILL) are lost: at most
    about a second's worth. ``step=None`` means the key's next step (0, 1, 2, ...).
    NaN values are kept (stored as NULL, read back as NaN).

Params and tags
    :func:`log_params` values are run params with type ``"logged"``: a value equal to
    the job parameter of the same name is already recorded and skipped; a different
    one is stored as ``logged.<name>``, so job parameters (what reproduce re-injects)
    are never overwritten. :func:`set_tags` stores ``key=value`` strings and replaces a
    key's previous value.

Datasets
    :func:`use_dataset` records what the notebook reads (content hash, size, table
    summary; see :mod:`jupyter_mlops.datasets`) and returns the path to read.

Models
    :func:`log_model` saves ``model.state_dict()`` (tensors moved to the CPU) with
    ``torch.save`` into the content-addressed artifact store: the same weights logged
    by two runs are stored once. The artifact's ``meta`` records the architecture
    (``module.qualname``), parameter counts, dtypes, torch version and sha256.
    :func:`load_model` returns the state dict, or loads it into the module you pass
    (or into ``cls()`` when you pass a class constructible without arguments). Classes
    named in the store are never imported for you.

Nothing here imports torch, NumPy or SQLAlchemy until a call needs them.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from ..exports import TRACKING_API
from .interactive import env_seed
from .models import load_model as load_model  # part of the API (``TRACKING_API``)
from .tracker import Tracker

__all__ = list(TRACKING_API)  # also what ``jupyter_mlops`` itself offers (lazily)

# -- the process-wide tracker ---------------------------------------------------------

_tracker: Tracker | None = None
_tracker_lock = threading.Lock()
_hooks_installed = False


def get_tracker() -> Tracker:
    """This process's tracker (created on first use)."""
    tracker = _tracker
    if tracker is None:
        tracker = _create_tracker()
    return tracker


def _create_tracker() -> Tracker:
    global _tracker
    with _tracker_lock:
        if _tracker is None:
            _tracker = Tracker()
            _install_hooks()
        return _tracker


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    os.register_at_fork(after_in_child=_after_fork)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    if shell is not None:
        shell.events.register("post_run_cell", _post_run_cell)


def _post_run_cell(result: Any = None) -> None:
    """End of a cell (also one that raised): make what it logged durable."""
    tracker = _tracker
    if tracker is None:
        return
    try:
        tracker.flush()
    except Exception as err:
        print(
            f"jupyter-mlops: could not write metrics at the end of the cell "
            f"({type(err).__name__}: {err}); {tracker.pending} points kept, retrying",
            file=sys.stderr,
        )


def _at_exit() -> None:
    tracker = _tracker
    if tracker is not None:
        tracker.close()


def _after_fork() -> None:
    tracker = _tracker
    if tracker is not None:
        tracker._after_fork_in_child()


# -- the public API --------------------------------------------------------------------


def log_metric(
    key: str, value: float, step: int | None = None, *, stream: str | None = None
) -> None:
    """Record ``value`` for ``key`` at ``step`` (default: the key's next step, from 0).

    Buffered: returns in about a microsecond; see the module doc for when it is written.
    ``value`` may be anything ``float()`` accepts (a 1-element tensor syncs its device).

    With ``stream`` (monitoring code: a serving process, a batch scoring job) the figure
    goes to that monitored stream instead of a run, written at once, and no run is created;
    ``jupyter mlops trigger add ... --on-metric "KEY < 0.9" --stream NAME`` watches it.
    """
    if stream is not None:
        from .streams import push_to_stream

        push_to_stream(get_tracker().store, stream, {key: value}, step)
        return
    (_tracker or _create_tracker()).log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Record several metrics at once (each key's next step when ``step`` is None)."""
    (_tracker or _create_tracker()).log_metrics(metrics, step)


def log_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Record values as run params of type ``"logged"`` (never clobbers job parameters).

    Returns {name: stored name} of what was written (``logged.<name>`` where a job
    parameter of that name holds a different value).
    """
    return get_tracker().log_params(params)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Tag the run with ``key=value`` strings (a key's previous value is replaced)."""
    get_tracker().set_tags(tags)


def log_artifact(path: str | os.PathLike[str], name: str | None = None) -> list[str]:
    """Store a file (or every file of a directory, as ``name/relative/path``) as artifacts
    of the run; returns the artifact names. Content-addressed: stored once however many
    runs log the same bytes."""
    return get_tracker().log_artifact(path, name)


def log_model(model: Any, name: str = "model", register_as: str | None = None) -> dict[str, Any]:
    """Store a torch module's ``state_dict`` (on the CPU) as artifact ``name``; returns
    ``{"name", "kind", "sha256", "size", "meta"}``. ``register_as="churn"`` also makes it
    the next version of registered model ``churn`` (``"registered": {"name", "version",
    "uri"}`` in the answer), loadable as ``load_model("models:/churn/N")``."""
    return get_tracker().log_model(model, name, register_as)


def use_dataset(uri: str | os.PathLike[str], name: str | None = None) -> str:
    """Record a dataset the notebook reads as an input of the run; returns what to read.

    ``uri`` is a file, a directory, a glob (``data/*.parquet``) or an fsspec URL
    (``s3://bucket/key``, ``memory://...``). The run records its sha256 (a directory or
    glob: of the sorted manifest of its files), size, file count, modification time, the
    object store's ETag/version id, and for CSV/Parquet a table summary. Hashes are
    cached by (path, size, mtime, inode): using an unchanged file again costs
    milliseconds. Returns the absolute local path (relative paths are taken against the
    working directory); for a URL, the URL itself, to open with fsspec, pandas or
    pyarrow (nothing is copied). ``name`` (default: the URI) names the input; using a
    name again replaces its record. A missing file raises ``FileNotFoundError``.
    """
    return get_tracker().use_dataset(uri, name)


def seed_everything(seed: int | None = None, deterministic: bool = False) -> int:
    """Seed Python's ``random``, NumPy and torch (CPU and CUDA) when installed; returns
    the seed.

    ``seed=None`` uses ``JUPYTER_MLOPS_SEED`` (set for every job: the run's recorded
    seed), else draws one. ``PYTHONHASHSEED`` is set for subprocesses (this process's
    string hashing was fixed at start). ``deterministic=True`` also makes torch use
    deterministic algorithms (``torch.use_deterministic_algorithms(True)``, cuDNN
    deterministic and not benchmarking, ``CUBLAS_WORKSPACE_CONFIG=:4096:8``).
    """
    import importlib.util
    import random

    if seed is None:
        seed = env_seed()
    if seed is None:
        seed = random.SystemRandom().randrange(2**31 - 1)
    seed = int(seed)
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed % 2**32)
    if "numpy" in sys.modules or importlib.util.find_spec("numpy") is not None:
        import numpy

        numpy.random.seed(seed % 2**32)
    if "torch" in sys.modules or importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
    tracker = get_tracker()
    tracker._seed = seed
    if tracker.interactive and tracker._created:
        tracker.store.update_run(tracker.run_id, seed=seed)
    return seed


def flush() -> int:
    """Write buffered metric points now; returns how many were written."""
    tracker = _tracker
    return tracker.flush() if tracker is not None else 0


def current_run_id() -> str:
    """The run that logging goes to (an interactive run's row appears on first write)."""
    return get_tracker().run_id


def end_run(status: str = "succeeded") -> None:
    """Finish the interactive run now (flush, record ``status``); the next logging call
    starts a new one. Inside a job only flushes: the runner owns the job's status."""
    global _tracker
    with _tracker_lock:
        tracker = _tracker
        if tracker is None:
            return
        if not tracker.interactive:
            tracker.flush()
            return
        tracker.close(status=status)
        _tracker = None
