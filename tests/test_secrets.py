"""Secrets never land in the store in the clear (issue 10, item 7).

Real runs of ``tests/notebooks/secret_param.ipynb``, which declares ``api_key = ""`` and
prints the length and SHA-256 of the value it got (never the value): the value must be in
no table, no REST or CLI view, no executed notebook, no HTML and no file of the data
directory, while the notebook's output proves the kernel computed with it. ``reproduce``
asks for the value again. Environment records redact credential-shaped values and the
server's own token whatever the variable is called.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.config import MLOps, Settings
from jupyter_mlops.environment import filter_environment_variables, redact_known_values
from jupyter_mlops.jobs import JobService, RunSpec, Submission
from jupyter_mlops.masking import (
    HANDOVER_FILE,
    MASK,
    SECRET_PARAM_TYPE,
    Handover,
    SecretParameterMissing,
    is_secret_name,
    secret_env_name,
    take_handover,
    write_handover,
)
from jupyter_mlops.notebook.coercion import ParameterError
from jupyter_mlops.serialize import run_detail
from jupyter_mlops.store import Run, RunStatus, RunStore

from .conftest import mlops as mlops_cli
from .test_rest import api, jp_server_config, mlops_data, wait_for_status  # noqa: F401
from .test_runs import all_output_text, executed_notebook, wait_for

SECRET = "sk-live-" + "S3cr3tValue" * 3
NOTEBOOK = "notebooks/secret_param.ipynb"
ENV_NAME = "JUPYTER_MLOPS_SECRET_API_KEY"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def store(settings: Settings):
    s = RunStore.from_settings(settings)
    yield s
    s.close()


@pytest.fixture
def service(settings: Settings, store: RunStore) -> JobService:
    return JobService(settings, store)


@pytest.fixture(autouse=True)
def no_secret_in_test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_NAME, raising=False)


def submit_secret(service: JobService, project: Path, value: str = SECRET) -> Submission:
    return service.submit(
        RunSpec(notebook=str(project / NOTEBOOK), raw_parameters={"api_key": value, "lr": "0.25"})
    )


def assert_computed_with(run: Run, service: JobService, value: str) -> str:
    """The run succeeded and its output shows the length and hash of ``value``."""
    assert run.status == RunStatus.SUCCEEDED.value, (run.status, run.status_reason)
    text = all_output_text(executed_notebook(service, run.id))
    assert f"api_key length {len(value)}" in text
    assert f"api_key sha256 {sha(value)}" in text
    assert "lr 0.25" in text
    return text


def sqlite_texts(db_file: Path) -> list[tuple[str, str, str]]:
    """(table, column, text) of every text value of every table of the SQLite store."""
    found = []
    with sqlite3.connect(db_file) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        found.append((table, column, value))
    return found


def files_containing(root: Path, needle: str) -> list[Path]:
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]


# -- names, settings, the hand-over file ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True),
        ("API_KEY", True),
        ("hf_token", True),
        ("client_secret", True),
        ("DbPassword", True),
        ("aws_credentials", True),
        ("lr", False),
        ("epochs", False),
        ("name", False),
    ],
)
def test_secret_names_follow_the_default_patterns(name: str, secret: bool) -> None:
    assert is_secret_name(name, Settings().secret_parameter_patterns) is secret


def test_the_patterns_are_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from traitlets.config import Config

    config = Config()
    config.MLOps.secret_parameter_patterns = ["*pin*"]
    configured = MLOps(config=config).settings()
    assert configured.secret_parameter_patterns == ("*pin*",)
    assert is_secret_name("card_PIN", configured.secret_parameter_patterns)
    assert not is_secret_name("api_key", configured.secret_parameter_patterns)
    # runners get it through their environment
    monkeypatch.setenv("JUPYTER_MLOPS_MASK_PARAMETERS", "*pin*,*otp*")
    assert Settings.from_env().secret_parameter_patterns == ("*pin*", "*otp*")
    assert configured.runner_env()["JUPYTER_MLOPS_MASK_PARAMETERS"] == "*pin*"


def test_handover_file_is_private_and_read_once(tmp_path: Path) -> None:
    write_handover(tmp_path, Handover({"api_key": SECRET}, ["tok"]))
    mode = stat.S_IMODE((tmp_path / HANDOVER_FILE).stat().st_mode)
    assert mode == 0o600
    assert take_handover(tmp_path) == Handover({"api_key": SECRET}, ["tok"])
    assert not (tmp_path / HANDOVER_FILE).exists()
    assert take_handover(tmp_path) == Handover()


# -- a real run: the value is nowhere, the notebook computed with it --------------------------


def test_secret_is_stored_nowhere_and_reaches_the_kernel(
    service: JobService, project: Path, settings: Settings, env: dict[str, str]
) -> None:
    sub = submit_secret(service, project)
    run = wait_for(service, sub)
    assert_computed_with(run, service, SECRET)
    assert not (settings.runs_dir / run.id / HANDOVER_FILE).exists()

    # the store: a mask and the flag, and no text column of any table holds the value
    params = {p.name: (json.loads(p.value_json), p.type_name) for p in run.params}
    assert params["api_key"] == (MASK, SECRET_PARAM_TYPE)
    assert params["lr"] == (0.25, "float")
    assert params["copy_of_token"] == (MASK, "logged")  # logged by the notebook, masked
    texts = sqlite_texts(settings.data_dir / "mlops.db")
    assert texts, "the store has text columns"
    assert [(t, c) for t, c, v in texts if SECRET in v] == []
    # no file of the data directory either (database, WAL, artifacts, run directory, log)
    assert files_containing(settings.data_dir, SECRET) == []

    # the executed notebook: the injected cell reads the kernel's environment
    nb = executed_notebook(service, run.id)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f"api_key = __import__('os').environ['{ENV_NAME}']" in injected.source
    assert SECRET not in json.dumps(nb)
    assert nb.metadata.papermill.parameters["api_key"] == MASK
    html = service.store.get_artifact(run.id, "output.html")
    assert html is not None  # rendered (and scanned with the data directory above)

    # the REST view (the same function the handler sends) and the CLI
    detail = run_detail(
        run,
        events=service.store.events(run.id),
        artifacts=service.store.artifacts(run.id),
        environment=service.store.environment(run.id),
        metrics={},
    )
    assert detail["parameters"]["api_key"] == MASK
    assert detail["parameter_types"]["api_key"] == SECRET_PARAM_TYPE
    assert SECRET not in json.dumps(detail, default=str)
    shown = mlops_cli("show", run.id, env=env)
    assert shown.returncode == 0, shown.stderr
    assert 'api_key = "***"  (secret)' in shown.stdout and SECRET not in shown.stdout
    listed = mlops_cli("runs", env=env)
    assert listed.returncode == 0, listed.stderr
    assert 'api_key="***"' in listed.stdout and SECRET not in listed.stdout
    shown_json = mlops_cli("show", run.id, "--json", env=env)
    assert SECRET not in shown_json.stdout
    # the environment record: the kernel's variable is dropped by name
    recorded = service.store.environment(run.id) or {}
    assert ENV_NAME not in recorded.get("environment_variables", {})


def test_secret_from_the_submitting_environment(
    service: JobService, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret not given is read from JUPYTER_MLOPS_SECRET_<NAME> of the submitting
    process: it need not appear on a command line (which ``ps`` shows)."""
    monkeypatch.setenv(ENV_NAME, "from-env-" + SECRET)
    sub = service.submit(RunSpec(notebook=str(project / NOTEBOOK), raw_parameters={"lr": "0.25"}))
    run = wait_for(service, sub)
    assert_computed_with(run, service, "from-env-" + SECRET)
    assert {p.name: p.type_name for p in run.params}["api_key"] == SECRET_PARAM_TYPE


