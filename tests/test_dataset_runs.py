"""Datasets recorded by real runs: a ``# mlops: dataset`` parameter (recorded by the
runner before the kernel starts, with the value the run was given), ``use_dataset`` in a
job's kernel and in a plain interactive process, and a missing file named in the
notebook's error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.store import Run

from .conftest import git
from .test_datasets import sha256sum, write_csv
from .test_runs import all_output_text, executed_notebook, wait_for
from .test_tracking import interactive_script

PARAMETERS = textwrap.dedent(
    """\
    train_path = "data/train.csv"  # mlops: dataset
    extra = "data/extra.csv"
    """
)
BODY = textwrap.dedent(
    """\
    import pyarrow.csv
    import jupyter_mlops as mlops
    path = mlops.use_dataset(extra, name="extra")
    print("rows", pyarrow.csv.read_csv(path).num_rows, "in", path)
    """
)


def committed_notebook(
    project: Path, name: str, parameters: str, body: str, tables: dict[str, int]
) -> Path:
    """``notebooks/<name>`` (a parameters cell and a body) and CSV tables of the given
    row counts in ``notebooks/data/``, committed (a job reads its snapshot)."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = project / "notebooks" / name
    nbformat.write(nb, path)
    data = project / "notebooks" / "data"
    data.mkdir()
    for table, rows in tables.items():
        write_csv(data / table, rows)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", f"notebook {name}")
    return path


def dataset_notebook(project: Path) -> Path:
    """A notebook with a dataset parameter and a ``use_dataset`` call, and its data."""
    return committed_notebook(
        project,
        "datasets.ipynb",
        PARAMETERS,
        BODY,
        {"train.csv": 100, "train_v2.csv": 200, "extra.csv": 30},
    )


def test_dataset_parameter_and_use_dataset_in_a_job(service: JobService, project: Path) -> None:
    notebook = dataset_notebook(project)
    data = project / "notebooks" / "data"
    runs = [
        wait_for(service, service.submit(RunSpec(notebook=str(notebook)))),
        wait_for(
            service,
            service.submit(
                RunSpec(notebook=str(notebook), raw_parameters={"train_path": "data/train_v2.csv"})
            ),
        ),
    ]
    for run in runs:
        assert run.status == "succeeded", run.status_reason
    first, second = (service.store.run_inputs(r.id) for r in runs)
    # the parameter is recorded first (by the runner), then what the kernel used
    assert [(i.name, i.source) for i in first] == [
        ("train_path", "parameter"),
        ("extra", "use_dataset"),
    ]
    train, extra = first
    # recorded under the worktree's path, not the run directory's copy
    assert train.uri == str(data / "train.csv")
    assert train.sha256 == sha256sum(data / "train.csv")[0]
    assert train.stats is not None and train.stats["rows"] == 100
    assert extra.uri == str(data / "extra.csv") and extra.stats["rows"] == 30
    assert second[0].uri == str(data / "train_v2.csv")  # the override, not the default
    assert second[0].sha256 == sha256sum(data / "train_v2.csv")[0]
    assert second[1].sha256 == extra.sha256
    # the kernel read its own copy, from the snapshot
    out = all_output_text(executed_notebook(service, runs[0].id))
    assert "rows 30 in" in out and str(runs[0].run_dir) in out
    assert [r.run_id for r in service.store.runs_using(extra.sha256)] == [r.id for r in runs]


def failed_before_the_kernel(
    service: JobService, notebook: Path, raw_parameters: dict[str, str]
) -> Run:
    """The run of ``notebook`` with ``raw_parameters``, which must fail before its kernel
    starts, with no input recorded."""
    submission = service.submit(RunSpec(notebook=str(notebook), raw_parameters=raw_parameters))
    run = wait_for(service, submission)
    assert run.status == "failed" and run.kernel_pid is None, run.status_reason
    assert service.store.run_inputs(run.id) == []
    return run


def test_missing_dataset_parameter_fails_the_run_before_the_kernel(
    service: JobService, project: Path
) -> None:
    notebook = dataset_notebook(project)
    run = failed_before_the_kernel(service, notebook, {"train_path": "data/missing.csv"})
    assert "dataset not found" in (run.status_reason or "")
    assert "data/missing.csv" in (run.status_reason or "")


def test_missing_use_dataset_is_a_clear_error_in_the_notebook(
    service: JobService, project: Path
) -> None:
    notebook = dataset_notebook(project)
    run = wait_for(
        service,
        service.submit(RunSpec(notebook=str(notebook), raw_parameters={"extra": "nope.csv"})),
    )
    assert run.status == "failed"
    assert run.error_ename == "FileNotFoundError"
    assert "dataset not found: no such file or directory" in (run.error_evalue or "")
    assert "nope.csv" in (run.error_evalue or "")
    assert [i.name for i in service.store.run_inputs(run.id)] == ["train_path"]


def test_use_dataset_interactively(settings: Settings, tmp_path: Path) -> None:
    from jupyter_mlops.store import RunStore

    data = write_csv(tmp_path / "local.csv", 12)
    (tmp_path / "shards").mkdir()
    for i in range(2):
        (tmp_path / "shards" / f"s{i}.csv").write_text(f"x\n{i}\n")
    script = textwrap.dedent(
        """
        import jupyter_mlops as mlops
        print(mlops.use_dataset("local.csv"))
        print(mlops.use_dataset("shards/*.csv", name="shards"))
        print(mlops.current_run_id())
        """
    )
    local, shards, run_id = interactive_script(script, settings, tmp_path).split()
    assert local == str(data)
    assert shards == str(tmp_path / "shards" / "*.csv")
    store = RunStore.from_settings(settings)
    try:
        run = store.require_run(run_id)
        assert run.source == "interactive" and run.status == "succeeded"
        inputs = store.run_inputs(run_id)
        assert [(i.name, i.uri, i.file_count) for i in inputs] == [
            (str(data), str(data), 1),
            ("shards", shards, 2),
        ]
        assert inputs[0].sha256 == sha256sum(data)[0]
        assert inputs[0].stats["columns"][0]["mean"] == 5.5
    finally:
        store.close()


def test_secret_and_non_path_dataset_parameters(service: JobService, project: Path) -> None:
    """A secret dataset parameter is not recorded (its path is the secret) but said so;
    a value that is no path fails the run before the kernel, naming the parameter."""
    notebook = committed_notebook(
        project,
        "odd.ipynb",
        'secret_source = "data/t.csv"  # mlops: dataset\nlimit = 3  # mlops: dataset\n',
        "print(limit)",
        {"t.csv": 5},
    )
    run = failed_before_the_kernel(service, notebook, {"secret_source": "data/t.csv"})
    assert "parameter 'limit' is declared '# mlops: dataset'" in (run.status_reason or "")
    warnings = [e.message for e in service.store.events(run.id, kind="warning")]
    assert warnings == ["the dataset parameter 'secret_source' is secret, so it was not recorded"]
