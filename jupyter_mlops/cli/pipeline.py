"""``jupyter mlops pipeline run | show | resume | list``: notebook pipelines.

  jupyter mlops pipeline run pipeline.yaml -p train.lr 0.01 --wait
  jupyter mlops pipeline show ID --json
  jupyter mlops pipeline resume ID --wait

Exit codes as ``run``'s: 0 succeeded, 1 failed, 2 bad input (every problem of an invalid
pipeline file listed), 3 cancelled.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from traitlets import Bool

from ..finite_json import dumps_json
from .base import EXIT_OK, JSON_FLAG, STATUS_EXIT, CommandGroupApp, MLOpsBaseApp, fail

WAIT_FLAG = {
    "wait": (
        {"PipelineBaseApp": {"wait": True}},
        "Advance the pipeline until it ends; exit with its status.",
    )
}


class PipelineBaseApp(MLOpsBaseApp):
    wait = Bool(False, help="Advance until the pipeline run ends.").tag(config=True)
    flags = {**JSON_FLAG, **WAIT_FLAG}

    def advancer(self) -> Any:
        from ..pipelines.orchestrator import PipelineAdvancer

        return PipelineAdvancer(self.jobs())

    def pipeline_id(self, advancer: Any) -> str:
        return str(advancer.store.resolve_id(self.one_argument("pipeline run id")))

    def finish(self, advancer: Any, pipeline_id: str) -> int:
        """Print the id; with ``--wait`` advance to the end and print the steps."""
        from ..pipelines.report import format_pipeline, pipeline_detail

        if not self.wait:
            advancer.advance(pipeline_id, wait=False)  # start what is ready now
            print(pipeline_id)
            return EXIT_OK
        print(pipeline_id, file=sys.stderr)
        run = advancer.advance(pipeline_id, wait=True)
        detail = pipeline_detail(advancer.store, run)
        if self.json_output:
            print(dumps_json(detail, indent=2))
        else:
            print(format_pipeline(detail))
        return STATUS_EXIT.get(run.status, 1)


class PipelineRunApp(PipelineBaseApp):
    name = "jupyter-mlops-pipeline-run"
    description = (
        "Run a pipeline file (pipeline.yaml): one snapshot, one run per step in dependency "
        "order, steps served from the cache when nothing they depend on changed. "
        "-p STEP.NAME VALUE overrides a step's parameter; --no-cache runs every step."
    )
    flags = {
        **PipelineBaseApp.flags,
        "no-cache": ({"PipelineRunApp": {"no_cache": True}}, "Run every step; no cache."),
    }
    no_cache = Bool(False).tag(config=True)
    takes_parameters = True

    def run(self) -> int:
        from ..pipelines.orchestrator import display_path
        from ..pipelines.steps import start_pipeline

        path = Path(self.one_argument("pipeline file")).expanduser().absolute()
        if not path.is_file():
            fail(f"pipeline file not found: {path}")
        if self.typed_parameters:
            fail("pipeline parameters are given as -p STEP.NAME VALUE")
        advancer = self.advancer()
        run = start_pipeline(
            advancer.jobs,
            path,
            self.raw_parameters,
            no_cache=self.no_cache,
            display=display_path(advancer.jobs, path),
        )
        return self.finish(advancer, run.id)


class PipelineResumeApp(PipelineBaseApp):
    name = "jupyter-mlops-pipeline-resume"
    description = (
        "Run the failed, cancelled and not-run steps of a pipeline run again, reusing the "
        "succeeded ones; also takes over a pipeline whose orchestrator died."
    )

    def run(self) -> int:
        from ..pipelines.orchestrator import resume_pipeline

        advancer = self.advancer()
        pipeline_id = self.pipeline_id(advancer)
        reset = resume_pipeline(advancer, pipeline_id)
        if reset:
            print(f"resuming: {', '.join(reset)}", file=sys.stderr)
        return self.finish(advancer, pipeline_id)


class PipelineShowApp(PipelineBaseApp):
    name = "jupyter-mlops-pipeline-show"
    description = "Show a pipeline run and its steps (status, run, cached from where)."
    flags = JSON_FLAG

    def run(self) -> int:
        from ..pipelines.report import format_pipeline, pipeline_detail
        from ..store.pipelines import PipelineStore

        store = PipelineStore(self.store)
        pipeline_id = str(store.resolve_id(self.one_argument("pipeline run id")))
        detail = pipeline_detail(store, store.require(pipeline_id))
        return self.print_result(detail, format_pipeline)


class PipelineListApp(PipelineBaseApp):
    name = "jupyter-mlops-pipeline-list"
    description = "List pipeline runs, newest first."
    flags = JSON_FLAG

    def run(self) -> int:
        from ..pipelines.report import pipeline_summaries
        from ..store.pipelines import PipelineStore

        store = PipelineStore(self.store)
        rows = pipeline_summaries(store, store.list())
        return self.print_result(
            rows,
            lambda rs: (
                "\n".join(
                    f"{r['id']}  {r['status']:<10} {r['steps_done']}/{r['steps_total']} "
                    f"steps ({r['steps_cached']} cached)  {r['name']}"
                    for r in rs
                )
                or "no pipeline runs"
            ),
        )


class PipelineApp(CommandGroupApp):
    name = "jupyter-mlops-pipeline"
    description = "Notebook pipelines: run, show, resume, list."
    subcommands = {
        "run": (PipelineRunApp, "Run a pipeline file."),
        "show": (PipelineShowApp, "Show a pipeline run."),
        "resume": (PipelineResumeApp, "Resume a pipeline run."),
        "list": (PipelineListApp, "List pipeline runs."),
    }
    show_description = True
