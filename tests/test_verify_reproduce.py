"""``jupyter mlops reproduce ID --verify``: real runs, real kernels, the verdict and its
exit code (0 identical/equivalent, 1 differs)."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import mlops


def run_notebook(notebook: str, env: dict[str, str], project: Path, *args: str) -> str:
    result = mlops("run", f"notebooks/{notebook}", *args, "--wait", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def verify(run_id: str, env: dict[str, str], *args: str) -> tuple[int, dict]:
    result = mlops("reproduce", run_id, "--verify", "--json", *args, env=env)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def show(run_id: str, env: dict[str, str]) -> dict:
    result = mlops("show", run_id, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_deterministic_notebook_reproduces_identical(env: dict[str, str], project: Path) -> None:
    original = run_notebook("verify_deterministic.ipynb", env, project, "-p", "scale", "3")
    code, verdict = verify(original, env)
    assert code == 0, verdict
    assert verdict["verdict"] == "identical", verdict["summary"]
    assert verdict["original_id"] == original
    assert verdict["result"]["cells"] == [] and verdict["result"]["metrics"] == []
    assert verdict["result"]["counts"]["metric_points_compared"] == 5
    assert verdict["result"]["counts"]["cells_compared"] >= 3
    reasons = {c["kind"]: c for c in verdict["inputs"]}
    assert reasons["commit"]["reason"] == "same" and reasons["kernel"]["reason"] == "same"
    assert reasons["package"]["status"] == "same"  # the same interpreter: no difference
    detail = show(verdict["run_id"], env)  # the verdict is on the new run
    assert detail["reproduced_from"] == original
    assert detail["verification"]["verdict"] == "identical"


def test_a_printed_clock_differs_naming_its_cell(env: dict[str, str], project: Path) -> None:
    original = run_notebook("verify_time_ns.ipynb", env, project)
    code, verdict = verify(original, env)
    assert code == 1, verdict
    assert verdict["verdict"] == "differs"
    cells = verdict["result"]["cells"]
    assert [c["cell_index"] for c in cells] == [2]  # the time.time_ns() cell only
    assert "time.time_ns()" in cells[0]["source"]
    assert cells[0]["original"] != cells[0]["reproduction"]
    assert cells[0]["diff"].startswith("--- original")
    assert "cell 2" in verdict["summary"]


def test_volatile_text_is_normalized_to_equivalent(env: dict[str, str], project: Path) -> None:
    original = run_notebook("verify_volatile.ipynb", env, project)
    code, verdict = verify(original, env)
    assert code == 0, verdict
    assert verdict["verdict"] == "equivalent", verdict["summary"]
    assert [c["cell_index"] for c in verdict["result"]["cells"]] == [1]
    assert verdict["result"]["cells"][0]["outcome"] == "equivalent"
    # a pattern given on the command line applies too; none at all: the text differs
    code, strict = verify(original, env, "--MLOps.verify_normalize=[]")
    assert code == 1 and strict["verdict"] == "differs"
    assert strict["options"]["normalize"] == []


def test_a_noisy_metric_is_equivalent_within_rtol_only(env: dict[str, str], project: Path) -> None:
    original = run_notebook("verify_noisy_metric.ipynb", env, project)
    code, within = verify(original, env, "--rtol", "1e-4")
    assert code == 0, within
    assert within["verdict"] == "equivalent", within["summary"]
    points = within["result"]["metrics"]
    assert {p["key"] for p in points} == {"accuracy"} and {p["step"] for p in points} <= {0, 1, 2}
    assert all(p["outcome"] == "equivalent" for p in points)
    assert within["options"]["rtol"] == 1e-4

    code, outside = verify(original, env, "--rtol", "1e-9")
    assert code == 1, outside
    assert outside["verdict"] == "differs"
    first = outside["result"]["metrics"][0]
    assert first["key"] == "accuracy" and first["outcome"] == "differs"
    assert first["original"] != first["reproduction"]
    assert "metric accuracy at step" in outside["summary"]


def test_model_weights_are_compared_by_hash(env: dict[str, str], project: Path) -> None:
    fixed = run_notebook("verify_model.ipynb", env, project)
    code, same = verify(fixed, env)
    assert code == 0 and same["verdict"] == "identical", same["summary"]
    assert same["result"]["counts"]["models_compared"] == 1
    detail = show(same["run_id"], env)
    record = detail["environment"]  # every input a rebuild needs is named in it
    assert record["kernel_cuda"]["deterministic_algorithms"] is False
    assert record["kernel_cuda"]["torch_version"] == record["packages"]["torch"]
    assert {"version", "cuda", "cudnn"} <= set(record["torch"])
    assert "driver_version" in record["gpus"] and "devices" in record["gpus"]
    assert record["git"]["commit"] == detail["snapshot"]["commit"]
    assert record["python"]["version"] and record["kernel"]["name"] == "python3"
    assert set(record["container"]) == {"in_container", "evidence", "image"}
    assert record["lock_files"] == [] and record["seed"] == detail["seed"]
    items = {i["item"]: i for i in detail["reproducibility"]}
    assert items["framework"]["detail"].startswith("torch ")
    assert items["deterministic algorithms"]["detail"] == "torch.use_deterministic_algorithms off"

    drawn = run_notebook("verify_model.ipynb", env, project, "-p", "from_run_id", "True")
    code, other = verify(drawn, env)
    assert code == 1 and other["verdict"] == "differs"
    [model] = other["result"]["models"]
    assert model["name"] == "model" and model["original"] != model["reproduction"]
    assert "model weights differ: model" in other["summary"]
    assert other["result"]["cells"] == []  # the same printed text
