"""Pipeline files are checked whole before anything runs: every problem listed, exit 2,
nothing recorded. Also the format's JSON Schema, references and the DAG."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from jupyter_mlops.pipelines import schema
from jupyter_mlops.pipelines.plan import dependencies, find_cycles, topological_order
from jupyter_mlops.pipelines.references import references_in, substitute, whole_reference
from jupyter_mlops.pipelines.spec import PipelineInvalid, parse_pipeline
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.pipelines import PipelineStore

from .conftest import git, init_repo, mlops

HERE = Path(__file__).parent / "pipelines"

BAD = """
steps:
  prepare:
    notebook: prepare.ipynb
    parameters:
      n: "five"
      rows: 3
  train:
    notebook: missing.ipynb
  evaluate:
    notebook: evaluate.ipynb
    needs: [report]
    parameters:
      mse: ${steps.nowhere.metrics.loss}
      trained_by: ${steps.prepare.weights.x}
  loop_a:
    notebook: train.ipynb
    parameters:
      points: ${steps.loop_b.artifacts.points}
      lr: ${steps.prepare.run_id}
  loop_b:
    notebook: train.ipynb
    needs: [loop_a]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(HERE, root)
    (root / "bad.yaml").write_text(BAD)
    init_repo(root)
    return root


def test_an_invalid_file_exits_2_listing_every_problem(
    repo: Path, env: dict[str, str], data_dir: Path
) -> None:
    result = mlops("pipeline", "run", "bad.yaml", "-p", "nostep.x", "1", env=env, cwd=repo)
    assert result.returncode == 2, result.stderr
    err = result.stderr
    expected = [
        "steps.prepare.parameters: n: expected int, got str 'five'",
        "unknown parameter 'rows'",
        "steps.train: notebook missing.ipynb not found",
        "steps.evaluate.needs: unknown step 'report'",
        "names an unknown step 'nowhere'",
        "unknown output kind 'weights'",
        "gives a str, but parameter 'lr' is declared float",
        "cycle: loop_a -> loop_b -> loop_a",
        "-p nostep.x: unknown step 'nostep'",
    ]
    for problem in expected:
        assert problem in err, (problem, err)
    assert "(9 problems)" in err
    store = RunStore(f"sqlite:///{data_dir / 'mlops.db'}")
    try:
        assert PipelineStore(store).list() == [] and store.count_runs() == 0
    finally:
        store.close()
    assert "pl-" not in git(repo, "for-each-ref", "refs/mlops/")  # no snapshot left behind


def test_shape_problems_are_listed_together() -> None:
    text = "steps:\n  a:\n    notebok: x.ipynb\n    retries: -1\n  'b c':\n    notebook: y.ipynb\n"
    with pytest.raises(PipelineInvalid) as caught:
        parse_pipeline(text)
    problems = "\n".join(caught.value.problems)
    assert "steps.a.notebook: Field required" in problems
    assert "steps.a.notebok: Extra inputs are not permitted" in problems
    assert "steps.a.retries" in problems
    with pytest.raises(PipelineInvalid, match="step name"):
        parse_pipeline("steps:\n  'b c':\n    notebook: y.ipynb\n")
    with pytest.raises(PipelineInvalid, match="not valid YAML"):
        parse_pipeline("steps: [")


def test_references_keep_types_and_imply_dependencies() -> None:
    spec = parse_pipeline((HERE / "pipeline.yaml").read_text())
    assert dependencies(spec) == {"prepare": [], "train": ["prepare"], "evaluate": ["train"]}
    assert topological_order(dependencies(spec)) == ["prepare", "train", "evaluate"]
    ref = whole_reference("${steps.train.metrics.train/mse}")
    assert ref is not None and (ref.step, ref.kind, ref.output) == ("train", "metrics", "train/mse")
    values = {
        "m": "${steps.t.metrics.loss}",
        "s": "run ${steps.t.run_id}!",
        "l": ["${steps.t.run_id}"],
    }
    assert [r.kind for r in references_in(values)] == ["metrics", "run_id", "run_id"]
    out = substitute(values, lambda r: 0.5 if r.kind == "metrics" else "R1")
    assert out == {"m": 0.5, "s": "run R1!", "l": ["R1"]}
    assert find_cycles({"a": ["b"], "b": ["a"], "c": []}) == [["a", "b", "a"]]


def test_the_committed_schema_is_generated_and_accepts_the_example() -> None:
    assert schema.main(["--check"]) == 0
    document = json.loads(schema.SCHEMA_FILE.read_text())
    jsonschema.validate(yaml.safe_load((HERE / "pipeline.yaml").read_text()), document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"steps": {"a": {"notebook": "x.ipynb", "gpus": -1}}}, document)
