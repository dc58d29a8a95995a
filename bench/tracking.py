"""Tracking speed: logging from a real kernel (ours vs MLflow) and serving a big series.

(a) ``log_metric`` calls per second for 100,000 points, timed inside a real IPython
    kernel (jupyter_client), median of ``--repeat``; also the time until all of them are
    durable in the store (loop + final flush). Compared with MLflow on a SQLite store:
    ``mlflow.log_metric`` (one transaction per call, so only ``--mlflow-calls`` calls
    are made and the 100,000-point time is EXTRAPOLATED) and ``MlflowClient.log_batch``
    (1,000 metrics per call, its limit; 100,000 points for real). MLflow runs in a
    plain Python process (its calls are synchronous, a kernel adds nothing); it is a
    bench-only dependency: ``pip install mlflow``, or point ``--mlflow-python`` at an
    interpreter that has it.
(b) ``RunStore.metric_series`` of a 1,000,000-point series on SQLite (1,000 points
    out), median of 5, and for comparison one GROUP BY pass over the raw points.

    python bench/tracking.py [--repeat 5] [--mlflow-calls 1000] [--mlflow-python PY]

Goals (issue 4): ours >= 100,000 points/s and >= 100x MLflow's log_metric; a
1,000,000-point series served in < 100 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

from common import option_parser

POINTS = 100_000
SERIES_POINTS = 1_000_000

KERNEL_CODE = """
import json, time
import jupyter_mlops as mlops
mlops.log_metric("warmup", 0.0)
mlops.flush()  # the interactive run exists; what follows is the steady state
results = []
for rep in range({repeat}):
    key = f"loss{{rep}}"
    t0 = time.perf_counter()
    for i in range({points}):
        mlops.log_metric(key, i * 1e-3)
    t1 = time.perf_counter()
    mlops.flush()
    t2 = time.perf_counter()
    results.append({{"loop_s": t1 - t0, "durable_s": t2 - t0}})
print("RESULT " + json.dumps({{"run": mlops.current_run_id(), "results": results}}))
"""

MLFLOW_CODE = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import logging
logging.disable(logging.WARNING)
import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

uri, calls, points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)
with mlflow.start_run() as run:
    mlflow.log_metric("warmup", 0.0, step=0)  # schema and run exist before timing
    t0 = time.perf_counter()
    for i in range(calls):
        mlflow.log_metric("loss", i * 1e-3, step=i)
    single = time.perf_counter() - t0
    now = int(time.time() * 1000)
    t0 = time.perf_counter()
    for start in range(0, points, 1000):
        batch = [Metric("batch", i * 1e-3, now, i) for i in range(start, start + 1000)]
        client.log_batch(run.info.run_id, metrics=batch)
    batched = time.perf_counter() - t0
    stored = len(client.get_metric_history(run.info.run_id, "batch"))
print("RESULT " + json.dumps({"version": mlflow.__version__, "single_s": single,
                              "calls": calls, "batch_s": batched, "points": points,
                              "stored": stored}))
"""


def ours_in_kernel(root: Path, repeat: int) -> dict:
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env["JUPYTER_MLOPS_DATA_DIR"] = str(root / "ours")
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    lines: list[str] = []
    try:
        reply = kc.execute_interactive(
            KERNEL_CODE.format(repeat=repeat, points=POINTS),
            timeout=600,
            output_hook=lambda msg: (
                lines.append(msg["content"].get("text", ""))
                if msg["msg_type"] == "stream"
                else None
            ),
        )
        if reply["content"]["status"] != "ok":
            sys.exit("kernel code failed: " + "\n".join(reply["content"].get("traceback", [])))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    result = json.loads("".join(lines).split("RESULT ", 1)[1])
    from jupyter_mlops.config import Settings
    from jupyter_mlops.store import RunStore

    store = RunStore.from_settings(Settings(data_dir=root / "ours"))
    try:
        for rep in range(repeat):
            stored = store.metric_series(result["run"], f"loss{rep}")["total_points"]
            if stored != POINTS:
                sys.exit(f"only {stored} of {POINTS} points were stored")
    finally:
        store.close()
    return result