def test_a_secret_that_never_reached_the_runner_fails_the_run_clearly(
    service: JobService, project: Path, settings: Settings
) -> None:
    """The hand-over file is gone before the runner starts (as after a lost launch): the
    run fails naming the parameter; the value is never looked for in the store."""
    original = service.backend.hand_over
    service.backend.hand_over = lambda run, handover: None  # type: ignore[method-assign]
    try:
        run = wait_for(service, submit_secret(service, project))
    finally:
        service.backend.hand_over = original  # type: ignore[method-assign]
    assert run.status == RunStatus.FAILED.value
    assert "api_key" in (run.status_reason or "") and "reproduce" in (run.status_reason or "")


def test_a_schedule_refuses_a_secret_parameter(service: JobService, project: Path) -> None:
    """A schedule would keep the value for every later run: refused with what to do."""
    from jupyter_mlops.scheduling import ScheduleService, ScheduleSpec

    schedules = ScheduleService(service)
    spec = ScheduleSpec(
        notebook=str(project / NOTEBOOK), cron="0 3 * * *", raw_parameters={"api_key": SECRET}
    )
    with pytest.raises(ParameterError) as refused:
        schedules.validate(spec)
    assert ENV_NAME in str(refused.value) and refused.value.problems.keys() == {"api_key"}
    ok = ScheduleSpec(
        notebook=str(project / NOTEBOOK), cron="0 3 * * *", raw_parameters={"lr": "0.5"}
    )
    assert schedules.validate(ok)["parameters"] == {"lr": 0.5}


