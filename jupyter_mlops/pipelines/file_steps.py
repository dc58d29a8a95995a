"""A pipeline file's steps as the "Run Pipeline" form needs them: each step's notebook
(relative to the server's root, for the notebook parameters endpoint), the file's values
(the form's defaults) and which of them reference upstream outputs (shown, not edited)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .plan import dependencies
from .references import references_in
from .spec import read_pipeline
from .validation import notebook_relpath


def describe_pipeline_file(path: Path, relpath: str) -> dict[str, Any]:
    """The file at ``path`` (``relpath`` from the root) as a ``PipelineFile``;
    :class:`~.spec.PipelineInvalid` when it is not a valid pipeline file."""
    spec = read_pipeline(path)
    deps = dependencies(spec)
    return {
        "pipeline": relpath,
        "name": spec.name or path.stem,
        "steps": [
            {
                "name": name,
                "notebook": notebook_relpath(relpath, step.notebook),
                "parameters": dict(step.parameters),
                "references": sorted(k for k, v in step.parameters.items() if references_in(v)),
                "needs": list(deps[name]),
            }
            for name, step in spec.steps.items()
        ],
    }
