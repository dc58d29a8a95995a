"""The question which CUDA device the kernel used rides on the last cell's request; a
notebook that stops at an earlier failing cell is still asked (on its own, afterwards)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlops.jobs import JobService, RunSpec

from .conftest import git
from .test_runs import wait_for

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def commit_notebook(project: Path, name: str, sources: list[str]) -> Path:
    path = project / name
    nb = new_notebook(
        cells=[new_code_cell(s) for s in sources], metadata={"kernelspec": KERNELSPEC}
    )
    nbformat.write(nb, path)
    git(project, "add", name)
    git(project, "commit", "-qm", f"add {name}")
    return path


def test_a_run_that_fails_before_its_last_cell_still_records_torch(
    service: JobService, project: Path
) -> None:
    path = commit_notebook(
        project, "fails_after_torch.ipynb", ["import torch", "raise ValueError('stop')", "x = 1"]
    )
    run = wait_for(service, service.submit(RunSpec(notebook=str(path))))
    assert run.status == "failed" and run.error_ename == "ValueError"
    used = (service.store.environment(run.id) or {})["kernel_cuda"]
    assert used["torch_imported"] is True and used["torch_version"]


def test_the_last_cell_answers_for_a_run_that_succeeds(service: JobService, project: Path) -> None:
    path = commit_notebook(project, "plain.ipynb", ["x = 1", "", "print(x)"])
    run = wait_for(service, service.submit(RunSpec(notebook=str(path))))
    assert run.status == "succeeded", run.status_reason
    assert (service.store.environment(run.id) or {})["kernel_cuda"] == {"torch_imported": False}
    nb = nbformat.read(service.settings.runs_dir / run.id / "output.ipynb", as_version=4)
    assert [c.get("execution_count") for c in nb.cells] == [1, None, 2]  # no extra request
    assert nb.cells[2].outputs[0]["text"] == "1\n"
