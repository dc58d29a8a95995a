"""papermill's parameter options on ``jupyter mlops run``: real processes, real kernels."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from .conftest import mlops, mlops_line


def show(run_id: str, env: dict[str, str]) -> dict:
    result = mlops("show", run_id, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def injected_cell(env: dict[str, str], run_id: str) -> tuple[int, str]:
    """(index, source) of papermill's injected-parameters cell in the executed notebook."""
    output = Path(env["JUPYTER_MLOPS_DATA_DIR"]) / "runs" / run_id / "output.ipynb"
    cells = json.loads(output.read_text())["cells"]
    (found,) = [
        (i, "".join(c["source"]))
        for i, c in enumerate(cells)
        if "injected-parameters" in c["metadata"].get("tags", [])
    ]
    return found


def test_raw_yaml_none_and_yaml_file_dates(env: dict[str, str], project: Path) -> None:
    params = project / "params.yaml"
    params.write_text("start: 2026-01-01\nsteps: 2\n")
    line = (
        f"run notebooks/typed_comments.ipynb -f {shlex.quote(str(params))} -p steps 5 "
        "-r label 7 -y 'flag: true' -p label None --wait --no-progress"
    )
    ok = mlops_line(line, env=env, cwd=project)
    assert ok.returncode == 0, ok.stderr
    run_id = ok.stdout.strip().splitlines()[-1]
    run = show(run_id, env)
    assert run["status"] == "succeeded"
    assert run["parameters"] == {"start": "2026-01-01", "steps": 5, "label": "7", "flag": True}
    index, source = injected_cell(env, run_id)  # in the cell's order, not the order given
    assert index == 1
    assert source.splitlines()[1:] == [
        "steps = 5",
        'label = "7"',
        "flag = True",
        'start = "2026-01-01"',
    ]


def test_none_for_a_string_parameter(env: dict[str, str], project: Path) -> None:
    ok = mlops_line(
        "run notebooks/typed_comments.ipynb -p label None --wait --no-progress",
        env=env,
        cwd=project,
    )
    assert ok.returncode == 0, ok.stderr
    assert show(ok.stdout.strip().splitlines()[-1], env)["parameters"]["label"] is None


def test_notebook_without_parameters_cell_takes_p_with_a_warning(
    env: dict[str, str], project: Path
) -> None:
    ok = mlops_line(
        "run notebooks/no_params.ipynb -p x 1 -r y two --wait --no-progress", env=env, cwd=project
    )
    assert ok.returncode == 0, ok.stderr
    assert "warning: The notebook has no cell tagged 'parameters'" in ok.stderr
    run_id = ok.stdout.strip().splitlines()[-1]
    run = show(run_id, env)
    assert run["status"] == "succeeded"
    assert run["parameters"] == {"x": 1, "y": "two"}
    assert injected_cell(env, run_id) == (0, '# Parameters\nx = 1\ny = "two"\n')  # at the top
    assert any("no cell tagged 'parameters'" in w for w in run["warnings"])


def test_bad_papermill_options_exit_2(env: dict[str, str], project: Path) -> None:
    raw_for_int = mlops("run", "notebooks/params.ipynb", "-r", "epochs", "3", env=env, cwd=project)
    assert raw_for_int.returncode == 2 and "epochs: expected int" in raw_for_int.stderr
    not_a_mapping = mlops("run", "notebooks/params.ipynb", "-y", "[1]", env=env, cwd=project)
    assert not_a_mapping.returncode == 2 and "mapping" in not_a_mapping.stderr
    missing = mlops("run", "notebooks/params.ipynb", "-r", "epochs", env=env, cwd=project)
    assert missing.returncode == 2 and "-r NAME VALUE" in missing.stderr


def test_schedule_add_takes_raw_and_yaml(env: dict[str, str], project: Path) -> None:
    added = mlops_line(
        "schedule add notebooks/typed_comments.ipynb --cron '0 3 * * *' "
        "-r label 7 -y 'steps: 4\nstart: 2026-01-01' -p flag true",
        env=env,
        cwd=project,
    )
    assert added.returncode == 0, added.stderr
    shown = mlops("schedule", "show", added.stdout.strip(), "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["parameters"] == {
        "steps": 4,
        "label": "7",
        "flag": True,
        "start": "2026-01-01",
    }
