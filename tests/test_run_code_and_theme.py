"""``GET /runs/{id}/code`` (the notebook as the run's snapshot holds it, not today's file)
and ``GET /runs/{id}/html?theme=dark`` (the HTML view in JupyterLab's dark theme)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .test_notebook_identity import TERMINAL
from .test_rest import api, jp_server_config, mlops_data, wait_for_status  # noqa: F401


async def test_the_runs_code_is_its_snapshot_and_the_html_follows_the_theme(
    api: Any,  # noqa: F811
    jp_root_dir: Path,
) -> None:
    run = (
        await api("POST", "/runs", body={"notebook": "notebooks/trivial.ipynb"}, expect=201)
    ).data
    nb_path = jp_root_dir / "notebooks" / "trivial.ipynb"
    original = json.loads(nb_path.read_text())
    changed = json.loads(nb_path.read_text())
    changed["cells"][0]["source"] = ["x = 'changed on disk after the run'"]
    nb_path.write_text(json.dumps(changed))
    detail = await wait_for_status(api, run["id"], TERMINAL)
    assert detail["status"] == "succeeded", detail["status_reason"]

    code = (await api("GET", f"/runs/{run['id']}/code", spec_path="/runs/{run_id}/code")).data
    assert [c["source"] for c in code["cells"]] == [c["source"] for c in original["cells"]]
    missing = await api("GET", "/runs/0123456789ab/code", expect=404)
    assert "0123456789ab" in missing.data["message"]

    light = await api("GET", f"/runs/{run['id']}/html")
    dark = await api("GET", f"/runs/{run['id']}/html", params={"theme": "dark"})
    assert dark.body.startswith(light.body)
    tail = dark.body[len(light.body) :].decode()
    assert "<style>" in tail and "--jp-layout-color0" in tail and "color-scheme:dark" in tail
    assert int(dark.headers["Content-Length"]) == len(dark.body)
    assert dark.headers["Etag"] != light.headers["Etag"]
    bad = await api("GET", f"/runs/{run['id']}/html", params={"theme": "sepia"}, expect=400)
    assert "theme" in bad.data["message"]
