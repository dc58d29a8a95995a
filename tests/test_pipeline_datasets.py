"""Datasets in the step cache, with real files and real pipeline runs: a step whose data
changed runs again (and its dependents), the steps before it stay cached; data that was
only touched (same content, new mtime) is still a hit; ``use_dataset`` inputs count as
much as ``# mlops: dataset`` parameters; data changed back is served from the run that
read that content; ``pipeline show`` says which dataset made a step run."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService
from jupyter_mlops.pipelines.orchestrator import PipelineAdvancer
from jupyter_mlops.pipelines.report import format_pipeline, pipeline_detail
from jupyter_mlops.pipelines.step_datasets import Fingerprints, dataset_values
from jupyter_mlops.pipelines.steps import start_pipeline
from jupyter_mlops.store import RunStore

from .conftest import init_repo, mlops, stop_active_runs

HERE = Path(__file__).parent / "pipelines"

FEATURES = (
    'data: str = ""  # mlops: dataset\nafter: str = ""',
    "rows = open(data).read().split()\n"
    "import jupyter_mlops as mlops\n"
    "mlops.log_metric('features/rows', len(rows))",
)
LOAD = (
    'source: str = ""\nafter: str = ""',
    "import jupyter_mlops as mlops\n"
    "rows = open(mlops.use_dataset(source, name='lookup')).read().split()\n"
    "mlops.log_metric('load/rows', len(rows))",
)


def _notebook(path: Path, parameters: str, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@dataclass
class Project:
    root: Path
    table: Path
    lookup: Path
    jobs: JobService
    advancer: PipelineAdvancer

    def run(self) -> dict:
        run = start_pipeline(self.jobs, self.root / "pipeline.yaml")
        done = self.advancer.advance(run.id, wait=True)
        detail = pipeline_detail(self.advancer.store, done)
        assert detail["status"] == "succeeded", detail
        return detail


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    base = tmp_path_factory.mktemp("pipeline-datasets")
    root, data = base / "project", base / "data-outside-the-repo"
    root.mkdir()
    data.mkdir()
    table, lookup = data / "table.csv", data / "lookup.csv"
    table.write_text("a\n1\n2\n")
    lookup.write_text("k\nx\n")
    shutil.copy(HERE / "sleepy.ipynb", root / "sleepy.ipynb")
    _notebook(root / "features.ipynb", *FEATURES)
    _notebook(root / "load.ipynb", *LOAD)
    (root / "pipeline.yaml").write_text(
        textwrap.dedent(
            f"""\
            steps:
              prepare:
                notebook: sleepy.ipynb
                parameters: {{label: start}}
              features:
                notebook: features.ipynb
                parameters: {{data: "{table}", after: "${{steps.prepare.run_id}}"}}
              load:
                notebook: load.ipynb
                parameters: {{source: "{lookup}", after: "${{steps.features.run_id}}"}}
              report:
                notebook: sleepy.ipynb
                parameters: {{label: "${{steps.load.run_id}}"}}
            """
        )
    )
    init_repo(root)
    settings = Settings(data_dir=base / "mlops-data", heartbeat_interval=0.5, lost_after=30.0)
    store = RunStore.from_settings(settings)
    jobs = JobService(settings, store)
    yield Project(root, table, lookup, jobs, PipelineAdvancer(jobs))
    stop_active_runs(store)
    store.close()


def _steps(detail: dict) -> dict[str, dict]:
    return {s["name"]: s for s in detail["steps"]}


def _touch(path: Path) -> None:
    """A new modification time, the same bytes."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def _edit(path: Path, text: str) -> None:
    path.write_text(text)
    _touch(path)  # a different mtime for sure, however coarse the file system's clock


@pytest.fixture(scope="module")
def history(project: Project) -> dict[str, dict]:
    """The pipeline run after each change to the data, in order."""
    runs = {"first": project.run()}
    _touch(project.table)
    _touch(project.lookup)
    runs["touched"] = project.run()
    _edit(project.table, "a\n1\n2\n3\n")
    runs["table edited"] = project.run()
    _edit(project.lookup, "k\nx\ny\n")
    runs["lookup edited"] = project.run()
    _edit(project.lookup, "k\nx\n")
    runs["lookup back"] = project.run()
    return runs


