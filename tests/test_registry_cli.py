"""``jupyter mlops models ...`` end to end on SQLite and PostgreSQL: versions registered
from a notebook and from the CLI, a promotion whose policy holds moves the alias, one that
fails leaves it and exits 1 naming the requirement with both values, a forced one is
recorded with who and why, and a plain Python process loads exactly the promoted
weights."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import mlops_line

VALIDATE = "notebooks/registry_validate.ipynb"


@pytest.fixture
def cli_env(env: dict[str, str], db_url: str) -> dict[str, str]:
    return {**env, "JUPYTER_MLOPS_DB_URL": db_url}


def ok(line: str, env: dict[str, str], cwd: Path, code: int = 0) -> subprocess.CompletedProcess:
    result = mlops_line(line, env=env, cwd=cwd, timeout=600)
    assert result.returncode == code, (line, result.stdout, result.stderr)
    return result


def shown(env: dict[str, str], cwd: Path) -> dict:
    return json.loads(ok("models show churn --json", env, cwd).stdout)


@pytest.mark.timeout(1200)  # seven real runs, on a machine shared with other test suites
def test_register_promote_refuse_force_load_export(
    cli_env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    env, cwd = cli_env, project
    first = ok("run notebooks/registry_train.ipynb -p quality 1.0 --wait", env, cwd)
    ok("run notebooks/registry_train.ipynb -p quality 0.5 --wait", env, cwd)
    run_id = first.stdout.split()[0]
    registered = ok(f"models register {run_id} regressor --name churn", env, cwd)
    assert "registered models:/churn/3" in registered.stdout
    versions = shown(env, cwd)["versions"]
    assert [(v["version"], v["metrics"]["train/loss"]) for v in versions] == [
        (1, 1.0),
        (2, 0.5),
        (3, 1.0),
    ]
    assert versions[0]["sha256"] == versions[2]["sha256"]  # the same weights, stored once

    # bad input: exit 2, nothing written
    for line, needle in [
        (
            f"models promote churn 2 --alias production --validate {VALIDATE} "
            '--require "eval/loss <== baseline"',
            "cannot read requirement",
        ),
        ("models promote churn 2 --alias production", "has no promotion policy"),
        (f"models promote churn 2 --validate {VALIDATE} --require 'a < 1'", "--alias"),
        ("models promote churn 9 --alias production --force --reason x", "no version 9"),
        ("models show nope", "no registered model named 'nope'"),
        ("models policy churn --validate train.py --require 'a < 1'", "notebook"),
    ]:
        result = ok(line, env, cwd, code=2)
        assert needle in result.stderr, (line, result.stderr)
    assert (
        json.loads(ok("models history churn --json", env, cwd).stdout)["events"][-1]["action"]
        == "register"
    )

    # the policy holds for version 2 (no holder yet): the alias moves
    ok(
        f'models policy churn --validate {VALIDATE} --require "eval/loss <= baseline" '
        '--require "latency_ms < 50"',
        env,
        cwd,
    )
    moved = ok("models promote churn 2 --alias production --wait --user ana", env, cwd)
    assert "promoted" in moved.stdout and "latency_ms < 50: holds" in moved.stdout
    assert shown(env, cwd)["aliases"] == {"production": 2}

    # version 3 is worse than the holder: refused, exit 1, both values named
    refused = ok("models promote churn 3 --alias production --wait --user ben", env, cwd, code=1)
    assert "eval/loss <= baseline: failed (candidate 1, baseline 0.5)" in refused.stderr
    assert shown(env, cwd)["aliases"] == {"production": 2}

    # a plain Python process (serving code) loads exactly the promoted weights
    load = subprocess.run(
        [
            sys.executable,
            "-c",
            "import jupyter_mlops as m; s = m.load_model('models:/churn@production'); "
            "print(s['weight'].unique().tolist())",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert load.returncode == 0, load.stderr
    assert load.stdout.strip() == "[0.5]"
    target = tmp_path / "release"
    ok(f"models export churn@production {target}", env, cwd)
    weights = (target / "model.pt").read_bytes()
    assert hashlib.sha256(weights).hexdigest() == shown(env, cwd)["versions"][1]["sha256"]
    card = (target / "MODEL_CARD.md").read_text()
    assert "# churn version 2" in card and "eval/loss <= baseline" in card
    assert "torch==" in (target / "requirements.txt").read_text()

    # forced: moves regardless, recorded with who and why
    ok("models promote churn 3 --alias production --force --reason hotfix --user ops", env, cwd)
    events = json.loads(ok("models history churn --json", env, cwd).stdout)["events"]
    assert [(e["action"], e["version"], e["actor"]) for e in events[-6:]] == [
        ("policy_set", None, events[-6]["actor"]),
        ("promotion_started", 2, "ana"),
        ("alias_set", 2, "ana"),
        ("promotion_started", 3, "ben"),
        ("promotion_refused", 3, "ben"),
        ("promotion_forced", 3, "ops"),
    ]
    assert events[-1]["reason"] == "hotfix" and events[-1]["previous_version"] == 2
    listed = ok("models list", env, cwd).stdout
    assert "@production=3" in listed
