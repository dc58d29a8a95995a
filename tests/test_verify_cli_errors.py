"""Bad input to ``reproduce --verify`` and ``compare``: exit code 2 and a message that says
what to fix, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_mlops.config import Settings
from jupyter_mlops.store import RunStore

from .conftest import make_run, mlops


def stored_run(data_dir: Path, run_id: str) -> str:
    store = RunStore.from_settings(Settings(data_dir=data_dir))
    try:
        store.create_run(make_run(run_id, status="succeeded"))
    finally:
        store.close()
    return run_id


def test_bad_verify_options_exit_2(env: dict[str, str], data_dir: Path) -> None:
    run_id = stored_run(data_dir, "abc123abc123")
    for args, words in (
        (["--rtol", "-1"], "rtol must be a number >= 0"),
        (["--atol", "-0.5"], "atol must be a number >= 0"),
        (["--normalize", "("], "is not a regex"),
    ):
        result = mlops("reproduce", run_id, "--verify", *args, env=env)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
    listed = mlops("runs", "--json", env=env)
    assert [r["id"] for r in json.loads(listed.stdout)] == [run_id]  # nothing new


def test_a_missing_snapshot_is_refused_naming_the_commit(
    env: dict[str, str], data_dir: Path
) -> None:
    run_id = stored_run(data_dir, "def456def456")  # its commit and git dir do not exist
    result = mlops("reproduce", run_id, "--verify", "--json", env=env)
    assert result.returncode == 2
    answer = json.loads(result.stdout)
    assert answer["verdict"] is None and "commit" in answer["refused"]
    commit = next(c for c in answer["inputs"] if c["kind"] == "commit")
    assert (commit["status"], commit["reason"]) == ("missing", "missing")


def test_compare_needs_two_runs(env: dict[str, str], data_dir: Path) -> None:
    first = stored_run(data_dir, "aaa111aaa111")
    second = stored_run(data_dir, "bbb222bbb222")
    one = mlops("compare", first, env=env)
    assert one.returncode == 2 and "expected two run ids" in one.stderr
    unknown = mlops("compare", first, "fff999", env=env)
    assert unknown.returncode == 2 and "no run with id" in unknown.stderr
    both = mlops("compare", first[:5], second, "--json", env=env)
    assert both.returncode == 0, both.stderr
    answer = json.loads(both.stdout)
    assert (answer["first"], answer["second"], answer["inputs"]) == (first, second, [])
    assert answer["parameters"] == [] and answer["psi_threshold"] == 0.2
    text = mlops("compare", first, second, env=env)
    assert "(neither run recorded inputs)" in text.stdout