def mlflow_process(root: Path, python: str, calls: int) -> dict | None:
    probe = subprocess.run([python, "-c", "import mlflow"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(
            f"MLflow is not importable by {python}; its figures are left out "
            "(pip install mlflow, or pass --mlflow-python)."
        )
        return None
    uri = f"sqlite:///{root / 'mlflow.db'}"
    out = subprocess.run(
        [python, "-c", textwrap.dedent(MLFLOW_CODE), uri, str(calls), str(POINTS)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=1800,
    )
    if out.returncode != 0 or "RESULT " not in out.stdout:
        print(f"MLflow bench failed; its figures are left out:\n{out.stderr[-2000:]}")
        return None
    return json.loads(out.stdout.split("RESULT ", 1)[1])


def series_on_sqlite(root: Path) -> dict:
    from jupyter_mlops.store import Run, RunStore

    store = RunStore(f"sqlite:///{root / 'series.db'}")
    store.create_run(
        Run(
            id="bench",
            notebook_path="bench.ipynb",
            notebook_abspath="bench.ipynb",
            kernel_name="python3",
            seed=0,
            commit_sha="",
            snapshot_ref="",
            git_dir="",
            worktree="",
            notebook_relpath="bench.ipynb",
        )
    )
    import math
    import random

    rng = random.Random(0)
    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    for start in range(0, SERIES_POINTS, 50_000):
        store.log_metrics_batch(
            "bench",
            [
                ("loss", i, math.exp(-i / 2e5) + 0.05 * rng.random(), now)
                for i in range(start, start + 50_000)
            ],
        )
    write_s = time.perf_counter() - t0
    times = []
    for _ in range(5):
        t = time.perf_counter()
        series = store.metric_series("bench", "loss", max_points=1000)
        times.append(time.perf_counter() - t)
    assert series["total_points"] == SERIES_POINTS and len(series["points"]) <= 1000
    from sqlalchemy import text

    with store.engine.connect() as conn:
        t = time.perf_counter()
        conn.execute(
            text(
                "SELECT step / 2000 AS b, min(value), max(value) FROM metrics "
                "WHERE run_id = 'bench' AND key = 'loss' GROUP BY b"
            )
        ).all()
        group_by_s = time.perf_counter() - t
    store.close()
    return {
        "write_s": write_s,
        "median_s": statistics.median(times),
        "points_out": len(series["points"]),
        "group_by_s": group_by_s,
        "db_mb": (root / "series.db").stat().st_size / 1e6,
    }


def main() -> None:
    parser = option_parser(__doc__, repeat=5, mlflow_calls=1000)
    parser.add_argument("--mlflow-python", default=sys.executable)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mlops-bench-tracking-") as tmp:
        root = Path(tmp)
        print(f"(a) {POINTS:,} log_metric calls, medians of {args.repeat} (2-core machine)")
        ours = ours_in_kernel(root, args.repeat)
        loop = statistics.median(r["loop_s"] for r in ours["results"])
        durable = statistics.median(r["durable_s"] for r in ours["results"])
        ours_rate = POINTS / loop
        print(f"  ours, in a kernel: {ours_rate:>12,.0f} calls/s  ({loop * 1000:.0f} ms)")
        print(
            f"  ours, until durable in SQLite (loop + final flush): "
            f"{POINTS / durable:,.0f} points/s ({durable * 1000:.0f} ms)"
        )
        mlflow = mlflow_process(root, args.mlflow_python, args.mlflow_calls)
        if mlflow:
            single_rate = mlflow["calls"] / mlflow["single_s"]
            batch_rate = mlflow["points"] / mlflow["batch_s"]
            print(
                f"  MLflow {mlflow['version']} log_metric: {single_rate:>8,.0f} calls/s "
                f"(measured on {mlflow['calls']:,} calls; {POINTS:,} would take "
                f"~{POINTS / single_rate:,.0f} s, EXTRAPOLATED)"
            )
            print(
                f"  MLflow log_batch (1,000 per call): {batch_rate:,.0f} points/s "
                f"({mlflow['batch_s']:.1f} s for {mlflow['points']:,}, "
                f"{mlflow['stored']:,} stored)"
            )
        print(f"(b) RunStore.metric_series, {SERIES_POINTS:,}-point series on SQLite")
        series = series_on_sqlite(root)
        print(
            f"  written in {series['write_s']:.1f} s "
            f"({SERIES_POINTS / series['write_s']:,.0f} points/s through log_metrics_batch), "
            f"database {series['db_mb']:.0f} MB"
        )
        print(
            f"  metric_series(max_points=1000): median {series['median_s'] * 1000:.1f} ms, "
            f"{series['points_out']} points"
        )
        print(
            f"  for comparison, one GROUP BY pass over the raw points: "
            f"{series['group_by_s'] * 1000:.0f} ms"
        )

        print("goals")
        print(f"  ours >= 100,000 points/s: {'met' if ours_rate >= 100_000 else 'MISSED'}")
        if mlflow:
            ratio = ours_rate / single_rate
            print(
                f"  ours >= 100x MLflow log_metric: {ratio:,.0f}x "
                f"{'met' if ratio >= 100 else 'MISSED'} "
                f"(vs log_batch: {ours_rate / batch_rate:,.1f}x)"
            )
        else:
            print("  ours >= 100x MLflow log_metric: not measured (MLflow missing)")
        print(
            f"  1,000,000-point series < 100 ms: {series['median_s'] * 1000:.1f} ms "
            f"{'met' if series['median_s'] < 0.1 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
