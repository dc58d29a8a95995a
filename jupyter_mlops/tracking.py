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
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _TRACKING_API
from .config import ENV_RUN_ID, ENV_SEED, Settings

if TYPE_CHECKING:
    from .artifacts import BlobStore
    from .store import RunStore

__all__ = list(_TRACKING_API)  # also what ``jupyter_mlops`` itself offers (lazily)

log = logging.getLogger("jupyter_mlops.tracking")

FLUSH_INTERVAL = 1.0
"""Seconds between background writes of the metric buffer."""
FLUSH_AT = 5_000
"""Points in the buffer that wake the writer before the interval is up."""
MAX_BUFFER = 1_000_000
"""Points in the buffer at which the logging call itself writes (back-pressure)."""
WRITE_BATCH = 50_000
"""Points per transaction when a large buffer is written."""
INTERACTIVE_SOURCE = "interactive"
UNSEEDED = -1
"""``runs.seed`` of an interactive run that was never seeded."""
MAX_NAME = 255


def _new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _check_name(what: str, name: Any, limit: int = MAX_NAME) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{what} must be a non-empty string, got {name!r}")
    if len(name) > limit:
        raise ValueError(f"{what} {name[:40]!r}... is longer than {limit} characters")
    return name


def _json_safe(value: Any) -> Any:
    """Params are stored as JSON: numbers, strings, lists, dicts; NumPy/torch scalars
    become Python numbers, anything else its ``str``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _json_safe(item())
        except (TypeError, ValueError, RuntimeError):
            pass
    return str(value)


class Tracker:
    """Buffers and writes what one process logs to one run (see the module doc)."""

    def __init__(
        self,
        run_id: str | None = None,
        *,
        settings: Settings | None = None,
        store: RunStore | None = None,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        env_run = os.environ.get(ENV_RUN_ID)
        self.flush_interval = flush_interval
        self.run_id = run_id or env_run or _new_run_id()
        self.interactive = run_id is None and not env_run
        self._settings = settings
        self._store = store
        self._artifacts: BlobStore | None = None
        self._created = not self.interactive
        self._owner_pid = os.getpid()
        self._seed: int | None = None
        self._init_state()
        self._closed = False
        self._ended = False
        self._env_thread: threading.Thread | None = None

    def _init_state(self) -> None:
        self._lock = threading.Lock()  # the buffer and the step counters
        self._write_lock = threading.RLock()  # one writer at a time; run creation
        self._buffer: list[tuple[str, int, float, float]] = []
        self._next_step: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = 0.0
        self._failures = 0

    # -- plumbing ---------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def store(self) -> RunStore:
        if self._store is None:
            with self._write_lock:  # the writer thread and the caller may race here
                if self._store is None:
                    from .store import RunStore

                    self._store = RunStore.from_settings(self.settings)
        return self._store

    @property
    def artifact_store(self) -> BlobStore:
        if self._artifacts is None:
            from .artifacts import open_artifact_store

            self._artifacts = open_artifact_store(self.settings)
        return self._artifacts

    def start(self) -> None:
        """Start the background writer (idempotent)."""
        if self._thread is not None or self._closed:
            return
        with self._lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="mlops-tracking", daemon=True)
            self._thread = thread
        thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.flush()
                self._beat()
                self._failures = 0
            except Exception as err:  # the store may be briefly unavailable: keep points
                self._failures += 1
                if self._failures in (1, 10, 100):
                    print(
                        f"jupyter-mlops: could not write metrics ({type(err).__name__}: {err});"
                        f" {self.pending} points kept, retrying",
                        file=sys.stderr,
                    )
                self._stop.wait(min(30.0, 0.5 * self._failures))

    def _beat(self) -> None:
        """Interactive runs only: the heartbeat that keeps the reconciler away."""
        if not (self.interactive and self._created and not self._ended):
            return
        now = time.monotonic()
        if now - self._last_beat >= self.settings.heartbeat_interval:
            self.store.heartbeat(self.run_id)
            self._last_beat = now

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def ensure_run(self) -> RunStore:
        """The store, with this tracker's run in it (creates an interactive run once)."""
        store = self.store
        if self._created:
            return store
        with self._write_lock:
            if not self._created:
                self._create_interactive_run(store)
                self._created = True
        return store

    def _create_interactive_run(self, store: RunStore) -> None:
        from .store import Run, RunStatus
        from .store.types import utcnow

        notebook = _notebook_path()
        git = _git_facts(Path.cwd())
        seed = self._seed if self._seed is not None else _env_seed()
        now = utcnow()
        run = Run(
            id=self.run_id,
            created_at=now,
            source=INTERACTIVE_SOURCE,
            backend="local",
            notebook_path=notebook,
            notebook_abspath=str(Path(notebook).resolve()) if Path(notebook).exists() else notebook,
            kernel_name="",  # a kernel is not told its kernelspec name
            seed=UNSEEDED if seed is None else seed,
            commit_sha="",
            snapshot_ref="",
            git_dir=git.get("git_dir", ""),
            worktree=git.get("worktree", str(Path.cwd())),
            notebook_relpath=Path(notebook).name,
            branch=git.get("branch"),
            base_commit=git.get("head"),
            dirty=False,
        )
        store.create_run(run)
        store.transition(
            self.run_id,
            RunStatus.RUNNING,
            allowed_from=[RunStatus.QUEUED],
            reason="interactive session",
            started_at=now,
        )
        self._last_beat = time.monotonic()
        self._env_thread = threading.Thread(
            target=self._capture_environment, name="mlops-env", daemon=True
        )
        self._env_thread.start()

    def _capture_environment(self) -> None:
        try:
            from .environment import capture_environment

            data = capture_environment(
                kernel_name="",
                kernel_python=sys.executable,
                extra={
                    "seed": self._seed,
                    "interactive": {"pid": os.getpid(), "argv": list(sys.argv[:8])},
                },
                cache_dir=self.settings.cache_dir,
            )
            self.store.set_environment(self.run_id, data)
        except Exception:
            log.debug("environment capture failed", exc_info=True)

    # -- metrics ------------------------------------------------------------------------

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        value = float(value)
        at = time.time()
        with self._lock:
            nxt = self._next_step.get(key)
            if nxt is None:
                _check_name("metric key", key)
                nxt = 0
            step = nxt if step is None else int(step)
            self._next_step[key] = step + 1 if step >= nxt else nxt
            buffer = self._buffer
            buffer.append((key, step, value, at))
            n = len(buffer)
        if self._thread is None:
            self.start()
        if n >= FLUSH_AT and n % FLUSH_AT == 0:
            if n >= MAX_BUFFER:
                self.flush()
            else:
                self._wake.set()

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        at = time.time()
        items = [(key, float(value)) for key, value in metrics.items()]
        with self._lock:
            buffer = self._buffer
            before = len(buffer)
            for key, value in items:
                nxt = self._next_step.get(key)
                if nxt is None:
                    _check_name("metric key", key)
                    nxt = 0
                s = nxt if step is None else int(step)
                self._next_step[key] = s + 1 if s >= nxt else nxt
                buffer.append((key, s, value, at))
            n = len(buffer)
        if self._thread is None:
            self.start()
        if n // FLUSH_AT > before // FLUSH_AT:
            if n >= MAX_BUFFER:
                self.flush()
            else:
                self._wake.set()

    def flush(self) -> int:
        """Write every buffered point now; returns how many were written."""
        written = 0
        with self._write_lock:
            with self._lock:
                points, self._buffer = self._buffer, []
            if not points:
                return 0
            try:
                store = self.ensure_run()
                for start in range(0, len(points), WRITE_BATCH):
                    chunk = points[start : start + WRITE_BATCH]
                    store.log_metrics_batch(self.run_id, chunk)
                    written += len(chunk)
            except BaseException:
                with self._lock:  # keep what was not written, in order, for the next try
                    self._buffer[:0] = points[written:]
                raise
        return written

    # -- params, tags, artifacts, models ------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> dict[str, str]:
        values = {
            _check_name("param name", name, MAX_NAME - 7): _json_safe(v)
            for name, v in params.items()
        }
        if not values:
            return {}
        return self.ensure_run().log_params(self.run_id, values)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        clean: dict[str, str] = {}
        for key, value in tags.items():
            _check_name("tag key", key)
            if "=" in key:
                raise ValueError(f"tag key {key!r} must not contain '='")
            text = f"{key}={value}"
            if len(text) > MAX_NAME:
                raise ValueError(f"tag {text[:40]!r}... is longer than {MAX_NAME} characters")
            clean[key] = str(value)
        if clean:
            self.ensure_run().set_tags(self.run_id, clean)

    def _store_artifact(
        self, source: Path, name: str, kind: str, meta: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from .artifact_gc import collect_garbage
        from .artifacts import artifact_row

        store = self.ensure_run()
        blobs = self.artifact_store
        previous = store.get_artifact(self.run_id, name)
        with store.blob_lock(exclusive=False):
            sha, size = blobs.put_file(source)
            store.add_artifact(
                artifact_row(self.run_id, name, kind, sha, size, {**(meta or {}), "sha256": sha})
            )
        if previous is not None and previous.sha256 != sha:
            collect_garbage(store, blobs, [previous.sha256])  # the replaced version
        return {"name": name, "kind": kind, "sha256": sha, "size": size, "meta": meta}

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> list[str]:
        source = Path(path)
        base = name or source.name
        _check_name("artifact name", base, 1024)
        if source.is_dir():
            names = []
            for file in sorted(p for p in source.rglob("*") if p.is_file()):
                rel = f"{base}/{file.relative_to(source).as_posix()}"
                self._store_artifact(file, _check_name("artifact name", rel, 1024), "file")
                names.append(rel)
            return names
        if not source.is_file():
            raise FileNotFoundError(f"no such file or directory: {source}")
        self._store_artifact(source, base, "file")
        return [base]

    def log_model(self, model: Any, name: str = "model") -> dict[str, Any]:
        import tempfile

        import torch

        _check_name("model name", name, 1024)
        state = model.state_dict() if hasattr(model, "state_dict") else model
        if not isinstance(state, Mapping):
            raise TypeError("log_model expects a torch.nn.Module or a state dict")
        cpu_state = {
            k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in state.items()
        }
        meta: dict[str, Any] = {"format": "torch.state_dict", "torch_version": torch.__version__}
        if isinstance(model, torch.nn.Module):
            cls = type(model)
            meta["architecture"] = f"{cls.__module__}.{cls.__qualname__}"
            meta["module"] = cls.__module__
            meta["qualname"] = cls.__qualname__
            meta["parameters"] = sum(p.numel() for p in model.parameters())
            meta["trainable_parameters"] = sum(
                p.numel() for p in model.parameters() if p.requires_grad
            )
        tensors = [v for v in cpu_state.values() if isinstance(v, torch.Tensor)]
        meta["tensors"] = len(tensors)
        meta["dtypes"] = sorted({str(t.dtype).removeprefix("torch.") for t in tensors})
        meta.setdefault("parameters", sum(t.numel() for t in tensors))
        # A fixed file name: torch.save names the archive after the file, and the bytes
        # (hence the digest) must depend on the weights only.
        with tempfile.TemporaryDirectory(prefix="mlops-model-") as tmp:
            target = Path(tmp) / "model.pt"
            torch.save(cpu_state, target)
            return self._store_artifact(target, name, "model", meta)

    # -- ending -------------------------------------------------------------------------

    def end(self, status: str = "succeeded", reason: str | None = None) -> None:
        """Flush; an interactive run this process created gets its terminal status."""
        from .store import RunStatus

        self.flush()
        if self.interactive and self._created and not self._ended:
            if os.getpid() == self._owner_pid:
                self.store.transition(
                    self.run_id,
                    RunStatus(status),
                    reason=reason,
                    allowed_from=[RunStatus.RUNNING],
                )
            self._ended = True

    def close(self, *, status: str = "succeeded", timeout: float = 30.0) -> None:
        """Stop the writer thread and write what is left (at exit)."""
        self._closed = True
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        for attempt in range(3):
            try:
                self.end(status)
                break
            except Exception as err:
                if attempt == 2:
                    print(
                        f"jupyter-mlops: {self.pending} metric points could not be written "
                        f"at exit: {type(err).__name__}: {err}",
                        file=sys.stderr,
                    )
                else:
                    time.sleep(0.5)
        if self._env_thread is not None and self._env_thread.is_alive():
            self._env_thread.join(10.0)

    def _after_fork_in_child(self) -> None:
        """A forked child (DataLoader worker...) starts empty; the parent keeps its points."""
        steps = dict(self._next_step)
        self._init_state()
        self._next_step = steps
        if self._store is not None:
            self._store.engine.dispose(close=False)
        self._env_thread = None


def _notebook_path() -> str:
    """The notebook a kernel runs (jupyter_server tells it, ``JPY_SESSION_NAME``), else
    the script being run, else ``<interactive>``."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session and "ipykernel" in sys.modules:
        return session
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script and Path(script).is_file() and "ipykernel" not in Path(script).name:
        return str(Path(script).resolve())
    return session or "<interactive>"


def _git_facts(cwd: Path) -> dict[str, str]:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if out.returncode != 0:
            return {}
        top, git_dir, head = out.stdout.split()[:3]
        branch = subprocess.run(
            ["git", "symbolic-ref", "-q", "--short", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        facts = {"worktree": top, "git_dir": git_dir, "head": head}
        if branch:
            facts["branch"] = branch
        return facts
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}


def _env_seed() -> int | None:
    raw = os.environ.get(ENV_SEED)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


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


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Record ``value`` for ``key`` at ``step`` (default: the key's next step, from 0).

    Buffered: returns in about a microsecond; see the module doc for when it is written.
    ``value`` may be anything ``float()`` accepts (a 1-element tensor syncs its device).
    """
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


def log_model(model: Any, name: str = "model") -> dict[str, Any]:
    """Store a torch module's ``state_dict`` (on the CPU) as artifact ``name``; returns
    ``{"name", "kind", "sha256", "size", "meta"}``."""
    return get_tracker().log_model(model, name)


def load_model(
    run_id: str,
    name: str = "model",
    model: Any = None,
    *,
    map_location: Any = "cpu",
    settings: Settings | None = None,
) -> Any:
    """Load a model logged with :func:`log_model` by run ``run_id`` (or a unique prefix).

    ``model=None``: returns the state dict. A module: loads the weights into it and
    returns it. A class: builds ``model()`` (it must take no arguments), loads, returns
    it. Tensors are loaded with ``weights_only=True`` onto ``map_location``. The store is
    the one of ``settings`` (default: from the environment, as everywhere else).
    """
    import torch

    from .artifacts import open_artifact_store
    from .store import RunStore

    settings = settings or Settings.from_env()
    store = RunStore.from_settings(settings)
    try:
        resolved = store.resolve_run_id(run_id)
        artifact = store.get_artifact(resolved, name)
    finally:
        store.close()
    if artifact is None:
        raise LookupError(f"run {resolved} has no artifact named {name!r}")
    with open_artifact_store(settings).open(artifact.sha256) as stream:
        state = torch.load(stream, map_location=map_location, weights_only=True)
    if model is None:
        return state
    if isinstance(model, type):
        model = model()
    model.load_state_dict(state)
    return model


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
        seed = _env_seed()
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
