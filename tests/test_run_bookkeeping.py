"""Progress bookkeeping that tells the truth (issue 11, item 8): a notebook that stops on
``sys.exit(0)``, a cell cut short by a timeout or a cancel, the failing cell numbered as
JupyterLab numbers it, and the seed rule (the Seed field and a ``seed`` parameter are one)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from jupyter_mlops.jobs import JobService, RunSpec

from .conftest import git
from .test_runs import all_output_text, executed_notebook, start_slow_run, wait_for


def cell_statuses(service: JobService, run_id: str) -> list[tuple[int | None, str | None]]:
    return [(e.cell_index, e.status) for e in service.store.events(run_id, kind="cell")]


def test_sys_exit_0_succeeds_early_and_says_so(service: JobService, project: Path) -> None:
    nb = project / "notebooks/exit_early.ipynb"
    run = wait_for(service, service.submit(RunSpec(notebook=str(nb))))
    assert run.status == "succeeded"
    assert run.status_reason == (
        "stopped early: In [2] called sys.exit(0); 2 later code cells did not run"
    )
    assert (run.cells_done, run.cells_total) == (2, 4)
    assert cell_statuses(service, run.id) == [(1, "ok"), (2, "exited")]


def test_a_timed_out_cell_is_not_counted_as_done(service: JobService, project: Path) -> None:
    nb = project / "notebooks/infinite.ipynb"
    run = wait_for(service, service.submit(RunSpec(notebook=str(nb), timeout=20)))
    assert run.status == "timed_out"
    statuses = dict(cell_statuses(service, run.id))
    assert statuses.get(1) in (None, "timed_out")  # None: the timeout came before it started
    assert run.cells_done == sum(1 for s in statuses.values() if s == "ok") <= 1


def test_a_cancelled_cell_is_recorded_as_cancelled(
    service: JobService, project: Path, tmp_path: Path
) -> None:
    sub, _, _ = start_slow_run(service, project, tmp_path)
    service.cancel(sub.run.id)
    run = wait_for(service, sub)
    assert run.status == "cancelled"
    statuses = dict(cell_statuses(service, run.id))  # parameters, injected, setup, loop
    assert statuses.get(3) in (None, "cancelled")  # the loop never counts as ok
    assert "cancelled" in statuses.values()  # the cell running at the cancel says so
    assert run.cells_done == sum(1 for s in statuses.values() if s == "ok") >= 2


def test_the_failing_cell_is_numbered_as_jupyterlab_numbers_it(
    service: JobService, project: Path
) -> None:
    nb = project / "notebooks/fails_after_markdown.ipynb"
    given = wait_for(
        service, service.submit(RunSpec(notebook=str(nb), raw_parameters={"steps": "3"}))
    )
    assert given.status == "failed"
    # md, parameters (In [1]), injected (In [2]), md, x = steps (In [3]), raise (In [4])
    assert (given.error_cell_index, given.error_execution_count) == (5, 4)
    assert given.status_reason == "In [4] raised RuntimeError: third code cell"
    executed = executed_notebook(service, given.id)  # papermill adds its error banners
    failing = [c for c in executed.cells if "third code cell" in c.source and c.get("outputs")]
    assert [c.execution_count for c in failing] == [4]
    plain = wait_for(service, service.submit(RunSpec(notebook=str(nb))))
    assert (plain.error_cell_index, plain.error_execution_count) == (4, 3)
    assert plain.status_reason.startswith("In [3] raised RuntimeError")


def write_seed_notebook(project: Path, name: str, parameters: str | None) -> Path:
    nb = nbformat.v4.new_notebook()
    cells = []
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(
        nbformat.v4.new_code_cell(
            "import os\n"
            "print('seed param', globals().get('seed'), 'env', os.environ['JUPYTER_MLOPS_SEED'])"
        )
    )
    nb.cells = cells
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = project / name
    nbformat.write(nb, path)
    git(project, "add", name)
    git(project, "commit", "-q", "-m", name)
    return path


def test_the_seed_rule(service: JobService, project: Path) -> None:
    """The seed given, else the seed parameter given, else the seed parameter's default,
    else a random one: one value, seen by the notebook as `seed` and JUPYTER_MLOPS_SEED."""
    zero = write_seed_notebook(project, "zero.ipynb", "seed = 0")
    by_default = wait_for(service, service.submit(RunSpec(notebook=str(zero))))
    assert by_default.status == "succeeded", by_default.status_reason
    assert by_default.seed == 0
    row = next(p for p in by_default.params if p.name == "seed")
    assert (json.loads(row.value_json), row.overridden) == (0, False)
    assert "seed param 0 env 0" in all_output_text(executed_notebook(service, by_default.id))

    field = wait_for(service, service.submit(RunSpec(notebook=str(zero), seed=5)))
    assert field.status == "succeeded", field.status_reason
    row = next(p for p in field.params if p.name == "seed")
    assert (field.seed, json.loads(row.value_json), row.overridden) == (5, 5, True)
    assert "seed param 5 env 5" in all_output_text(executed_notebook(service, field.id))

    field_zero = service.submit(RunSpec(notebook=str(zero), seed=0, parameters={"seed": 0}))
    assert wait_for(service, field_zero).seed == 0

    unset = write_seed_notebook(project, "unset.ipynb", "seed = None")
    drawn = wait_for(service, service.submit(RunSpec(notebook=str(unset))))
    row = next(p for p in drawn.params if p.name == "seed")
    assert (json.loads(row.value_json), row.overridden) == (drawn.seed, True)
    out = all_output_text(executed_notebook(service, drawn.id))
    assert f"seed param {drawn.seed} env {drawn.seed}" in out

    none = write_seed_notebook(project, "none.ipynb", None)
    other = wait_for(service, service.submit(RunSpec(notebook=str(none))))
    assert other.params == [] and f"env {other.seed}" in all_output_text(
        executed_notebook(service, other.id)
    )
