"""Latency of the runs table's queries on a store of 100,000 runs, SQLite and PostgreSQL.

Fills each store with N finished runs (three parameters, three latest metrics, one or two
tags each; bulk-inserted through SQLAlchemy core), then times ``RunStore.query_runs``,
the query behind ``GET /mlops/api/runs?filter=&order_by=`` and the runs table, with the
median of ``--repeat`` calls each:

* the newest 50 (no filter);
* the first 50 sorted by a metric (``metrics.loss ASC``);
* the newest 50 filtered by a parameter (``params.epochs = 7``);
* for information (no goal): sorted by a parameter, and filtered and sorted by a metric;

and prints each query's plan (EXPLAIN QUERY PLAN / EXPLAIN). MLflow's ``search_runs``
at 2,000 runs is the baseline (``bench/mlflow_search.py``, run with ``--mlflow-python``
or this interpreter when it has ``mlflow``); without MLflow the figures measured when
the issue was filed are printed instead (220 ms sorted by a metric, 300 ms filtered by a
parameter).

    python bench/runs_table.py [--runs 100000] [--repeat 20] [--mlflow-runs 2000]
                               [--stores sqlite,postgresql] [--mlflow-python PATH]

Goals (issue 11): newest 50 < 10 ms, sorted by a metric < 50 ms, filtered by a parameter
< 50 ms, on both stores at 100,000 runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from common import option_parser, postgres, synthetic_params
from sqlalchemy import insert, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jupyter_mlops.search_syntax import parse_filter, parse_order_by  # noqa: E402
from jupyter_mlops.store import RunStore  # noqa: E402
from jupyter_mlops.store.models import LatestMetric, Run, RunParam, RunTag  # noqa: E402
from jupyter_mlops.store.search_filter import compile_filter  # noqa: E402
from jupyter_mlops.store.search_order import RunQuery, sort_phases  # noqa: E402

CASES: dict[str, tuple[str, str, float]] = {
    "newest 50": ("", "", 10.0),
    "sorted by a metric": ("", "metrics.loss ASC", 50.0),
    "filtered by a parameter": ("params.epochs = 7", "", 50.0),
    "sorted by a parameter": ("", "params.epochs DESC", 0.0),
    "filtered, sorted by a metric": ("params.epochs = 7", "metrics.loss ASC", 0.0),
}
"""name -> (filter, order_by, goal in ms; 0: no goal, shown for information)."""

MLFLOW_REFERENCE = {"metric": 220.0, "param": 300.0}
"""MLflow ``search_runs`` at 2,000 runs, measured when issue 11 was filed."""

CHUNK = 5000


def run_rows(count: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], ...]]:
    """Rows of ``count`` finished runs, newest first, in chunks."""
    rng = random.Random(0)
    now = datetime.now(timezone.utc)
    for start in range(0, count, CHUNK):
        runs, params, tags, metrics = [], [], [], []
        for i in range(start, min(count, start + CHUNK)):
            run_id = uuid.UUID(int=rng.getrandbits(128)).hex
            created = now - timedelta(minutes=10 + i)
            started = created + timedelta(seconds=1)
            finished = started + timedelta(seconds=rng.uniform(2, 600))
            runs.append(
                {
                    "id": run_id,
                    "created_at": created,
                    "started_at": started,
                    "finished_at": finished,
                    "status": "failed" if i % 17 == 0 else "succeeded",
                    "source": "ui",
                    "backend": "local",
                    "notebook_path": f"project/notebook_{i % 20}.ipynb",
                    "notebook_abspath": f"/work/project/notebook_{i % 20}.ipynb",
                    "kernel_name": "python3",
                    "gpus": 0,
                    "seed": rng.randrange(2**31),
                    "commit_sha": "c" * 40,
                    "snapshot_ref": f"refs/mlops/runs/{run_id}",
                    "git_dir": "/work/project/.git",
                    "worktree": "/work/project",
                    "notebook_relpath": f"notebook_{i % 20}.ipynb",
                    "dirty": False,
                    "private_repo": False,
                    "cells_total": 5,
                    "cells_done": 5,
                    "cancel_requested": False,
                }
            )
            params += synthetic_params(run_id, i, rng)
            tags.append({"run_id": run_id, "tag": f"team=team-{i % 10}"})
            if i % 3 == 0:
                tags.append({"run_id": run_id, "tag": "nightly"})
            for key in ("loss", "accuracy", "f1"):
                metrics.append(
                    {
                        "run_id": run_id,
                        "key": key,
                        "step": 100,
                        "value": rng.random(),
                        "at": finished,
                    }
                )
        yield runs, params, tags, metrics


def fill_store(store: RunStore, count: int) -> None:
    for runs, params, tags, metrics in run_rows(count):
        with store.writing() as session:
            session.execute(insert(Run), runs)
            session.execute(insert(RunParam), params)
            session.execute(insert(RunTag), tags)
            session.execute(insert(LatestMetric), metrics)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm the statement cache and the pages
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def first_phase_sql(store: RunStore, filter_text: str, order_by: str) -> str:
    """The SQL of a case's first query, with its literals, for EXPLAIN."""
    order = parse_order_by(order_by or "created DESC")
    assert order is not None
    phase = sort_phases(order, store.dialect)[0]
    condition = compile_filter(parse_filter(filter_text), store.dialect)
    query = RunQuery._phase_query(phase, condition, order.descending, 51)
    return str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))


