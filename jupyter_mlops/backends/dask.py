"""Runs execute on the workers of a Dask cluster, through the same runner as locally.

``c.MLOps.backend = "dask"`` with ``c.MLOps.dask_scheduler_address`` (any Dask cluster:
dask-kubernetes, dask-jobqueue on Slurm/PBS, ``dask scheduler`` + ``dask worker``), or no
address for a ``LocalCluster`` started in this process (it ends with the process).

Each run is one Dask task, ``run_on_worker(run_id, env)``, keyed ``mlops-run-<id>``,
asking for ``resources={"GPU": n}`` when the run wants GPUs (start GPU workers with
``dask worker --resources GPU=1``). The task starts ``python -m jupyter_mlops.runner``
as a child process and waits for it, so cancel, timeout, heartbeats, progress, system
metrics and artifacts work exactly as for local runs:

* the runner writes to the shared store (PostgreSQL for a real cluster) and the
  configured artifact root (a shared directory or an fsspec URL);
* cancel sets the store's cancel flag (the runner polls it and kills its kernel) and
  cancels the Dask task (a run still in Dask's queue never starts);
* the runner watches the worker process that started it: when the worker dies, the
  runner ends its run as ``lost`` with that reason and kills the kernel, and nothing else
  is touched. If the runner dies too (the whole machine), the run is marked lost by the
  reconciler (dead pid on this host, or no heartbeat for ``lost_after`` elsewhere);
* tasks are submitted with ``fire_and_forget``: a run keeps going when the submitting
  CLI or server exits (with an external scheduler; a LocalCluster ends with its process).

Workers need what a local runner needs: jupyter-mlops and the kernels in their
environment, the store URL reachable and the artifact root shared. The run's code comes
from its snapshot's git directory where a worker can read it, else from the run's
``snapshot.tar`` artifact, stored at submit (see :mod:`jupyter_mlops.code_archive`).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
from pathlib import Path
from typing import Any

from ..config import ENV_DATA_DIR, ENV_PARENT_PID, Settings
from ..gpus import GPURequestError, usable_gpus
from ..processes import hostname, start_runner
from ..store import Run, RunStatus, RunStore
from ..store.lost import DASK_LOCAL_PREFIX, DASK_QUEUE_PREFIX
from ..store.types import utcnow
from .base import Backend

log = logging.getLogger("jupyter_mlops.dask")

KEY_PREFIX = "mlops-run-"
ORPHAN_GRACE_S = 10.0
"""A queued run's task may take this long to reach the scheduler after the row exists."""


def task_key(run_id: str) -> str:
    return f"{KEY_PREFIX}{run_id}"


def run_on_worker(run_id: str, env: dict[str, str], handover: str | None = None) -> int:
    """The Dask task of one run: start its runner here and wait for it; its exit code.

    The runner gets its own session (a signal to the worker's group does not hit it) and
    is told the worker's pid, so that it ends the run as lost when this worker dies
    instead of running on unseen. ``handover`` (secret parameter values, JSON) came in
    the task's arguments, which Dask keeps in memory only; it is written as the runner's
    0600 hand-over file in this worker's run directory.
    """
    from ..masking import Handover, write_handover

    child_env = {**os.environ, **env, ENV_PARENT_PID: str(os.getpid())}
    data_dir = Path(child_env.get(ENV_DATA_DIR) or ".")
    run_dir = data_dir / "runs" / run_id
    if handover:
        write_handover(run_dir, Handover.from_json(handover))
    return start_runner(run_id, run_dir, child_env).wait()


class DaskHandle:
    """``--wait`` on a Dask run: the exit code of its runner (1 if the task erred)."""

    def __init__(self, future: Any) -> None:
        self.future = future

    def poll(self) -> int | None:
        if not self.future.done():
            return None
        return self._code()

    def wait(self, timeout: float | None = None) -> int | None:
        """The runner's exit code; raises ``TimeoutError`` while the run goes on."""
        if not self.future.done():
            try:
                self.future.result(timeout=timeout)
            except TimeoutError:
                raise
            except (Exception, asyncio.CancelledError):
                pass  # erred or cancelled: done now
        return self._code()

    def _code(self) -> int:
        if self.future.status == "finished":
            try:
                return int(self.future.result())
            except Exception:
                return 1
        return 1


