"""``reproduce --verify`` and recorded datasets: a changed or missing dataset is refused
with exit code 2 before anything runs, naming it; ``--allow-changed-inputs`` runs and
records that; ``compare`` shows the change with drift per column."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .conftest import git, mlops
from .test_verify_reproduce import run_notebook, show, verify


def write_table(path: Path, shift: float, rows: int = 2000) -> None:
    """A CSV with a numeric column ``x`` (normal, shifted by ``shift``) and a category."""
    rng = np.random.default_rng(7)
    x = rng.normal(shift, 1.0, rows)
    kinds = rng.choice(["a", "b", "c"], rows)
    lines = ["x,kind", *(f"{v:.6f},{k}" for v, k in zip(x, kinds, strict=True))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def run_count(env: dict[str, str]) -> int:
    result = mlops("runs", "--json", "--limit", "1000", env=env)
    assert result.returncode == 0, result.stderr
    return len(json.loads(result.stdout))


def test_a_changed_dataset_is_refused_before_anything_runs(
    env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    data = tmp_path / "shared-data" / "train.csv"  # outside the project: not in a snapshot
    write_table(data, shift=0.0)
    original = run_notebook("verify_dataset.ipynb", env, project, "-p", "train_path", str(data))
    [recorded] = show(original, env)["inputs"]
    assert recorded["uri"] == str(data)
    assert recorded["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()

    code, same = verify(original, env)
    assert code == 0 and same["verdict"] == "identical", same["summary"]
    [dataset] = [c for c in same["inputs"] if c["kind"] == "dataset"]
    assert dataset["reason"] == "same" and str(data) in dataset["name"]

    write_table(data, shift=1.0)  # the data changed since
    before = run_count(env)
    refused = mlops("reproduce", original, "--verify", "--json", env=env)
    assert refused.returncode == 2, refused.stderr
    assert str(data) in refused.stderr and "changed" in refused.stderr
    answer = json.loads(refused.stdout)
    [changed] = [c for c in answer["inputs"] if c["kind"] == "dataset"]
    assert changed["status"] == "changed" and changed["blocking"]
    assert changed["reason"] == (
        f"changed: {recorded['sha256'][:12]} → {hashlib.sha256(data.read_bytes()).hexdigest()[:12]}"
    )
    assert run_count(env) == before  # nothing was written, nothing ran

    code, allowed = verify(original, env, "--allow-changed-inputs")
    assert code == 1 and allowed["verdict"] == "differs"  # the printed mean moved
    assert allowed["changed_inputs"] is True
    assert [c["cell_index"] for c in allowed["result"]["cells"]] == [1]
    copy = show(allowed["run_id"], env)
    assert any("changed inputs" in w and str(data) in w for w in copy["warnings"])

    compared = mlops("compare", original, allowed["run_id"], "--json", env=env)
    assert compared.returncode == 0, compared.stderr
    [row] = json.loads(compared.stdout)["inputs"]
    assert row["status"] == "changed" and row["flagged"]
    drift = {d["column"]: d for d in row["drift"]}
    assert drift["x"]["flagged"] and drift["x"]["ks"] > 0.3 and drift["x"]["psi"] > 0.2
    assert not drift["kind"]["flagged"]  # the same categories
    text = mlops("compare", original, allowed["run_id"], env=env)
    assert "changed !" in text.stdout and "PSI" in text.stdout

    data.unlink()
    missing = mlops("reproduce", original, "--verify", env=env)
    assert missing.returncode == 2
    assert f"dataset train_path ({data}): missing" in missing.stderr


def test_data_in_the_snapshot_is_pinned_by_its_commit(env: dict[str, str], project: Path) -> None:
    data = project / "notebooks" / "data" / "train.csv"
    write_table(data, shift=0.0)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "data")
    original = run_notebook(
        "verify_dataset.ipynb", env, project, "-p", "train_path", "data/train.csv"
    )
    [recorded] = show(original, env)["inputs"]
    assert recorded["uri"] == str(data)  # the worktree's path of the snapshot's copy

    write_table(data, shift=1.0)  # edited in the worktree; the snapshot keeps the old one
    code, verdict = verify(original, env)
    assert code == 0 and verdict["verdict"] == "identical", verdict["summary"]
    [dataset] = [c for c in verdict["inputs"] if c["kind"] == "dataset"]
    assert dataset["reason"] == "same" and dataset["name"].endswith("(in the snapshot)")
