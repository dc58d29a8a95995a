"""The CLI imports only what a command needs: ``--help`` no store, ``runs`` and ``show`` no
execution stack, ``run`` no execution stack either (the runner imports papermill, in its own
process). Asserted on the modules a real ``jupyter mlops`` process ended with, never on
time (``bench/cli_startup.py`` measures that). Also: the run summary, written as a plain
dict so these paths skip pydantic, is exactly what its response model dumps."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from jupyter_mlops._imports import UNCHECKED_FORMAT_MODULES
from jupyter_mlops.serialize import run_summary
from jupyter_mlops.server.models import RunSummary
from jupyter_mlops.store import RunStatus, RunStore
from jupyter_mlops.store.types import utcnow

from .conftest import make_run

EXECUTION = {"papermill", "nbconvert", "nbclient", "ipykernel", "torch", "jupyter_server"}
"""What only a runner (or the server) needs."""
MODELS = {"pydantic", "lark"}
"""The REST models and the search parser: only ``show`` and ``runs --filter`` need them."""

WRAPPER = """
import atexit, json, os, sys

def dump():
    with open(os.environ["MODULES_OUT"], "w") as out:
        loaded = {n.split(".")[0] for n, m in sys.modules.items() if m is not None}
        json.dump(sorted(loaded), out)

atexit.register(dump)
exit_now = os._exit  # run --wait leaves with os._exit, past atexit

def exit_after_dump(code):
    dump()
    exit_now(code)

os._exit = exit_after_dump
sys.argv = ["jupyter-mlops", *sys.argv[1:]]
from jupyter_mlops.cli import main
main()
"""


def imported_by(
    args: list[str], env: dict[str, str], tmp_path: Path, cwd: Path | None = None
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages a ``jupyter mlops ARGS`` process had imported when it exited."""
    out = tmp_path / "modules.json"
    out.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        env={**env, "MODULES_OUT": str(out)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return set(json.loads(out.read_text())), result


def test_help_imports_neither_store_nor_models(env: dict[str, str], tmp_path: Path) -> None:
    modules, result = imported_by(["--help"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout
    assert modules.isdisjoint(EXECUTION | MODELS | {"sqlalchemy", "nbformat", "jupyter_client"})


def test_runs_and_show_import_no_execution_stack(
    env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    run_modules, submitted = imported_by(
        ["run", "notebooks/trivial.ipynb", "--wait", "--no-progress"], env, tmp_path, project
    )
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.strip().splitlines()[-1]
    assert run_modules.isdisjoint(EXECUTION | MODELS), run_modules & (EXECUTION | MODELS)
    assert run_modules.isdisjoint((*UNCHECKED_FORMAT_MODULES, "arrow"))
    assert "nbformat" in run_modules  # the notebook is still read and validated

    runs_modules, listed = imported_by(["runs"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert run_id in listed.stdout and "succeeded" in listed.stdout
    assert runs_modules.isdisjoint(EXECUTION | MODELS | {"nbformat", "jupyter_client"})
    assert "sqlalchemy" in runs_modules  # what it lists is in the store

    show_modules, shown = imported_by(["show", run_id, "--json"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "succeeded"
    assert show_modules.isdisjoint(EXECUTION | {"nbformat", "jupyter_client"})


def test_a_filter_still_parses_on_first_use(env: dict[str, str], tmp_path: Path) -> None:
    modules, result = imported_by(["runs", "--filter", "status = "], env, tmp_path)
    assert result.returncode == 2
    assert "--filter 'status = ': expected a value" in result.stderr
    assert "lark" in modules


@pytest.fixture
def summaries(store: RunStore) -> list[dict[str, object]]:
    """Summaries of runs in the shapes a list shows: queued (with its position), finished
    with parameters, tags and a schedule slot, and one that failed on its way to start."""
    queued = store.create_run(make_run("a1"), params={"lr": (0.1, "float", True)})
    done = store.create_run(
        make_run("b2", scheduled_for=utcnow() - timedelta(hours=1)),
        params={"epochs": (3, "int", False), "name": ("x", "str", True)},
        tags=["team=nlp", "nightly"],
    )
    store.transition(done.id, RunStatus.RUNNING, started_at=utcnow())
    store.transition(done.id, RunStatus.SUCCEEDED)
    failed = store.create_run(make_run("c3"))
    store.transition(failed.id, RunStatus.FAILED, reason="the runner could not start")
    page = store.list_runs(limit=10)
    assert {r.id for r in page.runs} == {queued.id, done.id, failed.id}
    return [run_summary(r) for r in page.runs]


def test_the_plain_summary_is_what_its_model_dumps(summaries: list[dict[str, object]]) -> None:
    for summary in summaries:
        assert list(summary) == list(RunSummary.model_fields), "fields in the model's order"
        assert RunSummary.model_validate(summary).to_json() == summary
        json.dumps(summary)  # JSON as it is
    by_id = {s["id"]: s for s in summaries}
    assert by_id["a1"]["queue_position"] == 1 and by_id["a1"]["status"] == "queued"
    assert by_id["b2"]["tags"] == ["nightly", "team=nlp"]
    assert by_id["b2"]["overridden"] == ["name"] and by_id["b2"]["scheduled_for"]
    assert isinstance(by_id["b2"]["finished_at"], str) and by_id["b2"]["duration_s"] >= 0
    assert by_id["c3"]["status_reason"] == "the runner could not start"