def explain(store: RunStore, sql: str) -> str:
    prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        rows = conn.execute(text(prefix + sql)).all()
    if store.dialect == "sqlite":
        return "\n".join(f"      {row[-1]}" for row in rows)
    return "\n".join(f"      {row[0]}" for row in rows)


def measure(name: str, url: str, count: int, repeat: int) -> dict[str, float]:
    store = RunStore(url)
    start = time.perf_counter()
    fill_store(store, count)
    print(f"{name}: {count:,} runs inserted in {time.perf_counter() - start:.1f} s")
    figures = {}
    for case, (filter_text, order_by, goal) in CASES.items():

        def query(filter_text: str = filter_text, order_by: str = order_by) -> Any:
            page = store.query_runs(filter=filter_text, order_by=order_by, limit=50)
            assert len(page.runs) == 50
            return page

        figures[case] = median_ms(query, repeat)
        verdict = "ok" if figures[case] < goal else "OVER GOAL"
        goal_text = f"(goal < {goal:.0f} ms: {verdict})" if goal else "(no goal)"
        print(f"  {case:<30} median {figures[case]:7.2f} ms  {goal_text}")
        print(explain(store, first_phase_sql(store, filter_text, order_by)))
    store.close()
    return figures


def mlflow_figures(python: str | None, runs: int, repeat: int) -> dict[str, float] | None:
    if python is None:
        if importlib.util.find_spec("mlflow") is None:
            return None
        python = sys.executable
    script = Path(__file__).with_name("mlflow_search.py")
    try:
        done = subprocess.run(
            [python, str(script), "--runs", str(runs), "--repeat", str(repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", None) or str(err)
        print(f"MLflow could not run with {python}: {detail.strip().splitlines()[-1]}")
        return None
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = option_parser(__doc__, runs=100_000, repeat=20, mlflow_runs=2000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--mlflow-python", default=os.environ.get("MLFLOW_PYTHON"))
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.stores.split(","):
            if name == "sqlite":
                results[name] = measure(name, f"sqlite:///{tmp}/store.db", args.runs, args.repeat)
            elif name == "postgresql":
                with postgres() as url:
                    results[name] = measure(name, url, args.runs, args.repeat)
            else:
                raise SystemExit(f"unknown store {name!r}; choose sqlite or postgresql")
    baseline = mlflow_figures(args.mlflow_python, args.mlflow_runs, args.repeat)
    if baseline is None:
        print(
            "MLflow is not installed here (pass --mlflow-python PATH); reference figures "
            f"from issue 11 at 2,000 runs: sorted by a metric {MLFLOW_REFERENCE['metric']:.0f} "
            f"ms, filtered by a parameter {MLFLOW_REFERENCE['param']:.0f} ms"
        )
        baseline = dict(MLFLOW_REFERENCE)
    else:
        print(
            f"MLflow {baseline.get('mlflow')} search_runs at {args.mlflow_runs:,} runs: newest 50 "
            f"{baseline['newest']:.1f} ms, sorted by a metric {baseline['metric']:.1f} ms, "
            f"filtered by a parameter {baseline['param']:.1f} ms"
        )
    for name, figures in results.items():
        metric = baseline["metric"] / figures["sorted by a metric"]
        param = baseline["param"] / figures["filtered by a parameter"]
        print(
            f"{name} at {args.runs:,} runs against MLflow at {args.mlflow_runs:,}: "
            f"MLflow's time / ours: sorted by a metric {metric:.2f}x, filtered by a parameter "
            f"{param:.2f}x (above 1: we are faster)"
        )


if __name__ == "__main__":
    main()
