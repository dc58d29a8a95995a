"""Effective parameters: a run records every parameter it ran with, defaults included, and
which were given; only the given ones are injected, so a reproduction runs the snapshot's
own defaults even after the notebook on disk changed them."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.notebook.defaults import EXPRESSION_TYPE
from jupyter_mlops.serialize import run_summary
from jupyter_mlops.store.artifacts import injected_params

from .conftest import git, mlops
from .test_runs import all_output_text, executed_notebook, wait_for


def recorded(run) -> dict[str, tuple[object, bool]]:  # type: ignore[no-untyped-def]
    return {p.name: (json.loads(p.value_json), p.overridden) for p in run.params}


def test_defaults_are_recorded_beside_overrides(service: JobService, project: Path) -> None:
    sub = service.submit(
        RunSpec(notebook=str(project / "notebooks/params.ipynb"), raw_parameters={"lr": "0.5"})
    )
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    assert recorded(run) == {
        "lr": (0.5, True),
        "epochs": (3, False),
        "layers": ([64, 32], False),
        "name": ("baseline", False),
        "seed": (0, False),  # the notebook's seed = 0 is the run's seed (see test_seed_rule)
    }
    assert [p.name for p in injected_params(run)] == ["lr"]
    summary = run_summary(run)
    assert set(summary["parameters"]) == {"lr", "epochs", "layers", "name", "seed"}
    assert summary["overridden"] == ["lr"]
    out = all_output_text(executed_notebook(service, run.id))
    assert "'lr': 0.5" in out and "'epochs': 3" in out and "'name': 'baseline'" in out
    injected = [
        c
        for c in executed_notebook(service, run.id).cells
        if "injected-parameters" in c.metadata.get("tags", [])
    ]
    assert len(injected) == 1 and injected[0].source.strip().endswith("lr = 0.5")


def test_an_expression_default_is_recorded_as_its_source(
    service: JobService, project: Path
) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('base = "/data"\nout = base + "/out"\nsteps = (1, 2)')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(out, steps)")]
    path = project / "expr.ipynb"
    nbformat.write(nb, path)
    git(project, "add", "expr.ipynb")
    git(project, "commit", "-q", "-m", "expr")
    run = wait_for(service, service.submit(RunSpec(notebook=str(path))))
    assert run.status == "succeeded", run.status_reason
    assert recorded(run) == {
        "base": ("/data", False),
        "out": ('base + "/out"', False),
        "steps": ([1, 2], False),
    }
    assert {p.name: p.type_name for p in run.params}["out"] == EXPRESSION_TYPE
    assert "/data/out (1, 2)" in all_output_text(executed_notebook(service, run.id))


def test_reproduce_keeps_the_original_defaults_after_the_notebook_changed(
    service: JobService, project: Path
) -> None:
    path = project / "notebooks/params.ipynb"
    first = wait_for(
        service, service.submit(RunSpec(notebook=str(path), raw_parameters={"lr": "0.5"}))
    )
    assert first.status == "succeeded", first.status_reason
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("epochs = 3", "epochs = 99")
    nbformat.write(nb, path)
    git(project, "commit", "-q", "-am", "more epochs")

    again = wait_for(service, service.reproduce(first.id))
    assert again.status == "succeeded", again.status_reason
    assert recorded(again) == recorded(first)
    assert recorded(again)["epochs"] == (3, False)
    out = all_output_text(executed_notebook(service, again.id))
    assert "'epochs': 3" in out and "'lr': 0.5" in out and "99" not in out
    # a new run of today's notebook records today's default
    today = wait_for(service, service.submit(RunSpec(notebook=str(path))))
    assert recorded(today)["epochs"] == (99, False)


def test_show_json_and_text_mark_the_given_parameters(project: Path, env: dict[str, str]) -> None:
    nb = str(project / "notebooks/params.ipynb")
    done = mlops("run", nb, "-p", "epochs", "7", "--wait", env=env)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    shown = mlops("show", run_id, "--json", env=env)
    detail = json.loads(shown.stdout)
    assert detail["parameters"] == {
        "lr": 0.01,
        "epochs": 7,
        "layers": [64, 32],
        "name": "baseline",
        "seed": 0,
    }
    assert detail["overridden"] == ["epochs"]
    assert detail["parameter_types"]["name"] == "str"
    text = mlops("show", run_id, env=env).stdout
    assert "* epochs = 7" in text and '  name = "baseline"' in text


@pytest.mark.parametrize("secret_given", [True, False])
def test_a_secret_left_at_its_default_is_masked_and_not_injected(
    service: JobService, project: Path, secret_given: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = project / "notebooks/secret_param.ipynb"
    monkeypatch.delenv("JUPYTER_MLOPS_SECRET_API_KEY", raising=False)
    given = {"api_key": "s3cr3t"} if secret_given else {}
    run = wait_for(service, service.submit(RunSpec(notebook=str(nb), parameters=given)))
    assert run.status == "succeeded", run.status_reason
    row = next(p for p in run.params if p.name == "api_key")
    assert (row.type_name, json.loads(row.value_json)) == ("secret", "***")
    assert row.overridden is secret_given
    assert "s3cr3t" not in json.dumps(recorded(run))
    out = all_output_text(executed_notebook(service, run.id))
    assert f"api_key length {6 if secret_given else 0}" in out
