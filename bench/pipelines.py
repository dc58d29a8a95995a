"""Orchestration overhead of a linear pipeline of trivial notebooks, and its cached re-run.

Builds a git project with STEPS trivial notebooks, each taking the previous step's run id
as a parameter (a linear chain of references), runs the pipeline once through
``PipelineAdvancer`` (what ``jupyter mlops pipeline run --wait`` does), and reports:

* the pipeline's wall time against the sum of its step runs' own durations (each run from
  the moment its row exists to its end): the difference is what orchestration costs
  (validation, snapshot, reference resolution, cache lookups, submits, polling);
* the wall time of an unchanged re-run, served entirely from the step cache.

    python bench/pipelines.py [--steps 20]

Goals (issue 15): overhead <= 5% of the sum of the step runs; cached re-run < 2 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import KERNELSPEC, commit_all, option_parser
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.pipelines.orchestrator import PipelineAdvancer
from jupyter_mlops.pipelines.report import pipeline_detail
from jupyter_mlops.pipelines.steps import start_pipeline
from jupyter_mlops.processes import kill_tree
from jupyter_mlops.store import RunStore


def make_project(root: Path, steps: int) -> Path:
    root.mkdir()
    param = new_code_cell("upstream = ''", metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[param, new_code_cell("x = 1 + 1")])
    nb.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(nb, root / "step.ipynb")
    lines = ["steps:"]
    for i in range(steps):
        lines += [f"  s{i}:", "    notebook: step.ipynb"]
        if i:
            lines.append(f"    parameters: {{upstream: '${{steps.s{i - 1}.run_id}}'}}")
        else:
            lines.append("    parameters: {upstream: start}")
    (root / "pipeline.yaml").write_text("\n".join(lines) + "\n")
    commit_all(root)
    return root / "pipeline.yaml"


def timed_run(advancer: PipelineAdvancer, path: Path) -> tuple[float, dict]:
    began = time.perf_counter()
    run = start_pipeline(advancer.jobs, path)
    done = advancer.advance(run.id, wait=True)
    wall = time.perf_counter() - began
    return wall, pipeline_detail(advancer.store, done)


def main() -> int:
    args = option_parser(__doc__, steps=20).parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipelines-") as tmp:
        path = make_project(Path(tmp) / "project", args.steps)
        settings = Settings(data_dir=Path(tmp) / "data")
        store = RunStore.from_settings(settings)
        jobs = JobService(settings, store)
        advancer = PipelineAdvancer(jobs)
        try:
            wall, detail = timed_run(advancer, path)
            assert detail["status"] == "succeeded", detail
            runs = [store.require_run(s["run_id"]) for s in detail["steps"]]
            step_sum = sum((r.finished_at - r.created_at).total_seconds() for r in runs)
            overhead = wall - step_sum
            cached_wall, cached = timed_run(advancer, path)
            assert all(s["cached"] for s in cached["steps"]), cached
        finally:
            for run in store.active_runs():
                kill_tree(run.kernel_pid)
                kill_tree(run.runner_pid)
            store.close()
    share = 100 * overhead / step_sum
    print(f"linear pipeline of {args.steps} trivial notebooks")
    print(f"  wall time                 {wall:8.2f} s")
    print(f"  sum of the step runs      {step_sum:8.2f} s")
    print(f"  orchestration overhead    {overhead:8.2f} s  ({share:.1f}%; goal <= 5%)")
    print(f"  fully cached re-run       {cached_wall:8.2f} s  (goal < 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