def _statuses(detail: dict) -> dict[str, str]:
    return {name: s["status"] for name, s in _steps(detail).items()}


def test_touched_data_with_the_same_content_is_served_from_the_cache(
    history: dict[str, dict],
) -> None:
    assert set(_statuses(history["first"]).values()) == {"succeeded"}
    assert set(_statuses(history["touched"]).values()) == {"cached"}
    for name, step in _steps(history["touched"]).items():
        assert step["run_id"] == _steps(history["first"])[name]["run_id"]


def test_a_changed_dataset_parameter_reruns_its_step_and_downstream_only(
    project: Project, history: dict[str, dict]
) -> None:
    edited = _steps(history["table edited"])
    assert _statuses(history["table edited"]) == {
        "prepare": "cached",
        "features": "succeeded",
        "load": "succeeded",
        "report": "succeeded",
    }
    assert edited["prepare"]["run_id"] == _steps(history["first"])["prepare"]["run_id"]
    store = project.jobs.store
    assert store.latest_metrics(edited["features"]["run_id"])["features/rows"] == 4
    reason = edited["features"]["reason"]
    assert reason.startswith("cache miss: dataset 'data'") and str(project.table) in reason
    assert f"{edited['features']['reason']}" in format_pipeline(history["table edited"])


def test_a_changed_use_dataset_input_reruns_its_step_and_downstream_only(
    project: Project, history: dict[str, dict]
) -> None:
    edited = _steps(history["lookup edited"])
    assert _statuses(history["lookup edited"]) == {
        "prepare": "cached",
        "features": "cached",
        "load": "succeeded",
        "report": "succeeded",
    }
    assert edited["features"]["run_id"] == _steps(history["table edited"])["features"]["run_id"]
    assert project.jobs.store.latest_metrics(edited["load"]["run_id"])["load/rows"] == 3
    reason = edited["load"]["reason"]
    assert reason.startswith("cache miss: dataset 'lookup'") and str(project.lookup) in reason
    assert "changed: was " in format_pipeline(history["lookup edited"])


def test_pipeline_show_and_list_say_why_a_step_ran_and_the_progress(
    project: Project, history: dict[str, dict]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env["JUPYTER_MLOPS_DATA_DIR"] = str(project.jobs.settings.data_dir)
    edited = history["lookup edited"]
    shown = mlops("pipeline", "show", edited["id"], env=env, cwd=project.root)
    assert shown.returncode == 0, shown.stderr
    load = next(line for line in shown.stdout.splitlines() if line.strip().startswith("load"))
    assert "succeeded" in load and "cache miss: dataset 'lookup'" in load
    listed = mlops("pipeline", "list", env=env, cwd=project.root)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "4/4 steps (2 cached)" in rows[edited["id"]]
    assert "4/4 steps (4 cached)" in rows[history["touched"]["id"]]


def test_data_changed_back_is_served_from_the_run_that_read_that_content(
    history: dict[str, dict],
) -> None:
    back = _steps(history["lookup back"])
    assert set(_statuses(history["lookup back"]).values()) == {"cached"}
    for name in ("load", "report"):  # the runs of "table edited" read this very content
        assert back[name]["run_id"] == _steps(history["table edited"])[name]["run_id"]


def test_fingerprints_are_content_hashes_and_say_what_is_missing(
    project: Project, tmp_path: Path
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    first = Fingerprints(project.jobs.settings).sha256("d.csv", tmp_path)
    _touch(data)
    assert Fingerprints(project.jobs.settings).sha256(str(data)) == first
    data.write_text("a\n2\n")
    assert Fingerprints(project.jobs.settings).sha256(str(data)) != first
    missing = Fingerprints(project.jobs.settings).sha256(str(tmp_path / "nope.csv"))
    assert missing.startswith("missing:") and "nope.csv" in missing


def test_dataset_values_are_the_declared_parameters_with_text_values() -> None:
    from jupyter_mlops.notebook.inspection import inspect_parameters

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'a: str = "x.csv"  # mlops: dataset\nb: str = ""  # mlops: dataset\nc: str = "y"'
    )
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    declared = inspect_parameters(nb)
    assert dataset_values(declared, {}) == {"a": "x.csv"}
    assert dataset_values(declared, {"b": "z.csv", "c": "w"}) == {"a": "x.csv", "b": "z.csv"}
