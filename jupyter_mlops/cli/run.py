"""``jupyter mlops run NOTEBOOK``: submit a notebook as a job (the CLI's twin of the
Run-as-job dialog), parameters as ``-p NAME VALUE`` or a YAML/JSON file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, Int, List, Unicode

from ..finite_json import dumps_json
from .base import EXIT_FAILED, MLOpsBaseApp
from .follow import SubmittingApp
from .parameters import load_parameters_file


class RunApp(SubmittingApp):
    name = "jupyter-mlops-run"
    description = (
        "Run a notebook as a job: snapshot it into git, execute it with papermill in a "
        "detached process, and record everything in the run store. Parameters: "
        "-p NAME VALUE (repeatable; converted to the type declared in the notebook's "
        "'parameters' cell), -r NAME VALUE (a string, never converted), -y YAML (a mapping) "
        "or -f params.yaml, as in papermill. Example: jupyter mlops run train.ipynb "
        "-p lr 0.01 -p epochs 3 --wait"
    )
    aliases = {
        **MLOpsBaseApp.aliases,
        "kernel": "RunApp.kernel",
        "k": "RunApp.kernel",
        "gpus": "RunApp.gpus",
        "timeout": "RunApp.timeout",
        "tag": "RunApp.tags",
        "seed": "RunApp.seed",
        "f": "RunApp.parameters_file",
        "parameters-file": "RunApp.parameters_file",
        "m": "RunApp.commit_message",
    }
    flags = {
        **SubmittingApp.flags,
        "commit": (
            {"RunApp": {"commit": True}},
            "Also commit the notebook to the current branch (explicit; off by default).",
        ),
    }

    kernel = Unicode("", help="Kernel name (default: the notebook's kernel).").tag(config=True)
    gpus = Int(0, help="Number of GPUs (sets CUDA_VISIBLE_DEVICES).").tag(config=True)
    timeout = Float(0.0, help="Seconds before the run is stopped as timed out.").tag(config=True)
    tags = List(Unicode(), help="Tags for the run (repeatable).").tag(config=True)
    seed = Int(
        None,
        allow_none=True,
        help="Seed, 0 to 2**32-1 (default: drawn and recorded). -1 is refused, as in REST.",
    ).tag(config=True)
    parameters_file = Unicode("", help="YAML or JSON file of parameters.").tag(config=True)
    commit = Bool(False).tag(config=True)
    commit_message = Unicode("", help="Message for --commit.").tag(config=True)

    takes_parameters = True
    command_path = ("run",)

    def submit(self) -> int:
        from ..jobs import RunSpec

        notebook = self.one_argument("notebook path")
        typed: dict[str, Any] = {}
        if self.parameters_file:
            typed = load_parameters_file(Path(self.parameters_file))
        typed.update(self.typed_parameters)  # -y and -r beat -f, as in papermill
        spec = RunSpec(
            notebook=notebook,
            parameters=typed,
            raw_parameters=self.raw_parameters,
            kernel=self.kernel or None,
            gpus=self.gpus,
            timeout=self.timeout or None,
            tags=list(self.tags),
            seed=self.seed,
            commit=self.commit,
            commit_message=self.commit_message or None,
            source="cli",
            submitted_by=self.actor,
            untyped_without_parameters_cell=True,  # papermill's -p on an untagged notebook
        )
        service = self.jobs()
        if self.wait:  # this process stays up: the runner starts when the slot is free
            service.dispatch_in_process()
        try:
            return self._submit_and_follow(service, spec)
        finally:
            service.hand_off_queued()  # interrupted while queued: a runner waits instead

    def _submit_and_follow(self, service: Any, spec: Any) -> int:
        submission = service.submit(spec)
        run = submission.run
        for warning in self.store.warnings(run.id):  # e.g. no parameters cell
            print(f"warning: {warning}", file=sys.stderr)
        if self.json_output and not self.wait:
            from ..serialize import run_summary

            print(dumps_json(run_summary(run), indent=2))
        else:
            print(run.id)
        if not self.wait and run.status == "failed":  # the runner could not even start
            return EXIT_FAILED
        return self.follow(submission)
