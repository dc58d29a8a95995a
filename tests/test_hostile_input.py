"""Hostile input is refused with a 4xx and a message, on SQLite and on PostgreSQL, and leaves
nothing behind: no run, no schedule, no snapshot ref (issue 10, item 5).

Each case is a real request to a real server (its store on SQLite or on a real PostgreSQL
server), checked against ``openapi.yaml`` by ``test_rest``'s client; the same rules then
hold for the CLI (``jupyter mlops run`` and ``schedule add``), which reaches the store
through the same :class:`~jupyter_mlops.jobs.JobService` and schedule service.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from . import test_rest as rest
from .conftest import NOTEBOOKS, fresh_pg_database, init_repo, mlops, mlops_line

mlops_data = rest.mlops_data
api = rest.api

NB = "notebooks/params.ipynb"  # lr: float, epochs, layers, name: str, seed
DEEP = 100_000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def extra_config() -> dict[str, Any]:
    """More ``c.MLOps`` settings for the server (a test parametrizes it to change limits)."""
    return {}


@pytest.fixture
def jp_server_config(
    jp_root_dir: Path,
    mlops_data: Path,
    store_kind: str,
    extra_config: dict[str, Any],
    request: pytest.FixtureRequest,
) -> dict[str, Any]:
    """The extension on, the fixture notebooks in a git repository as the root, the store
    on SQLite (in the data directory) or on PostgreSQL."""
    shutil.copytree(NOTEBOOKS, jp_root_dir / "notebooks")
    init_repo(jp_root_dir)
    config: dict[str, Any] = {"heartbeat_interval": 0.5, "lost_after": 10.0, **extra_config}
    if store_kind == "postgresql":
        config["db_url"] = fresh_pg_database(request.getfixturevalue("postgres_server"))
    return {"ServerApp": {"jpserver_extensions": {"jupyter_mlops": True}}, "MLOps": config}


def body(**fields: Any) -> str:
    """A submit body as JSON text (Python writes NaN and Infinity as JSON's missing ones)."""
    return json.dumps({"notebook": NB, **fields})


def literal(field: str, text: str) -> str:
    """A submit body whose ``field`` is written as ``text`` (``Infinity``, ``1e999``)."""
    return body(**{field: 0}).removesuffix("0}") + text + "}"


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def strict_json(text: bytes) -> Any:
    """JSON as the standard has it: NaN and Infinity are errors, not numbers."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


async def refused(api: Any, method: str, path: str, spec: str, raw: str, needle: str) -> None:
    resp = await api(method, path, body=raw, expect=400, spec_path=spec)
    message = resp.data["message"]
    assert needle.lower() in message.lower(), (raw[:200], message)
    assert len(message) < 1000  # a message, not an echo of the body


RUN_BODIES = [
    # nesting: the parser's stack, and what would be stored
    (nested(DEEP), "request body is nested too deeply"),
    ('{"notebook": "x.ipynb", "parameters": {"layers": ' + nested(DEEP) + "}}", "nested too"),
    (body(parameters={"layers": json.loads(nested(40))}), "nested too deeply"),
    # NUL in every string that is stored
    (body(tags=["ok", "a\x00b"]), "NUL"),
    (body(parameters={"name": "bad\x00name"}), "NUL"),
    (body(parameters={"name\x00": "x"}), "NUL"),
    (body(kernel="python3\x00"), "NUL"),
    (body(commit_message="msg\x00"), "NUL"),
    (json.dumps({"notebook": "notebooks/params\x00.ipynb"}), "NUL"),
    # numbers JSON does not have (or that overflow to them)
    (literal("timeout", "Infinity"), "timeout"),
    (literal("timeout", "NaN"), "timeout"),
    (literal("timeout", "-Infinity"), "timeout"),
    (literal("timeout", "1e999"), "timeout"),
    (body(parameters={"lr": float("nan")}), "parameters.lr must be a finite number"),
    (body(parameters={"lr": float("inf")}), "finite"),
    (body(parameters={"layers": [1, float("-inf")]}), "parameters.layers[1]"),
    (literal("gpus", "NaN"), "gpus"),
    (literal("seed", "Infinity"), "seed"),
    # seeds: what NumPy takes, -1 included in the refusal
    (body(seed=-1), "seed must be an integer from 0 to 2**32-1"),
    (body(seed=2**32), "seed must be an integer from 0 to 2**32-1"),
    (body(seed=2**64), "seed"),
    (body(parameters={"seed": 2**64}), "parameter seed"),
    # sizes
    (body(parameters={"name": "x" * (1024 * 1024 + 1)}), "at most 1 MiB"),
    (body(parameters={"name": "x" * (65 * 1024)}), "parameter 'name' is 65 KiB"),
    (body(tags=[f"t{i}" for i in range(51)]), "at most 50"),
    (body(tags=["x" * 256]), "255"),
]


async def test_hostile_run_bodies_are_refused_and_store_nothing(
    api: Any, mlops: Any, jp_root_dir: Path, store_kind: str
) -> None:
    assert (await api("GET", "/runs", spec_path="/runs")).data["runs"] == []
    for raw, needle in RUN_BODIES:
        await refused(api, "POST", "/runs", "/runs", raw, needle)
    assert mlops.store.count_runs() == 0
    refs = subprocess.run(
        ["git", "for-each-ref", "refs/mlops"], cwd=jp_root_dir, capture_output=True, text=True
    )
    assert refs.stdout == ""
    listed = await api("GET", "/runs", spec_path="/runs")
    assert strict_json(listed.body) == {"runs": [], "next_cursor": None}


SCHEDULE = {"notebook": NB, "cron": "0 0 1 1 *", "active": False}
"""A schedule that does not fire during a test (and is paused as well)."""


def schedule(**fields: Any) -> str:
    return json.dumps({**SCHEDULE, **fields})


SCHEDULE_BODIES = [
    (nested(DEEP), "request body is nested too deeply"),
    (schedule(parameters={"layers": json.loads(nested(40))}), "nested too deeply"),
    (schedule(name="nightly\x00"), "NUL"),
    (schedule(tags=["a\x00"]), "NUL"),
    (schedule(cron="0 0 1 1 *\x00"), "NUL"),
    (schedule(timezone="UTC\x00"), "NUL"),
    (schedule(branch="main\x00"), "NUL"),
    (schedule(kernel="python3\x00"), "NUL"),
    (schedule(parameters={"name": "\x00"}), "NUL"),
    (schedule(timeout=float("inf")), "timeout"),
    (schedule(timeout=float("nan")), "timeout"),
    (schedule(parameters={"lr": float("nan")}), "finite"),
    (schedule(gpus=10**30), "gpus"),
    (schedule(parameters={"name": "x" * (65 * 1024)}), "max_parameter_bytes"),
    (schedule(tags=[f"t{i}" for i in range(51)]), "at most 50"),
    (schedule(tags=["x" * 256]), "255"),
    (schedule(name="n" * 256), "name"),
    (schedule(cron="0  " + " " * 300 + "0 1 1 *"), "cron"),
]

CHANGES = [
    (nested(DEEP), "request body is nested too deeply"),
    (json.dumps({"name": "renamed\x00"}), "NUL"),
    (json.dumps({"tags": ["a\x00"]}), "NUL"),
    (json.dumps({"timeout": float("inf")}), "timeout"),
    ('{"timeout": NaN}', "timeout"),
    (json.dumps({"parameters": {"lr": float("inf")}}), "finite"),
    (json.dumps({"tags": [f"t{i}" for i in range(51)]}), "at most 50"),
]


async def test_hostile_schedule_bodies_are_refused_and_store_nothing(
    api: Any, mlops: Any, store_kind: str
) -> None:
    for raw, needle in SCHEDULE_BODIES:
        await refused(api, "POST", "/schedules", "/schedules", raw, needle)
    assert (await api("GET", "/schedules", spec_path="/schedules")).data["schedules"] == []

    created = await api("POST", "/schedules", body=SCHEDULE, expect=201, spec_path="/schedules")
    one = f"/schedules/{created.data['id']}"
    before = (await api("GET", one, spec_path="/schedules/{schedule_id}")).data
    for raw, needle in CHANGES:
        await refused(api, "PATCH", one, "/schedules/{schedule_id}", raw, needle)
    after = await api("GET", one)
    assert strict_json(after.body) == before
    listed = await api("GET", "/schedules", spec_path="/schedules")
    assert [s["id"] for s in strict_json(listed.body)["schedules"]] == [created.data["id"]]
    assert mlops.store.count_runs() == 0


@pytest.mark.parametrize(
    "extra_config",
    [{"max_request_bytes": 4000, "max_parameter_bytes": 100, "max_tags": 2, "max_tag_length": 5}],
)
async def test_the_limits_are_settings(api: Any, mlops: Any) -> None:
    await refused(api, "POST", "/runs", "/runs", body(name="x" * 5000), "at most 3.9 KiB")
    await refused(
        api, "POST", "/runs", "/runs", body(parameters={"name": "x" * 200}), "at most 100 bytes"
    )
    await refused(api, "POST", "/runs", "/runs", body(tags=["a", "b", "c"]), "at most 2")
    await refused(api, "POST", "/runs", "/runs", body(tags=["abcdef"]), "at most 5")
    await refused(
        api, "POST", "/schedules", "/schedules", schedule(tags=["a", "b", "c"]), "at most 2"
    )
    assert mlops.store.count_runs() == 0


# -- the same rules on the command line ---------------------------------------------------


@pytest.mark.parametrize(
    "args, needle",
    [
        ("-p lr nan", "finite"),
        ("-p lr inf", "finite"),
        ("--timeout inf", "timeout"),
        ("--timeout nan", "timeout"),
        ("--seed 4294967296", "seed must be an integer from 0 to 2**32-1"),
        ("-p name " + "x" * (65 * 1024), "max_parameter_bytes"),
        (" ".join(f"--tag t{i}" for i in range(51)), "at most 50"),
    ],
    ids=["nan", "inf", "timeout-inf", "timeout-nan", "seed", "big-value", "tags"],
)
def test_the_cli_refuses_the_same_values(
    env: dict[str, str], project: Path, args: str, needle: str
) -> None:
    result = mlops_line(f"run {project / NB} {args}", env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert needle in result.stderr and "Traceback" not in result.stderr
    listed = mlops("runs", "--json", env=env)
    assert json.loads(listed.stdout) == []


def test_a_parameters_file_with_nul_or_deep_nesting_is_refused(
    env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    nb = project / NB
    cases = {
        "nul.yaml": ('name: "a\\0b"\n', "NUL"),
        "deep.json": ('{"layers": ' + nested(DEEP) + "}", "nested too deeply"),
        "nan.yaml": ("lr: .nan\n", "finite"),
    }
    for name, (text, needle) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = mlops("run", str(nb), "-f", str(path), env=env)
        assert result.returncode == 2, (name, result.stdout, result.stderr[-2000:])
        assert needle in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert json.loads(mlops("runs", "--json", env=env).stdout) == []


def test_schedule_add_refuses_the_same_values(env: dict[str, str], project: Path) -> None:
    nb = str(project / NB)
    for args, needle in [
        (["-p", "lr", "nan"], "finite"),
        (["--timeout", "inf"], "timeout"),
        ([arg for i in range(51) for arg in ("--tag", f"t{i}")], "at most 50"),
    ]:
        result = mlops("schedule", "add", nb, "--cron", "0 0 1 1 *", *args, env=env)
        assert result.returncode == 2, (args[:3], result.stdout, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr
    listed = mlops("schedule", "list", "--json", env=env)
    assert json.loads(listed.stdout) == []
