"""The buffered writer behind the tracking API: one :class:`Tracker` per process and run.

:meth:`Tracker.log_metric` appends ``(key, step, value, time)`` to an in-memory list
(about a microsecond); a background thread writes the buffer in one transaction per
batch every second, or as soon as :data:`FLUSH_AT` points are waiting. A producer that
gets :data:`MAX_BUFFER` points ahead of the store writes a batch itself (back-pressure,
bounded memory). Params, tags, artifacts and models go to the store at once. See
:mod:`jupyter_mlops.tracking` for when buffers are flushed and what an interactive run is.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ENV_RUN_ID, Settings
from .interactive import capture_environment, env_seed, interactive_run

if TYPE_CHECKING:
    from ..artifacts import BlobStore
    from ..store import RunStore

FLUSH_INTERVAL = 1.0
"""Seconds between background writes of the metric buffer."""
FLUSH_AT = 5_000
"""Points in the buffer that wake the writer before the interval is up."""
MAX_BUFFER = 1_000_000
"""Points in the buffer at which the logging call itself writes (back-pressure)."""
WRITE_BATCH = 50_000
"""Points per transaction when a large buffer is written."""
MAX_NAME = 255


def _new_run_id() -> str:
    """As :func:`jupyter_mlops.store.runs.new_run_id`, without importing the store."""
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
        self._snapshot: tuple[Any, ...] | None = None  # (snapshot_map(run),), once known
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
                    from ..store import RunStore

                    self._store = RunStore.from_settings(self.settings)
        return self._store

    @property
    def artifact_store(self) -> BlobStore:
        if self._artifacts is None:
            from ..artifacts import open_artifact_store

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
        from ..store import RunStatus

        seed = self._seed if self._seed is not None else env_seed()
        run = store.create_run(interactive_run(self.run_id, seed))
        store.transition(
            self.run_id,
            RunStatus.RUNNING,
            allowed_from=[RunStatus.QUEUED],
            reason="interactive session",
            started_at=run.created_at,
        )
        self._last_beat = time.monotonic()
        self._env_thread = threading.Thread(
            target=self._capture_environment, name="mlops-env", daemon=True
        )
        self._env_thread.start()

    def _capture_environment(self) -> None:
        capture_environment(self.store, self.settings, self.run_id, self._seed)

    # -- metrics ------------------------------------------------------------------------

    def _assign_step(self, key: str, step: int | None) -> int:
        """The step of a new point of ``key`` (``None``: the key's next one), kept so the
        next ``None`` follows the highest step so far; the key's name is checked on its
        first point only. The caller holds ``_lock``."""
        following = self._next_step.get(key)
        if following is None:
            _check_name("metric key", key)
            following = 0
        chosen = following if step is None else int(step)
        self._next_step[key] = chosen + 1 if chosen >= following else following
        return chosen

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        value = float(value)
        at = time.time()
        with self._lock:
            buffer = self._buffer
            buffer.append((key, self._assign_step(key, step), value, at))
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
                buffer.append((key, self._assign_step(key, step), value, at))
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
        from ..masking import MASK, is_secret_name

        patterns = self.settings.secret_parameter_patterns
        values = {  # a secret-looking name is stored masked, like a secret job parameter
            _check_name("param name", name, MAX_NAME - 7): (
                MASK if is_secret_name(name, patterns) else _json_safe(v)
            )
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
        from ..artifact_gc import collect_garbage
        from ..artifacts import artifact_row

        store = self.ensure_run()
        blobs = self.artifact_store
        previous = store.get_artifact(self.run_id, name)
        try:
            with store.blob_lock(exclusive=False):
                sha, size = blobs.put_file(source)
                store.add_artifact(
                    artifact_row(
                        self.run_id, name, kind, sha, size, {**(meta or {}), "sha256": sha}
                    )
                )
        except Exception as err:  # raised to the notebook, and kept on the run if caught there
            with contextlib.suppress(Exception):
                store.add_warning(
                    self.run_id,
                    f"the logged {kind} {name!r} could not be stored: {type(err).__name__}: {err}",
                )
            raise
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

    def log_model(
        self, model: Any, name: str = "model", register_as: str | None = None
    ) -> dict[str, Any]:
        from .models import saved_model

        _check_name("model name", name, 1024)
        if register_as is not None:
            from ..registry.uris import check_model_name

            check_model_name(register_as)
        with saved_model(model) as (path, meta):
            logged = self._store_artifact(path, name, "model", meta)
        if register_as is not None:
            from ..identity import os_user
            from ..registry.uris import ModelURI

            version = self.ensure_run().register_version(
                register_as, self.run_id, name, actor=os_user()
            )
            uri = str(ModelURI.of_version(register_as, version.version))
            logged["registered"] = {"name": register_as, "version": version.version, "uri": uri}
        return logged

    def use_dataset(self, uri: str | os.PathLike[str], name: str | None = None) -> str:
        from ..datasets.recording import record_dataset, snapshot_map

        if name is not None:
            _check_name("dataset name", name, 1024)
        store = self.ensure_run()
        if self._snapshot is None:  # a job reads a copy of its worktree: record the original
            run = None if self.interactive else store.get_run(self.run_id)
            self._snapshot = (snapshot_map(run) if run is not None else None,)
        found = record_dataset(
            store, self.settings, self.run_id, uri, name=name, mapping=self._snapshot[0]
        )
        return found.local_path

    # -- ending -------------------------------------------------------------------------

    def end(self, status: str = "succeeded", reason: str | None = None) -> None:
        """Flush; an interactive run this process created gets its terminal status."""
        from ..store import RunStatus

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
