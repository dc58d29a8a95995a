"""One notebook, one identity: the CLI (absolute, relative from a subdirectory, ``./x``, a
symlink) and the REST API record the same name, and a notebook filter finds every run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jupyter_mlops.notebook.identity import notebook_identity, notebook_names

from .conftest import init_repo, mlops
from .test_rest import api, jp_server_config, mlops_data, wait_for_status  # noqa: F401

TERMINAL = {"succeeded", "failed", "cancelled", "timed_out", "lost"}


def cli_env() -> dict[str, str]:
    """The CLI as a user of this server runs it: the server's data directory."""
    return {**os.environ}


async def test_cli_and_rest_runs_of_one_notebook_share_its_name(
    api: Any,  # noqa: F811
    jp_root_dir: Path,
) -> None:
    root = jp_root_dir
    (root / "alias.ipynb").symlink_to(root / "notebooks" / "trivial.ipynb")
    rest = (
        await api("POST", "/runs", body={"notebook": "notebooks/trivial.ipynb"}, expect=201)
    ).data
    ids = [rest["id"]]
    for cwd, typed in [
        (root, str(root / "notebooks" / "trivial.ipynb")),
        (root / "notebooks", "trivial.ipynb"),
        (root / "notebooks", "../notebooks/./trivial.ipynb"),
        (root, "./notebooks/trivial.ipynb"),
        (root, "alias.ipynb"),
    ]:
        done = mlops("run", typed, "--no-progress", env=cli_env(), cwd=cwd)
        assert done.returncode == 0, (typed, done.stderr)
        ids.append(done.stdout.strip().splitlines()[-1])
    names = set()
    for run_id in ids:
        detail = await wait_for_status(api, run_id, TERMINAL)
        assert detail["status"] == "succeeded", detail["status_reason"]
        names.add(detail["notebook"])
        assert detail["notebook_in_root"] == "notebooks/trivial.ipynb"
    assert names == {"notebooks/trivial.ipynb"}

    for given in ("notebooks/trivial.ipynb", str(root / "notebooks/trivial.ipynb"), "alias.ipynb"):
        listed = (await api("GET", "/runs", params={"notebook": given})).data["runs"]
        assert {r["id"] for r in listed} == set(ids), given
    shown = mlops(
        "runs", "--notebook", "trivial.ipynb", "--json", env=cli_env(), cwd=root / "notebooks"
    )
    assert shown.returncode == 0, shown.stderr
    assert {r["id"] for r in json.loads(shown.stdout)} == set(ids)


def test_outside_a_repository_the_root_or_the_absolute_path_names_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    nb = root / "sub" / "a.ipynb"
    nb.write_text("{}")
    assert notebook_identity(nb, root) == "sub/a.ipynb"
    assert notebook_identity(nb, None) == str(nb)
    assert notebook_names("a.ipynb", root / "sub", None) == ["a.ipynb", str(nb)]

    repo = tmp_path / "repo"
    (repo / "deep").mkdir(parents=True)
    (repo / "deep" / "b.ipynb").write_text("{}")
    init_repo(repo)
    # inside a repository: relative to its top level, wherever the server root is
    assert notebook_identity(repo / "deep" / "b.ipynb", tmp_path) == "deep/b.ipynb"
    assert notebook_identity(repo / "deep" / "b.ipynb", None) == "deep/b.ipynb"