class DaskBackend(Backend):
    name = "dask"

    def __init__(self, settings: Settings, store: RunStore, *, client: Any = None) -> None:
        super().__init__(settings, store)
        self._client = client
        self._cluster: Any = None
        self._lock = threading.Lock()
        self._futures: dict[str, Any] = {}
        self._handovers: dict[str, str] = {}
        self._closing = False

    # -- the cluster ---------------------------------------------------------------------

    @property
    def owns_cluster(self) -> bool:
        return not self.settings.dask_scheduler_address

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from distributed import Client, LocalCluster

                address = self.settings.dask_scheduler_address
                if address:
                    self._client = Client(address, timeout="30s", set_as_default=False)
                else:
                    gpus = len(usable_gpus(self.settings.gpu_inventory))
                    self._cluster = LocalCluster(
                        n_workers=self.settings.max_concurrent_runs,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        host="127.0.0.1",
                        resources={"GPU": gpus} if gpus else None,
                    )
                    self._client = Client(self._cluster, set_as_default=False)
                    atexit.register(self.close)
            return self._client

    @property
    def scheduler_address(self) -> str:
        return str(self.client.scheduler.address)

    def queue_host(self) -> str:
        """``runner_host`` of this backend's runs while they wait in Dask's queue."""
        if self.owns_cluster:
            return f"{DASK_LOCAL_PREFIX}{hostname()}:{os.getpid()}"
        return f"{DASK_QUEUE_PREFIX}{self.settings.dask_scheduler_address}"

    # -- the Backend interface -------------------------------------------------------------

    def check_gpus(self, count: int) -> None:
        """Refuse a request no worker of the cluster could ever take."""
        if count <= 0:
            return
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        largest = max(
            (float((w.get("resources") or {}).get("GPU", 0)) for w in workers.values()),
            default=0.0,
        )
        if count > largest:
            raise GPURequestError(
                f"the run asks for {count} GPU(s) but no worker of the Dask cluster offers "
                f"that many (largest: {largest:g}; start GPU workers with "
                "`dask worker --resources GPU=N`)"
            )

    def prepare(self, run: Run) -> None:
        run.runner_host = self.queue_host()

    def hand_over(self, run: Run, handover: Any) -> None:
        """Kept for :meth:`launch`: it travels in the task's arguments (a worker's run
        directory is not this process's)."""
        if handover:
            self._handovers[run.id] = handover.to_json()

    def launch(self, run: Run) -> DaskHandle:
        from distributed import fire_and_forget

        from ..artifacts import open_artifact_store
        from ..code_archive import store_archive

        handover = self._handovers.pop(run.id, None)
        # the code travels with the run: a worker may not see the notebook's repository
        store_archive(run, self.store, open_artifact_store(self.settings))
        future = self.client.submit(
            run_on_worker,
            run.id,
            self.settings.runner_env(),
            handover,
            resources={"GPU": run.gpus} if run.gpus else None,
            pure=False,
            key=task_key(run.id),
        )
        fire_and_forget(future)
        self._futures[run.id] = future
        future.add_done_callback(lambda f, run_id=run.id: self._on_done(run_id, f))
        return DaskHandle(future)

    def cancel(self, run: Run) -> None:
        """The store's cancel flag (set by the job service) stops a running runner; this
        drops the task from Dask's queue so a waiting run never starts."""
        future = self._futures.get(run.id)
        if future is None and self._client is None:
            return
        try:
            if future is None:
                from distributed import Future

                future = Future(task_key(run.id), client=self.client)
            self.client.cancel([future], force=True)
        except Exception:
            log.warning("could not cancel the Dask task of run %s", run.id, exc_info=True)

    def reconcile(self, runs: list[Run]) -> dict[str, str]:
        """Runs of this backend waiting in the scheduler's queue whose task the scheduler
        no longer has (restarted scheduler): lost. Only asked when connected already."""
        if self._client is None or self.owns_cluster:
            return {}
        host = self.queue_host()
        now = utcnow()
        waiting = {
            task_key(r.id): r.id
            for r in runs
            if r.backend == self.name
            and r.status == RunStatus.QUEUED.value
            and r.runner_host == host
            and (now - r.created_at).total_seconds() > ORPHAN_GRACE_S
        }
        if not waiting:
            return {}
        known = set(self.client.run_on_scheduler(_known_keys, keys=list(waiting)))
        return {
            run_id: f"the Dask scheduler {self.settings.dask_scheduler_address} no longer "
            "has the run's task (it was restarted?)"
            for key, run_id in waiting.items()
            if key not in known
        }

    def _on_done(self, run_id: str, future: Any) -> None:
        """A task that erred (Dask gave up on it, e.g. KilledWorker after repeated worker
        deaths) leaves a run that never started queued forever: mark it lost. A started
        run's runner records its own end (or the reconciler finds its runner dead)."""
        if self._closing or future.status != "error":
            return
        threading.Thread(
            target=self._mark_errored, args=(run_id, future), name=f"dask-done-{run_id}"
        ).start()

    def _mark_errored(self, run_id: str, future: Any) -> None:
        try:
            error = future.exception(timeout=5)
        except Exception as err:  # the scheduler went away meanwhile
            error = err
        self.store.transition(
            run_id,
            RunStatus.LOST,
            reason=f"the Dask task of the run failed before it started: {error!r}",
            allowed_from=[RunStatus.QUEUED],
        )

    def close(self) -> None:
        """Close the client; a LocalCluster of ours ends with its workers: runs it still
        had queued are lost (running ones are ended as lost by their runners)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        if cluster is not None:
            try:
                for run in self.store.active_runs():
                    if run.runner_host == self.queue_host() and run.status == "queued":
                        self.store.transition(
                            run.id,
                            RunStatus.LOST,
                            reason="the Dask LocalCluster was shut down before the run started",
                            allowed_from=[RunStatus.QUEUED],
                        )
            except Exception:
                log.warning("could not mark the queued Dask runs lost", exc_info=True)
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:
                    log.debug("closing %r failed", thing, exc_info=True)


def _known_keys(keys: list[str], dask_scheduler: Any = None) -> list[str]:
    return [k for k in keys if k in dask_scheduler.tasks]
