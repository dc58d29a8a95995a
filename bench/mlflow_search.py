"""MLflow's ``search_runs`` on a SQLite store of N runs: the baseline of runs_table.py.

Run by ``bench/runs_table.py`` with an interpreter that has ``mlflow`` (this file imports
nothing of jupyter-mlops). Fills a temporary SQLite tracking store with N finished runs
(three params, three metrics, a tag, through ``log_batch``), then prints one JSON line
with the median milliseconds of ``repeat`` calls each:

* ``newest``: the newest 50;
* ``metric``: the first 50 ordered by ``metrics.loss ASC``;
* ``param``: the newest 50 with ``params.epochs = '7'``.

    python bench/mlflow_search.py [--runs 2000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tracking_uri(f"sqlite:///{Path(tmp) / 'mlflow.db'}")
        client = MlflowClient()
        experiment = client.create_experiment("bench", artifact_location=f"{tmp}/artifacts")
        now = int(time.time() * 1000)
        for i in range(args.runs):
            run = client.create_run(experiment, start_time=now - i * 60_000)
            client.log_batch(
                run.info.run_id,
                metrics=[Metric(key, rng.random(), now, 100) for key in ("loss", "accuracy", "f1")],
                params=[
                    Param("lr", str(rng.choice([0.1, 0.01, 0.001]))),
                    Param("epochs", str(rng.randrange(1, 50))),
                    Param("name", f"exp-{i % 100}"),
                ],
                tags=[RunTag("team", f"team-{i % 10}")],
            )
            client.set_terminated(run.info.run_id)
        cases = {
            "newest": {},
            "metric": {"order_by": ["metrics.loss ASC"]},
            "param": {"filter_string": "params.epochs = '7'"},
        }
        result = {}
        for name, kwargs in cases.items():
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.search_runs([experiment], max_results=50, **kwargs)
                times.append((time.perf_counter() - start) * 1000)
            result[name] = statistics.median(times)
    print(json.dumps({"mlflow": mlflow.__version__, "runs": args.runs, **result}))


if __name__ == "__main__":
    main()
