"""Throughput of many tiny notebook runs: the local queue against a 2-worker Dask cluster.

Submits N runs of a one-cell notebook as fast as the job service accepts them, then waits
for all of them, and reports for each backend:

* runs per minute (N / time from the first submit to the last finish);
* submit-to-start latency (``started_at - created_at``), median and slowest: for the
  runs at the back of the queue this is mostly their wait for a slot;
* hand-off gap: how long a freed slot stays idle before the next queued run claims it
  (the i-th start after the (i - concurrency)-th finish), median and slowest;
* how long ``submit`` itself took (snapshot + store + starting the runner), median.

The local backend runs with ``max_concurrent_runs = concurrency``; Dask with a
``LocalCluster(n_workers=concurrency, threads_per_worker=1, processes=True)``. Both use
a SQLite store in a temporary data directory (``--db-url`` for PostgreSQL).

    python bench/throughput.py [--runs 100] [--concurrency 2] [--backends local,dask]
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import KERNELSPEC, commit_all, option_parser
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.store import RunStatus, RunStore


def make_project(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    nbformat.write(
        new_notebook(cells=[new_code_cell("x = 1")], metadata={"kernelspec": KERNELSPEC}),
        repo / "tiny.ipynb",
    )
    commit_all(repo)
    return repo / "tiny.ipynb"


def run_backend(name: str, settings: Settings, notebook: Path, runs: int, concurrency: int) -> dict:
    store = RunStore.from_settings(settings)
    service = JobService(settings, store)
    if name == "dask":
        _ = service.backend.client  # type: ignore[attr-defined]  # connect before timing
    submit_times = []
    ids = []
    started = time.perf_counter()
    for _ in range(runs):
        t0 = time.perf_counter()
        ids.append(service.submit(RunSpec(notebook=str(notebook), source="bench")).run.id)
        submit_times.append(time.perf_counter() - t0)
    submitted = time.perf_counter() - started
    pending = set(ids)
    deadline = time.monotonic() + 60 * 60
    while pending and time.monotonic() < deadline:
        time.sleep(0.5)
        for run_id in list(pending):
            if RunStatus(store.require_run(run_id).status).is_terminal:
                pending.discard(run_id)
    wall = time.perf_counter() - started
    records = [store.require_run(run_id) for run_id in ids]
    service.close()
    store.close()
    statuses = {}
    for r in records:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    ok = [r for r in records if r.started_at and r.finished_at]
    latency = [(r.started_at - r.created_at).total_seconds() for r in ok]
    starts = sorted(r.started_at for r in ok)
    finishes = sorted(r.finished_at for r in ok)
    gaps = [
        max(0.0, (starts[i] - finishes[i - concurrency]).total_seconds())
        for i in range(concurrency, len(starts))
    ]
    durations = [(r.finished_at - r.started_at).total_seconds() for r in ok]
    return {
        "backend": name,
        "runs": runs,
        "statuses": statuses,
        "wall_s": wall,
        "runs_per_min": 60.0 * runs / wall,
        "submit_all_s": submitted,
        "submit_median_s": statistics.median(submit_times),
        "latency_median_s": statistics.median(latency) if latency else float("nan"),
        "latency_max_s": max(latency) if latency else float("nan"),
        "handoff_median_s": statistics.median(gaps) if gaps else float("nan"),
        "handoff_max_s": max(gaps) if gaps else float("nan"),
        "run_median_s": statistics.median(durations) if durations else float("nan"),
    }


def main() -> None:
    parser = option_parser(__doc__, runs=100, concurrency=2)
    parser.add_argument("--backends", default="local,dask")
    parser.add_argument("--db-url", default="", help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="mlops-throughput-") as tmp:
        root = Path(tmp)
        notebook = make_project(root)
        for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
            base = Settings(
                data_dir=root / f"data-{name}",
                db_url=args.db_url,
                max_concurrent_runs=args.concurrency,
            )
            cluster = None
            if name == "dask":
                from distributed import LocalCluster

                cluster = LocalCluster(
                    n_workers=args.concurrency,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    host="127.0.0.1",
                )
                base = dataclasses.replace(
                    base, backend="dask", dask_scheduler_address=cluster.scheduler_address
                )
            print(f"{name}: {args.runs} runs, concurrency {args.concurrency} ...", flush=True)
            try:
                results.append(run_backend(name, base, notebook, args.runs, args.concurrency))
            finally:
                if cluster is not None:
                    cluster.close()

    print()
    print(
        f"{'backend':<8} {'runs':>5} {'runs/min':>9} {'wall s':>8} {'start lat. med/max s':>21} "
        f"{'hand-off med/max s':>19} {'run med s':>10} {'submit med s':>13}  statuses"
    )
    for r in results:
        print(
            f"{r['backend']:<8} {r['runs']:>5} {r['runs_per_min']:>9.1f} {r['wall_s']:>8.1f} "
            f"{r['latency_median_s']:>10.2f}/{r['latency_max_s']:<10.2f} "
            f"{r['handoff_median_s']:>9.2f}/{r['handoff_max_s']:<9.2f} "
            f"{r['run_median_s']:>10.2f} {r['submit_median_s']:>13.3f}  {r['statuses']}"
        )
    if any(set(r["statuses"]) != {"succeeded"} for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
