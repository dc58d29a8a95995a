"""``jupyter mlops ...`` as a user or cron would call it: real processes, real exit codes."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest

from jupyter_mlops.store.engine import SCHEMA_HEAD

from .conftest import fresh_pg_database, git, mlops, mlops_line


def show(run_id: str, env: dict[str, str]) -> dict:
    result = mlops("show", run_id, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def show_once_rendered(run_id: str, env: dict[str, str], timeout: float = 60) -> dict:
    """``show`` once the run's HTML is listed: ``--wait`` returns at the terminal status and
    the runner renders the HTML after it."""
    deadline = time.monotonic() + timeout
    while True:
        detail = show(run_id, env)
        if "output.html" in {a["name"] for a in detail["artifacts"]}:
            return detail
        assert time.monotonic() < deadline, detail["artifacts"]
        time.sleep(0.2)


def test_run_wait_show_and_reproduce(env: dict[str, str], project: Path) -> None:
    result = mlops_line(
        "run notebooks/params.ipynb -p epochs 7 -p layers '[8, 4]' --tag cli --tag smoke "
        "--seed 99 --wait",
        env=env,
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    assert f"run {run_id} succeeded" in result.stderr
    detail = show_once_rendered(run_id[:6], env)  # a unique prefix is enough
    assert detail["status"] == "succeeded"
    assert detail["parameters"]["epochs"] == 7 and detail["parameters"]["layers"] == [8, 4]
    assert detail["seed"] == 99 and detail["parameters"]["seed"] == 99
    assert detail["tags"] == ["cli", "smoke"]
    assert detail["snapshot"]["commit"] == git(project, "rev-parse", f"refs/mlops/runs/{run_id}")
    assert detail["snapshot"]["branch"] == "main"
    assert detail["environment"]["python"]["version"]
    assert len(detail["cells"]) == detail["cells_total"]
    assert {a["name"] for a in detail["artifacts"]} >= {"output.ipynb", "output.html"}

    text = mlops("show", run_id, env=env)
    assert text.returncode == 0
    for expected in ("commit", "epochs = 7", "cell timings", "output.html", "python"):
        assert expected in text.stdout

    again = mlops("reproduce", run_id, "--wait", env=env)
    assert again.returncode == 0, again.stderr
    new_id = again.stdout.strip().splitlines()[-1]
    copy = show(new_id, env)
    assert copy["reproduced_from"] == run_id
    assert copy["commit"] == detail["commit"] and copy["parameters"] == detail["parameters"]


def test_exit_codes_follow_the_run_status(env: dict[str, str], project: Path) -> None:
    failed = mlops("run", "notebooks/broken.ipynb", "--wait", env=env, cwd=project)
    assert failed.returncode == 1
    assert "ValueError" in failed.stderr and "broken on purpose" in failed.stderr
    timed_out = mlops(
        "run", "notebooks/infinite.ipynb", "--timeout", "3", "--wait", env=env, cwd=project
    )
    assert timed_out.returncode == 4, timed_out.stderr


def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(
    env: dict[str, str], project: Path
) -> None:
    unknown = mlops("run", "notebooks/params.ipynb", "-p", "nope", "1", env=env, cwd=project)
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr and "epochs: int = 3" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    wrong = mlops("run", "notebooks/params.ipynb", "-p", "epochs", "x", env=env, cwd=project)
    assert wrong.returncode == 2 and "epochs" in wrong.stderr
    kernel = mlops("run", "notebooks/params.ipynb", "--kernel", "nokernel", env=env, cwd=project)
    assert kernel.returncode == 2 and "nokernel" in kernel.stderr
    malformed = mlops("run", "notebooks/malformed.ipynb", env=env, cwd=project)
    assert malformed.returncode == 2 and "Traceback" not in malformed.stderr
    dangling = mlops("run", "notebooks/params.ipynb", "-p", "epochs", env=env, cwd=project)
    assert dangling.returncode == 2 and "NAME VALUE" in dangling.stderr
    missing = mlops("show", "f00f00", env=env)
    assert missing.returncode == 2 and "f00f00" in missing.stderr
    listing = mlops("runs", "--json", env=env)
    assert json.loads(listing.stdout) == []


def test_parameters_file_and_runs_filters(
    env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("epochs: 11\nlayers: [3, 2, 1]\nname: from-yaml\n")
    ok = mlops_line(
        f"run notebooks/params.ipynb -f {shlex.quote(str(params))} --tag yaml --wait --no-progress",
        env=env,
        cwd=project,
    )
    assert ok.returncode == 0, ok.stderr
    run_id = ok.stdout.strip().splitlines()[-1]
    assert show(run_id, env)["parameters"]["layers"] == [3, 2, 1]
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: eleven\n")
    refused = mlops("run", "notebooks/params.ipynb", "-f", str(bad), env=env, cwd=project)
    assert refused.returncode == 2 and "epochs" in refused.stderr

    mlops("run", "notebooks/broken.ipynb", "--wait", env=env, cwd=project)
    by_status = json.loads(mlops("runs", "--status", "failed", "--json", env=env).stdout)
    assert [r["notebook"].endswith("broken.ipynb") for r in by_status] == [True]
    by_tag = json.loads(mlops("runs", "--tag", "yaml", "--json", env=env).stdout)
    assert [r["id"] for r in by_tag] == [run_id]
    by_nb = json.loads(
        mlops("runs", "--notebook", "notebooks/params.ipynb", "--json", env=env, cwd=project).stdout
    )
    assert [r["id"] for r in by_nb] == [run_id]
    table = mlops("runs", env=env)
    assert run_id in table.stdout and "STATUS" in table.stdout


def test_cancel_from_another_process(env: dict[str, str], project: Path, tmp_path: Path) -> None:
    started = mlops(
        "run", "notebooks/slow.ipynb", "-p", "pid_dir", str(tmp_path), env=env, cwd=project
    )
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    # the CLI has exited; the detached runner goes on until cancelled
    cancelled = mlops("cancel", run_id, "--wait", env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert show(run_id, env)["status"] == "cancelled"
    again = mlops("cancel", run_id, env=env)
    assert again.returncode == 2 and "already ended" in again.stderr


def test_commit_option_commits_the_notebook_to_the_branch(
    env: dict[str, str], project: Path
) -> None:
    nb = project / "notebooks/trivial.ipynb"
    nb.write_text(nb.read_text().replace("x = 1", "x = 2"))
    before = git(project, "rev-parse", "HEAD")
    result = mlops(
        "run", str(nb), "--commit", "-m", "try x = 2", "--wait", "--no-progress", env=env
    )
    assert result.returncode == 0, result.stderr
    assert git(project, "rev-parse", "HEAD~1") == before
    assert git(project, "log", "-1", "--format=%s") == "try x = 2"
    assert git(project, "status", "--porcelain", "notebooks/trivial.ipynb") == ""
    run_id = result.stdout.strip().splitlines()[-1]
    assert show(run_id, env)["snapshot"]["base_commit"] == git(project, "rev-parse", "HEAD")


def test_db_upgrade_and_current(env: dict[str, str]) -> None:
    upgrade = mlops("db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"-> {SCHEMA_HEAD}" in upgrade.stdout
    current = mlops("db", "current", env=env)
    assert current.stdout.strip() == SCHEMA_HEAD


@pytest.mark.postgres
def test_a_job_on_postgresql(env: dict[str, str], project: Path, postgres_server: str) -> None:
    env = {**env, "JUPYTER_MLOPS_DB_URL": fresh_pg_database(postgres_server)}
    result = mlops("run", "notebooks/params.ipynb", "--wait", "--no-progress", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    detail = show(run_id, env)
    assert detail["status"] == "succeeded" and detail["environment"]["packages"]
    assert len(detail["cells"]) == detail["cells_total"]


def test_kernels_lists_which_kernels_can_use_cuda(env: dict[str, str], tmp_path: Path) -> None:
    """The dialog's kernel list on the command line, with a non-Python kernel beside."""
    import torch

    spec_dir = tmp_path / "jupyter" / "kernels" / "fake-r"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["R", "--slave", "-f", "{connection_file}"],
                "display_name": "R",
                "language": "R",
            }
        )
    )
    env = {**env, "JUPYTER_PATH": str(tmp_path / "jupyter"), "JUPYTER_MLOPS_FAKE_GPUS": "T4"}

    listed = mlops("kernels", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    kernels = {k["name"]: k for k in data["kernels"]}
    assert kernels["fake-r"]["cuda"] is None  # not Python: nothing to ask torch
    python = kernels["python3"]["cuda"]
    assert python["torch"] == str(torch.__version__)
    assert python["cuda"] is torch.cuda.is_available()
    assert [g["name"] for g in data["gpus"]] == ["T4"]

    table = mlops("kernels", env=env)
    assert table.returncode == 0, table.stderr
    python_line = next(line for line in table.stdout.splitlines() if line.startswith("python3"))
    expected = "yes:" if torch.cuda.is_available() else f"no (torch {torch.__version__})"
    assert expected in python_line
    r_line = next(line for line in table.stdout.splitlines() if line.startswith("fake-r"))
    assert r_line.rstrip().endswith("-")
    assert "GPUs on this machine: 0: T4" in table.stdout
