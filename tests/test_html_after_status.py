"""The HTML rendering is off the run's critical path: the runner stores it after the
terminal status, and the HTML view renders it on first view when it is not there yet
(a run whose runner died after its status), then serves that stored copy."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.artifacts import artifact_row, open_artifact_store
from jupyter_mlops.html_artifact import ensure_html
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.store import RunStatus, RunStore

from .conftest import NOTEBOOKS, extension_server_config, make_run
from .test_rest import api, mlops_data  # noqa: F401 (fixtures)
from .test_runs import wait_for


def stored_notebook_only(store: RunStore, settings: Any, run_id: str, tmp_path: Path) -> None:
    """A succeeded run with an executed notebook and no HTML, as a runner leaves it when it
    is killed between its terminal status and the rendering."""
    store.create_run(make_run(run_id))
    store.transition(run_id, RunStatus.SUCCEEDED, reason=None)
    notebook = tmp_path / "output.ipynb"
    shutil.copy(NOTEBOOKS / "trivial.ipynb", notebook)
    sha, size = open_artifact_store(settings).put_file(notebook)
    store.add_artifact(artifact_row(run_id, "output.ipynb", "notebook", sha, size))


def test_the_runner_stores_the_html_after_the_terminal_status(
    service: JobService, project: Path
) -> None:
    sub = service.submit(RunSpec(notebook=str(project / "notebooks" / "trivial.ipynb")))
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    artifacts = {a.name: a for a in service.store.artifacts(run.id)}
    assert run.finished_at is not None
    assert artifacts["output.ipynb"].created_at <= run.finished_at
    assert artifacts["output.html"].created_at >= run.finished_at
    with open_artifact_store(service.settings).open(artifacts["output.html"].sha256) as f:
        assert b"<html" in f.read(4000).lower()


def test_ensure_html_renders_once_and_then_serves_the_stored_copy(
    store: RunStore, settings: Any, tmp_path: Path
) -> None:
    stored_notebook_only(store, settings, "a0a0a0a00001", tmp_path)
    assert store.get_artifact("a0a0a0a00001", "output.html") is None
    first = ensure_html(store, open_artifact_store(settings), "a0a0a0a00001")
    assert first is not None and first.kind == "html"
    again = ensure_html(store, open_artifact_store(settings), "a0a0a0a00001")
    assert again is not None and (again.id, again.sha256) == (first.id, first.sha256)


def test_ensure_html_of_a_run_without_executed_notebook_is_none(
    store: RunStore, settings: Any
) -> None:
    store.create_run(make_run("a0a0a0a00002"))
    assert ensure_html(store, open_artifact_store(settings), "a0a0a0a00002") is None


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path) -> dict[str, Any]:  # noqa: F811
    shutil.copytree(NOTEBOOKS, jp_root_dir / "notebooks")
    return extension_server_config(jp_root_dir)


async def test_the_first_view_renders_the_missing_html(
    api: Any,  # noqa: F811
    mlops: Any,
    tmp_path: Path,
) -> None:
    stored_notebook_only(mlops.store, mlops.settings, "a0a0a0a00003", tmp_path)
    resp = await api("GET", "/runs/a0a0a0a00003/html", spec_path="/runs/{run_id}/html")
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<html" in resp.body[:4000].lower()
    stored = mlops.store.get_artifact("a0a0a0a00003", "output.html")
    assert stored is not None and resp.headers["Etag"] == f'"{stored.sha256}"'
    second = await api("GET", "/runs/a0a0a0a00003/html", spec_path="/runs/{run_id}/html")
    assert second.body == resp.body


async def test_a_run_with_no_executed_notebook_has_no_html(
    api: Any,  # noqa: F811
    mlops: Any,
) -> None:
    mlops.store.create_run(make_run("a0a0a0a00004"))
    resp = await api("GET", "/runs/a0a0a0a00004/html", expect=404)
    assert "no HTML rendering" in resp.data["message"]


def test_a_run_ending_while_runs_wait_leaves_its_html_to_its_first_view(
    service: JobService, store: RunStore, project: Path, tmp_path: Path
) -> None:
    """Optional output yields the CPU to the queue: with a run waiting for a slot, the
    runner that just recorded its status does not render; the first view does."""
    import dataclasses

    single = JobService(dataclasses.replace(service.settings, max_concurrent_runs=1), store)
    gated = str(project / "notebooks" / "gated.ipynb")
    gates = [tmp_path / "gate-a", tmp_path / "gate-b"]
    first = single.submit(RunSpec(notebook=gated, parameters={"gate": str(gates[0])}))
    second = single.submit(RunSpec(notebook=gated, parameters={"gate": str(gates[1])}))
    third = single.submit(RunSpec(notebook=str(project / "notebooks" / "trivial.ipynb")))
    gates[0].touch()  # the first ends; the second takes its slot; the third still waits
    done = wait_for(single, first)
    assert done.status == "succeeded", done.status_reason
    assert store.require_run(third.run.id).status == "queued"
    assert store.get_artifact(done.id, "output.html") is None
    viewed = ensure_html(store, open_artifact_store(service.settings), done.id)
    assert viewed is not None and viewed.kind == "html"
    gates[1].touch()
    ends = [wait_for(single, s) for s in (second, third)]
    assert [r.status for r in ends] == ["succeeded", "succeeded"]
    assert store.get_artifact(third.run.id, "output.html") is not None  # nothing waited
