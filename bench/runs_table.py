"""Latency of the runs table's queries on a store of 100,000 runs, SQLite and PostgreSQL.

Fills each store with N finished runs (three parameters, three latest metrics, one or two
tags each; bulk-inserted through SQLAlchemy core), then times ``RunStore.query_runs``,
the query behind ``GET /mlops/api/runs?filter=&order_by=`` and the runs table, with the
median of ``--repeat`` calls each:

* the newest 50 (no filter);
* the first 50 sorted by a metric (``metrics.loss ASC``);
* the newest 50 filtered by a parameter: ``params.epochs = 7`` (2 % of the runs, about
  where walking the runs and looking their matches up cost the same), ``params.lr =
  '0.01'`` (a third, a string literal against a number as in MLflow) and ``params.name =
  'exp-7'`` (1 %);
* for information (no goal): sorted by a parameter, and filtered and sorted by a metric;

and prints the plan of every statement each one sends (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL; ``--no-plans`` leaves them out). The store is
settled after the load as autovacuum would have settled it (:func:`settle`). MLflow's
``search_runs`` at 2,000 runs is the baseline (``bench/mlflow_search.py``, run with
``--mlflow-python`` or this interpreter when it has ``mlflow``); without MLflow the
figures measured when the issue was filed are printed instead (220 ms sorted by a
metric, 300 ms filtered by a parameter).

    python bench/runs_table.py [--runs 100000] [--repeat 20] [--mlflow-runs 2000]
                               [--stores sqlite,postgresql] [--mlflow-python PATH]
                               [--no-plans]

Goals (issue 11): newest 50 < 10 ms, sorted by a metric < 50 ms, filtered by a parameter
< 50 ms, on both stores at 100,000 runs. Try a smaller store first (``--runs 10000``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
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
from sqlalchemy import event, insert, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jupyter_mlops.store import RunStore  # noqa: E402
from jupyter_mlops.store.models import LatestMetric, Run, RunParam, RunTag  # noqa: E402

CASES: dict[str, tuple[str, str, float]] = {
    "newest 50": ("", "", 10.0),
    "sorted by a metric": ("", "metrics.loss ASC", 50.0),
    "filtered by a parameter": ("params.epochs = 7", "", 50.0),
    "filtered by a string parameter": ("params.lr = '0.01'", "", 50.0),
    "filtered by a rare parameter": ("params.name = 'exp-7'", "", 50.0),
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
    settle(store)


def settle(store: RunStore) -> None:
    """Bring the freshly loaded store to the state a store of that size lives in.

    A store grows a few runs at a time, and PostgreSQL's autovacuum visits it as it grows:
    statistics for the planner (of columns and of index expressions such as the value
    prefix of migration 0016; without them it guesses how many runs a filter keeps and
    which way round to join) and the visibility map, which lets an index-only scan skip
    the table (the run ids of a parameter value are read that way). A bulk load of
    100,000 runs in seconds outruns autovacuum, so the benchmark does its work now
    (VACUUM cannot run inside a transaction). SQLite gets the statistics its planner
    reads (``ANALYZE``); it has no visibility map.
    """
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Medians of the wall time and of this process's CPU time of ``repeat`` calls, in ms.

    On a shared machine the wall time also counts the waits for a core; the CPU time is
    the client's own work (SQLAlchemy, the driver), which with the database's execution
    time (the plans) tells what the query costs when nothing else runs."""
    fn()  # warm the statement cache and the pages
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def statements_of(store: RunStore, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements (SQL and parameters) one call sends, in order."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return sent


PLAN_LINE = 160
"""Characters of a plan line printed (a run id list in a filter runs to many kB)."""


EXECUTION_TIME = re.compile(r"Execution Time: ([0-9.]+) ms")


def explain(store: RunStore, statement: str, parameters: Any) -> list[str]:
    """The plan of one sent statement: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (it runs
    again, so the figures are real), EXPLAIN QUERY PLAN on SQLite."""
    analyze = "EXPLAIN (ANALYZE, BUFFERS) " if store.dialect == "postgresql" else ""
    prefix = analyze or "EXPLAIN QUERY PLAN "
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    return [str(row[-1] if store.dialect == "sqlite" else row[0]) for row in rows]


def show_plans(store: RunStore, call: Callable[[], Any]) -> float:
    """Print the plan of every statement ``call`` sends; returns the database's
    execution time of them all in ms (PostgreSQL; 0 on SQLite, which runs in-process)."""
    executed = 0.0
    for number, (statement, parameters) in enumerate(statements_of(store, call), 1):
        first_line = " ".join(statement.split())[: PLAN_LINE - 8]
        print(f"    statement {number}: {first_line}")
        for line in explain(store, statement, parameters):
            print(f"      {line[:PLAN_LINE]}")
            found = EXECUTION_TIME.search(line)
            executed += float(found.group(1)) if found else 0.0
    return executed


def measure(name: str, url: str, count: int, repeat: int, plans: bool) -> dict[str, float]:
    store = RunStore(url)
    start = time.perf_counter()
    fill_store(store, count)
    print(f"{name}: {count:,} runs inserted in {time.perf_counter() - start:.1f} s")
    figures = {}
    for case, (filter_text, order_by, goal) in CASES.items():

        def query(filter_text: str = filter_text, order_by: str = order_by) -> Any:
            page = store.query_runs(filter=filter_text, order_by=order_by, limit=50)
            # a full page, or all there is (1 % of a small store)
            assert len(page.runs) == 50 or (page.runs and page.next_cursor is None)
            return page

        figures[case], cpu = median_ms(query, repeat)
        verdict = "ok" if figures[case] < goal else "OVER GOAL"
        goal_text = f"(goal < {goal:.0f} ms: {verdict})" if goal else "(no goal)"
        print(f"  {case:<30} median {figures[case]:7.2f} ms  {goal_text}  client CPU {cpu:.2f} ms")
        if plans:
            executed = show_plans(store, query)
            if executed:
                print(f"    database execution, all statements: {executed:.2f} ms")
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
    parser.add_argument(
        "--no-plans", dest="plans", action="store_false", help="do not print the query plans"
    )
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.stores.split(","):
            if name == "sqlite":
                results[name] = measure(
                    name, f"sqlite:///{tmp}/store.db", args.runs, args.repeat, args.plans
                )
            elif name == "postgresql":
                with postgres() as url:
                    results[name] = measure(name, url, args.runs, args.repeat, args.plans)
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
