"""End-to-end runs: real git snapshots, real detached runners, real kernels, papermill.

One fixture notebook per failure mode (``tests/notebooks``), as papermill does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from jupyter_mlops.artifacts import open_artifact_store
from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec, Submission
from jupyter_mlops.kernels import KernelNotFound
from jupyter_mlops.notebook.coercion import ParameterError
from jupyter_mlops.notebook.reading import NotebookError
from jupyter_mlops.store import Run, RunStatus, RunStore

from .conftest import NOTEBOOKS, git


def wait_for(service: JobService, submission: Submission, timeout: float = 120) -> Run:
    """Wait for the runner to exit, then read the (terminal) status from the store."""
    assert submission.handle is not None
    submission.handle.wait(timeout=timeout)
    run = service.store.require_run(submission.run.id)
    if not RunStatus(run.status).is_terminal:
        service.reconcile()
        run = service.store.require_run(submission.run.id)
    return run


def wait_until(predicate, timeout: float = 60, interval: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def executed_notebook(service: JobService, run_id: str) -> nbformat.NotebookNode:
    artifact = service.store.get_artifact(run_id, "output.ipynb")
    assert artifact is not None, "executed notebook was not stored"
    store = open_artifact_store(service.settings)
    with store.open(artifact.sha256) as f:
        return nbformat.read(f, as_version=4)


def all_output_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if out.get("output_type") == "stream" else "")
            parts.append(json.dumps(out.get("data", {})))
    return "\n".join(parts)


def test_parameterized_run_succeeds_with_full_record(service: JobService, project: Path) -> None:
    sub = service.submit(
        RunSpec(
            notebook=str(project / "notebooks/params.ipynb"),
            raw_parameters={"lr": "0.5", "epochs": "5", "layers": "[1, 2]"},
            tags=["test"],
            seed=1234,
        )
    )
    assert sub.run.status in ("queued", "starting", "running")
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    params = {p.name: json.loads(p.value_json) for p in run.params}
    assert params == {"lr": 0.5, "epochs": 5, "layers": [1, 2], "name": "baseline", "seed": 1234}
    assert {p.name for p in run.params if not p.overridden} == {"name"}  # its default
    assert {p.name: p.type_name for p in run.params}["epochs"] == "int"
    assert run.cells_done == run.cells_total == 4  # 3 code cells + the injected one
    out = all_output_text(executed_notebook(service, run.id))
    assert "'lr': 0.5" in out and "'epochs': 5" in out and "'seed': 1234" in out
    assert "env seed 1234" in out
    assert "cuda ''" in out  # no GPUs asked for: none visible
    names = {a.name for a in service.store.artifacts(run.id)}
    assert {"output.ipynb", "output.html", "runner.log"} <= names
    cells = service.store.events(run.id, kind="cell")
    assert len(cells) == 4 and all(e.duration_s is not None for e in cells)
    statuses = [e.status for e in service.store.events(run.id, kind="status")]
    assert statuses == ["queued", "starting", "running", "succeeded"]
    env = service.store.environment(run.id)
    assert env is not None and env["git"]["commit"] == run.commit_sha
    assert env["seed"] == 1234
    assert "nbformat" in {k.lower() for k in env["packages"]}
    assert git(project, "cat-file", "-t", run.commit_sha) == "commit"
    assert git(project, "rev-parse", f"refs/mlops/runs/{run.id}") == run.commit_sha


def test_run_executes_the_snapshot_not_the_live_file(service: JobService, project: Path) -> None:
    notebook = project / "notebooks/params.ipynb"
    sub = service.submit(RunSpec(notebook=str(notebook), raw_parameters={"name": "original"}))
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[2].source = "raise RuntimeError('edited after submit')"
    nbformat.write(nb, notebook)
    run = wait_for(service, sub)
    assert run.status == "succeeded", run.status_reason
    assert "'name': 'original'" in all_output_text(executed_notebook(service, run.id))


def test_failing_cell_records_cell_error_and_traceback(service: JobService, project: Path) -> None:
    run = wait_for(
        service, service.submit(RunSpec(notebook=str(project / "notebooks/broken.ipynb")))
    )
    assert run.status == "failed"
    assert run.error_cell_index == 1
    assert run.error_ename == "ValueError"
    assert run.error_evalue == "this cell is broken on purpose"
    assert "ValueError" in (run.error_traceback or "") and "\x1b[" not in run.error_traceback
    assert "In [2] raised ValueError" in (run.status_reason or "")  # as JupyterLab numbers it
    nb = executed_notebook(service, run.id)  # the notebook with the error is kept
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ValueError"]


def test_sys_exit_fails_the_run(service: JobService, project: Path) -> None:
    run = wait_for(
        service, service.submit(RunSpec(notebook=str(project / "notebooks/sysexit.ipynb")))
    )
    assert run.status == "failed"
    assert run.error_ename == "SystemExit"
    assert run.error_cell_index == 1


def test_kernel_death_fails_the_run(service: JobService, project: Path) -> None:
    run = wait_for(
        service, service.submit(RunSpec(notebook=str(project / "notebooks/kernel_dies.ipynb")))
    )
    assert run.status == "failed"
    assert "kernel died" in (run.status_reason or "")
    assert run.error_cell_index == 1
    assert run.error_ename == "DeadKernelError"


def test_timeout_kills_an_infinite_loop(service: JobService, project: Path) -> None:
    run = wait_for(
        service,
        service.submit(RunSpec(notebook=str(project / "notebooks/infinite.ipynb"), timeout=4)),
    )
    assert run.status == "timed_out"
    assert "timeout" in (run.status_reason or "")
    assert run.kernel_pid is not None and not psutil.pid_exists(run.kernel_pid)


def _pids(directory: Path) -> tuple[int, int] | None:
    """(kernel pid, child pid) once the notebook has written both files whole: it writes
    child.pid first, and a file can exist before its text is in it."""
    try:
        return (
            int((directory / "kernel.pid").read_text()),
            int((directory / "child.pid").read_text()),
        )
    except (OSError, ValueError):
        return None


def start_slow_run(
    service: JobService, project: Path, tmp_path: Path
) -> tuple[Submission, int, int]:
    """Submit slow.ipynb and wait until its kernel has started a child process."""
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    sub = service.submit(
        RunSpec(
            notebook=str(project / "notebooks/slow.ipynb"), parameters={"pid_dir": str(pid_dir)}
        )
    )
    wait_until(lambda: _pids(pid_dir) is not None)
    pids = _pids(pid_dir)
    assert pids is not None
    kernel_pid, child_pid = pids
    return sub, kernel_pid, child_pid


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_cancel_mid_run_kills_kernel_and_children(
    service: JobService, project: Path, tmp_path: Path
) -> None:
    sub, kernel_pid, child_pid = start_slow_run(service, project, tmp_path)
    assert not _dead(child_pid)
    service.cancel(sub.run.id)
    run = wait_for(service, sub, timeout=60)
    assert run.status == "cancelled"
    wait_until(lambda: _dead(kernel_pid) and _dead(child_pid), timeout=10)


def test_cancel_queued_run_before_it_starts(
    service: JobService, store: RunStore, project: Path
) -> None:
    from jupyter_mlops.store.types import utcnow

    run = Run(
        id="queuedonly01",
        created_at=utcnow(),
        notebook_path="x.ipynb",
        notebook_abspath="/x.ipynb",
        kernel_name="python3",
        seed=1,
        commit_sha="0" * 40,
        snapshot_ref="refs/mlops/runs/q",
        git_dir=str(project / ".git"),
        worktree=str(project),
        notebook_relpath="x.ipynb",
    )
    store.create_run(run)
    assert service.cancel("queuedonly01").status == "cancelled"
    with pytest.raises(ValueError, match="already ended"):
        service.cancel("queuedonly01")


def test_runner_killed_with_sigkill_ends_as_lost(
    service: JobService, project: Path, tmp_path: Path
) -> None:
    sub, kernel_pid, child_pid = start_slow_run(service, project, tmp_path)
    runner_pid = service.store.require_run(sub.run.id).runner_pid
    assert runner_pid is not None
    os.kill(runner_pid, signal.SIGKILL)
    assert sub.handle is not None
    sub.handle.wait(timeout=10)
    assert service.store.require_run(sub.run.id).status == "running"
    assert service.reconcile() == [sub.run.id]
    run = service.store.require_run(sub.run.id)
    assert run.status == "lost"
    assert f"runner process {runner_pid} died" in (run.status_reason or "")
    wait_until(lambda: _dead(kernel_pid) and _dead(child_pid), timeout=10)
    assert service.reconcile() == []  # lost once, never overwritten


def test_large_and_non_utf8_outputs(service: JobService, project: Path) -> None:
    run = wait_for(
        service, service.submit(RunSpec(notebook=str(project / "notebooks/big_output.ipynb")))
    )
    assert run.status == "succeeded", run.status_reason
    artifact = service.store.get_artifact(run.id, "output.ipynb")
    assert artifact is not None and artifact.size > 5 * 1024 * 1024
    text = all_output_text(executed_notebook(service, run.id))
    assert "done" in text and "bad bytes" in text and "latin-1 text caf\u00e9" in text


@pytest.mark.parametrize(
    ("notebook", "spec_kwargs", "error", "message"),
    [
        ("malformed.ipynb", {}, NotebookError, "JSON"),
        ("no_params.ipynb", {"raw_parameters": {"x": "1"}}, ParameterError, "parameters"),
        ("params.ipynb", {"raw_parameters": {"nope": "1"}}, ParameterError, "epochs: int = 3"),
        ("params.ipynb", {"raw_parameters": {"epochs": "three"}}, ParameterError, "epochs"),
        ("params.ipynb", {"parameters": {"layers": "not a list"}}, ParameterError, "layers"),
        ("params.ipynb", {"kernel": "no-such-kernel"}, KernelNotFound, "python3"),
        ("params.ipynb", {"gpus": 64}, ValueError, "GPU"),
        ("missing.ipynb", {}, NotebookError, "missing.ipynb"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_written(
    service: JobService,
    project: Path,
    notebook: str,
    spec_kwargs: dict,
    error: type[Exception],
    message: str,
) -> None:
    refs_before = git(project, "for-each-ref")
    with pytest.raises(error, match=message):
        service.submit(RunSpec(notebook=str(project / "notebooks" / notebook), **spec_kwargs))
    assert service.store.count_runs() == 0
    assert git(project, "for-each-ref") == refs_before


def test_reproduce_runs_same_commit_params_seed_and_outputs(
    service: JobService, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hello.ipynb").write_bytes(
        (Path(__file__).parent.parent / "examples/hello.ipynb").read_bytes()
    )
    git(repo, "init", "-q")
    first = wait_for(
        service,
        service.submit(RunSpec(notebook=str(repo / "hello.ipynb"), raw_parameters={"n": "4"})),
    )
    assert first.status == "succeeded", first.status_reason
    # the working copy changes after the first run; reproduce must not see it
    (repo / "hello.ipynb").write_text("garbage")
    second = wait_for(service, service.reproduce(first.id))
    assert second.status == "succeeded", second.status_reason
    assert second.reproduced_from == first.id
    assert (second.commit_sha, second.seed, second.kernel_name) == (
        first.commit_sha,
        first.seed,
        first.kernel_name,
    )
    assert {p.name: p.value_json for p in second.params} == {
        p.name: p.value_json for p in first.params
    }
    outputs = [
        [c.outputs for c in executed_notebook(service, r.id).cells if c.cell_type == "code"]
        for r in (first, second)
    ]
    assert outputs[0] == outputs[1]
    assert "hello" in all_output_text(executed_notebook(service, second.id))


def test_notebook_outside_git_uses_private_repo(service: JobService, tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "t.ipynb").write_bytes((NOTEBOOKS / "trivial.ipynb").read_bytes())
    run = wait_for(service, service.submit(RunSpec(notebook=str(loose / "t.ipynb"))))
    assert run.status == "succeeded", run.status_reason
    assert run.private_repo and run.branch is None
    assert Path(run.git_dir).resolve() == service.settings.private_repo_dir.resolve()
    assert not (loose / ".git").exists()


def test_delete_removes_row_ref_and_run_dir(service: JobService, project: Path) -> None:
    run = wait_for(
        service, service.submit(RunSpec(notebook=str(project / "notebooks/trivial.ipynb")))
    )
    run_dir = service.settings.runs_dir / run.id
    assert run_dir.exists()
    service.delete(run.id)
    assert service.store.get_run(run.id) is None
    assert not run_dir.exists()
    refs = git(project, "for-each-ref", "refs/mlops/runs")
    assert run.id not in refs


def test_runner_survives_the_process_that_started_it(
    settings: Settings, project: Path, tmp_path: Path
) -> None:
    """Start a run from a short-lived process (like a CLI or a server that restarts)."""
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    script = (
        "from jupyter_mlops.config import Settings\n"
        "from jupyter_mlops.jobs import JobService, RunSpec\n"
        "from jupyter_mlops.store import RunStore\n"
        "s = Settings.from_env()\n"
        "sub = JobService(s, RunStore.from_settings(s)).submit(RunSpec(\n"
        f"    notebook={str(project / 'notebooks/params.ipynb')!r}))\n"
        "print(sub.run.id)\n"
    )
    out = subprocess.run(
        ["python", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **settings.runner_env()},
    )
    run_id = out.stdout.strip().splitlines()[-1]
    store = RunStore.from_settings(settings)
    wait_until(lambda: RunStatus(store.require_run(run_id).status).is_terminal, timeout=120)
    assert store.require_run(run_id).status == "succeeded"


def test_gpus_set_cuda_visible_devices_for_the_kernel(
    service: JobService, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake two-GPU inventory (CI has no GPU): the kernel sees exactly the granted ones."""
    monkeypatch.setenv("JUPYTER_MLOPS_FAKE_GPUS", "FakeGPU-A,FakeGPU-B")
    run = wait_for(
        service, service.submit(RunSpec(notebook=str(project / "notebooks/params.ipynb"), gpus=2))
    )
    assert run.status == "succeeded", run.status_reason
    assert run.cuda_visible_devices == "0,1"
    assert "cuda '0,1'" in all_output_text(executed_notebook(service, run.id))
    with pytest.raises(ValueError, match="asks for 3 GPU"):
        service.submit(RunSpec(notebook=str(project / "notebooks/params.ipynb"), gpus=3))