# -- reproduce -------------------------------------------------------------------------------


def test_reproduce_asks_for_the_secret_again(
    service: JobService, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = wait_for(service, submit_secret(service, project))
    assert_computed_with(first, service, SECRET)
    runs_before = len(service.store.list_runs().runs)

    with pytest.raises(SecretParameterMissing) as missing:
        service.reproduce(first.id)
    message = str(missing.value)
    assert "api_key" in message and "-p api_key" in message and ENV_NAME in message
    assert missing.value.problems == {"api_key": "a secret parameter: give its value again"}
    assert len(service.store.list_runs().runs) == runs_before  # nothing written

    with pytest.raises(ParameterError, match="only the run's secret parameters"):
        service.reproduce(first.id, raw_parameters={"lr": "0.9"})

    again = wait_for(service, service.reproduce(first.id, raw_parameters={"api_key": "other-1"}))
    assert again.reproduced_from == first.id
    assert_computed_with(again, service, "other-1")
    assert {p.name: json.loads(p.value_json) for p in again.params}["api_key"] == MASK

    monkeypatch.setenv(ENV_NAME, "from-env-2")
    by_env = wait_for(service, service.reproduce(first.id))
    assert_computed_with(by_env, service, "from-env-2")


def test_cli_reproduce_without_the_secret_exits_2(
    service: JobService, project: Path, env: dict[str, str]
) -> None:
    first = wait_for(service, submit_secret(service, project))
    refused = mlops_cli("reproduce", first.id, env=env)
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    assert "api_key" in refused.stderr and "Traceback" not in refused.stderr
    done = mlops_cli("reproduce", first.id, "-p", "api_key", "cli-value", "--wait", env=env)
    assert done.returncode == 0, done.stderr
    new_id = done.stdout.strip().splitlines()[-1]
    assert_computed_with(service.store.require_run(new_id), service, "cli-value")
    assert "cli-value" not in mlops_cli("show", new_id, env=env).stdout


# -- REST, with the server's own token in a variable named TOK ----------------------------------


async def test_rest_masks_the_secret_and_reproduce_asks_for_it(
    api: Any,  # noqa: F811
    mlops: Any,
    jp_serverapp: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = jp_serverapp.identity_provider.token
    assert token, "the test server has a token"
    monkeypatch.setenv("TOK", token)  # the runner inherits the server's environment
    created = await api(
        "POST",
        "/runs",
        body={"notebook": NOTEBOOK, "parameters": {"api_key": SECRET, "lr": 0.25}},
        expect=201,
        spec_path="/runs",
    )
    assert SECRET not in created.body.decode()
    run_id = created.data["id"]
    detail = await wait_for_status(api, run_id, {"succeeded", "failed"})
    assert detail["status"] == "succeeded", detail["status_reason"]
    raw = (await api("GET", f"/runs/{run_id}")).body.decode()
    assert SECRET not in raw and token not in raw
    assert detail["parameters"]["api_key"] == MASK
    assert detail["environment"]["environment_variables"]["TOK"] == "***"
    listed = (await api("GET", "/runs")).body.decode()
    assert SECRET not in listed

    refused = await api(
        "POST", f"/runs/{run_id}/reproduce", expect=400, spec_path="/runs/{run_id}/reproduce"
    )
    assert "api_key" in refused.data["message"]
    assert refused.data["problems"] == {"api_key": "a secret parameter: give its value again"}
    again = await api(
        "POST",
        f"/runs/{run_id}/reproduce",
        body={"parameters": {"api_key": "again-value"}},
        expect=201,
        spec_path="/runs/{run_id}/reproduce",
    )
    redone = await wait_for_status(api, again.data["id"], {"succeeded", "failed"})
    assert redone["status"] == "succeeded", redone["status_reason"]
    await api(
        "POST",
        f"/runs/{run_id}/reproduce",
        body={"parameters": "api_key"},
        expect=400,
        spec_path="/runs/{run_id}/reproduce",
    )


# -- environment records: credential shapes, whatever the variable's name ---------------------


CREDENTIAL_SHAPES = {
    "github_classic": "ghp_" + "a1B2c3D4e5" * 4,
    "github_fine_grained": "github_pat_" + "11ABCDEFG0" * 4,
    "aws_access_key": "AKIA" + "ABCDEFGHIJKLMNOP",
    "openai_style": "sk-" + "proj-abcdefghijklmnopqrstuvwx",
    "slack_bot": "xoxb-" + "123456789012-abcdefghij",
    "slack_app": "xoxa-" + "123456789012-abcdefghij",
    "slack_user": "xoxp-" + "123456789012-abcdefghij",
    "slack_refresh": "xoxr-" + "123456789012-abcdefghij",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r",
}


@pytest.mark.parametrize("shape", sorted(CREDENTIAL_SHAPES))
def test_credential_shaped_values_are_not_recorded(shape: str) -> None:
    value = CREDENTIAL_SHAPES[shape]
    recorded = filter_environment_variables({"INNOCENT": value, "PLAIN": f"x {value} y"})
    assert value not in json.dumps(recorded)


def test_url_passwords_keep_the_user() -> None:
    recorded = filter_environment_variables(
        {"DATABASE": "postgresql://alice:hunter2@db:5432/x", "MIRROR": "https://bob:pw9@m.example/"}
    )
    assert recorded == {
        "DATABASE": "postgresql://alice:***@db:5432/x",
        "MIRROR": "https://bob:***@m.example/",
    }


def test_the_server_token_is_redacted_from_any_variable() -> None:
    token = "5f4dcc3b5aa765d61d8327deb882cf99a1b2c3d4e5f60718"
    recorded = filter_environment_variables(
        {"TOK": token, "URL": f"http://localhost:8888/lab?t={token}", "PATH": "/usr/bin"},
        redact_values=[token],
    )
    assert recorded == {
        "PATH": "/usr/bin",
        "TOK": "***",
        "URL": "http://localhost:8888/lab?t=***",
    }
    assert redact_known_values("abc", ["5"]) == "abc"  # too short to look for


def test_capture_redacts_known_values_everywhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from jupyter_mlops.environment import capture_environment

    token = "feedface" * 6
    monkeypatch.setenv("TOK", token)
    monkeypatch.chdir(tmp_path)
    record = capture_environment(
        kernel_name="python3",
        kernel_python=None,
        redact_values=[token],
        extra={"note": f"saw {token}"},
    )
    assert token not in json.dumps(record)
    assert record["environment_variables"]["TOK"] == "***"
    assert record["note"] == "saw ***"


def test_secret_env_names() -> None:
    assert secret_env_name("api_key") == ENV_NAME
    assert secret_env_name("hfToken") == "JUPYTER_MLOPS_SECRET_HFTOKEN"
