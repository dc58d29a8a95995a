"""``jupyter mlops run NOTEBOOK``: submit a notebook as a job (the CLI's twin of the
Run-as-job dialog), parameters as ``-p NAME VALUE`` or a YAML/JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, Int, List, Unicode

from .base import EXIT_FAILED, MLOpsBaseApp, fail
from .follow import SubmittingApp


class RunApp(SubmittingApp):
    name = "jupyter-mlops-run"
    description = (
        "Run a notebook as a job: snapshot it into git, execute it with papermill in a "
        "detached process, and record everything in the run store. Parameters: "
        "-p NAME VALUE (repeatable; converted to the type declared in the notebook's "
        "'parameters' cell) or -f params.yaml. Example: jupyter mlops run train.ipynb "
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

    def run(self) -> int:
        from ..jobs import RunSpec

        notebook = self.one_argument("notebook path")
        typed: dict[str, Any] = {}
        if self.parameters_file:
            typed = load_parameters_file(Path(self.parameters_file))
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
        )
        submission = self.jobs().submit(spec)
        run = submission.run
        if self.json_output and not self.wait:
            from ..serialize import run_summary

            print(json.dumps(run_summary(run), indent=2))
        else:
            print(run.id)
        if not self.wait and run.status == "failed":  # the runner could not even start
            return EXIT_FAILED
        return self.follow(submission)


def load_parameters_file(path: Path) -> dict[str, Any]:
    """``-f params.yaml``: a mapping of name: value (JSON is YAML too); anything else is
    bad input, said in one line."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"parameters file {path} does not exist")
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        fail(f"parameters file {path} is not valid YAML/JSON: {err}")
    except RecursionError:
        fail(f"parameters file {path} is nested too deeply")
    if data is None:
        return {}
    if not isinstance(data, dict):
        fail(f"parameters file {path} must hold a mapping of name: value")
    return data
