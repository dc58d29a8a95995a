"""The ``pipeline.yaml`` format: named steps, each a notebook with parameters.

The pydantic models below are the one definition of the format; its JSON Schema
(``pipeline.schema.json`` beside this module) is generated from them by
``python -m jupyter_mlops.pipelines.schema`` and checked in CI, so editors can validate
a pipeline file while it is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

STEP_NAME = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
"""A step name: an identifier (``-`` allowed), so references stay unambiguous."""
STEP_NAME_RE = re.compile(STEP_NAME)


class StepSpec(BaseModel):
    """One step: a notebook run as an ordinary run of jupyter-mlops."""

    model_config = ConfigDict(extra="forbid")

    notebook: str = Field(
        description="The notebook, relative to the pipeline file's directory.", min_length=1
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Values for the notebook's parameters cell. A value may reference an upstream "
            "output: ${steps.NAME.artifacts.ARTIFACT} (local path), "
            "${steps.NAME.models.MODEL} (a model URI load_model accepts), "
            "${steps.NAME.metrics.KEY} (latest value) or ${steps.NAME.run_id}."
        ),
    )
    needs: list[str] = Field(
        default_factory=list,
        description="Steps that must succeed first (references add their steps too).",
    )
    gpus: int = Field(0, ge=0, description="GPUs the step's run asks for.")
    timeout: float | None = Field(None, gt=0, description="Seconds before the run times out.")
    retries: int = Field(0, ge=0, le=20, description="Automatic retries of a failed run.")
    cache: bool = Field(True, description="false: always run, never serve from the cache.")
    kernel: str | None = Field(None, description="Kernel name (default: the notebook's).")


class PipelineSpec(BaseModel):
    """A pipeline file: its steps by name (in file order)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="A name to show (default: the file's).")
    steps: dict[str, StepSpec] = Field(description="The steps, by name.", min_length=1)


class PipelineInvalid(ValueError):
    """A pipeline file with problems; ``problems`` lists every one (the CLI exits 2)."""

    def __init__(self, problems: list[str], where: str = "pipeline file") -> None:
        self.problems = list(problems)
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{where} is invalid ({len(self.problems)} problems):\n{body}")


def _pydantic_problems(err: ValidationError) -> list[str]:
    out = []
    for item in err.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(file)"
        out.append(f"{where}: {item['msg']}")
    return out


def parse_pipeline(text: str | bytes, where: str = "pipeline file") -> PipelineSpec:
    """The pipeline in ``text`` (YAML); :class:`PipelineInvalid` listing every problem of
    its shape (YAML syntax, unknown keys, types, step names)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PipelineInvalid([f"not valid YAML: {err}"], where) from None
    if not isinstance(data, dict):
        raise PipelineInvalid(["expected a mapping with a 'steps' key"], where)
    problems: list[str] = []
    try:
        spec = PipelineSpec.model_validate(data)
    except ValidationError as err:
        raise PipelineInvalid(_pydantic_problems(err), where) from None
    for name in spec.steps:
        if not STEP_NAME_RE.match(str(name)):
            problems.append(
                f"steps.{name}: a step name is letters, digits, '_' and '-' "
                "(starting with a letter or '_')"
            )
    if problems:
        raise PipelineInvalid(problems, where)
    return spec


def read_pipeline(path: Path) -> PipelineSpec:
    try:
        text = path.read_bytes()
    except OSError as err:
        raise PipelineInvalid([f"cannot read {path}: {err.strerror or err}"], str(path)) from None
    return parse_pipeline(text, str(path))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the format (what ``pipeline.schema.json`` holds)."""
    schema = PipelineSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://jupyter-mlops.dev/pipeline.schema.json"
    schema["properties"]["steps"]["propertyNames"] = {"pattern": STEP_NAME}
    return schema
