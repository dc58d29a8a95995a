"""Lineage and datasets through the CLI and REST: a run that turns a dataset into an
artifact, a second run that reads that artifact as its dataset; ``lineage`` of each run
and of the content hash, ``datasets``, ``show --json`` inputs; bad ids and hashes."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.artifacts import open_artifact_store
from jupyter_mlops.config import Settings
from jupyter_mlops.datasets import fingerprint
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.inputs import input_record

from .conftest import NOTEBOOKS, extension_server_config, make_run, mlops
from .test_dataset_runs import committed_notebook
from .test_datasets import sha256sum, write_csv
from .test_rest import api, mlops_data  # noqa: F401  (fixtures)
from .test_runs import wait_for

FEATURES = textwrap.dedent(
    """\
    import pyarrow.csv, pyarrow.compute as pc
    import jupyter_mlops as mlops
    table = pyarrow.csv.read_csv(train_path)
    pyarrow.csv.write_csv(table.select(["x"]).slice(0, 10), "features.csv")
    mlops.log_artifact("features.csv")
    """
)


def features_notebook(project: Path) -> Path:
    """A notebook that turns its dataset parameter into an artifact (``features.csv``)."""
    return committed_notebook(
        project,
        "features.ipynb",
        'train_path = "data/train.csv"  # mlops: dataset\n',
        FEATURES,
        {"train.csv": 40},
    )


def cli_json(env: dict[str, str], *args: str) -> Any:
    out = mlops(*args, "--json", env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_lineage_and_datasets_cli(
    service: JobService, settings: Settings, project: Path, env: dict[str, str], tmp_path: Path
) -> None:
    notebook = features_notebook(project)
    first = wait_for(service, service.submit(RunSpec(notebook=str(notebook))))
    assert first.status == "succeeded", first.status_reason
    produced = service.store.get_artifact(first.id, "features.csv")
    assert produced is not None
    downloaded = tmp_path / "features.csv"  # the artifact, fetched to be read by another run
    with open_artifact_store(settings).open(produced.sha256) as f:
        downloaded.write_bytes(f.read())
    second = wait_for(
        service,
        service.submit(
            RunSpec(notebook=str(notebook), raw_parameters={"train_path": str(downloaded)})
        ),
    )
    assert second.status == "succeeded", second.status_reason
    train = project / "notebooks" / "data" / "train.csv"
    train_sha = sha256sum(train)[0]

    shown = cli_json(env, "show", first.id)
    (inp,) = shown["inputs"]
    assert (inp["name"], inp["uri"], inp["sha256"], inp["size"]) == (
        "train_path",
        str(train),
        train_sha,
        train.stat().st_size,
    )
    assert inp["stats"]["rows"] == 40 and inp["stats"]["columns"][0]["max"] == 39.0

    lineage = cli_json(env, "lineage", first.id)
    assert lineage["run"]["commit"] == first.commit_sha
    assert [i["sha256"] for i in lineage["inputs"]] == [train_sha]
    out = {o["name"]: o for o in lineage["outputs"]}
    assert out["features.csv"]["sha256"] == produced.sha256
    assert [u["run_id"] for u in out["features.csv"]["used_by"]] == [second.id]

    upstream = cli_json(env, "lineage", second.id[:8])
    (used,) = upstream["inputs"]
    assert used["sha256"] == produced.sha256
    assert used["produced_by"] == [{"run_id": first.id, "artifact": "features.csv", "kind": "file"}]

    content = cli_json(env, "lineage", produced.sha256)
    # the second run's first ten x values are the same bytes again: both produced them
    assert [p["run_id"] for p in content["produced_by"]] == [first.id, second.id]
    assert [u["run_id"] for u in content["used_by"]] == [second.id]

    datasets = {d["uri"]: d for d in cli_json(env, "datasets")["datasets"]}
    assert set(datasets) == {str(train), str(downloaded)}
    assert datasets[str(train)]["versions"][0]["run_ids"] == [first.id]
    assert datasets[str(train)]["versions"][0]["rows"] == 40

    text = mlops("lineage", first.id, env=env)
    assert text.returncode == 0, text.stderr
    assert f"commit {first.commit_sha}" in text.stdout
    assert f"read by run {second.id} as train_path" in text.stdout
    listing = mlops("datasets", env=env)
    assert listing.returncode == 0 and str(train) in listing.stdout

    for bad, message in [
        ("f" * 64, "no run produced or read content"),
        ("z" * 40, "neither a run id nor a sha256"),
        ("0123456789ab", "0123456789ab"),
    ]:
        refused = mlops("lineage", bad, env=env)
        assert refused.returncode == 2, (bad, refused.stdout)
        assert message in refused.stderr and "Traceback" not in refused.stderr


# -- REST ---------------------------------------------------------------------------------


@pytest.fixture
def jp_server_config(jp_root_dir: Path, mlops_data: Path) -> dict[str, Any]:  # noqa: F811
    shutil.copytree(NOTEBOOKS, jp_root_dir / "notebooks")
    return extension_server_config(jp_root_dir)


async def test_lineage_and_datasets_rest(api: Any, mlops: Any, tmp_path: Path) -> None:  # noqa: F811
    store: RunStore = mlops.store
    data = write_csv(tmp_path / "train.csv", 25)
    v1 = fingerprint(data)
    for run_id in ("aaaa00000001", "aaaa00000002"):
        store.create_run(make_run(run_id))
        store.add_run_input(input_record(run_id, v1, name="train_path", source="parameter"))

    detail = (await api("GET", "/runs/aaaa00000001", spec_path="/runs/{run_id}")).data
    (inp,) = detail["inputs"]
    assert (inp["uri"], inp["sha256"], inp["stats"]["rows"]) == (str(data), v1.sha256, 25)

    lineage = (
        await api("GET", "/runs/aaaa00000001/lineage", spec_path="/runs/{run_id}/lineage")
    ).data
    assert lineage["inputs"][0]["used_by"] == ["aaaa00000002"]
    assert [v["sha256"] for v in lineage["inputs"][0]["versions"]] == [v1.sha256]

    content = (await api("GET", f"/lineage/{v1.sha256}", spec_path="/lineage/{sha256}")).data
    assert [u["run_id"] for u in content["used_by"]] == ["aaaa00000001", "aaaa00000002"]
    assert content["produced_by"] == []

    datasets = (await api("GET", "/datasets", spec_path="/datasets")).data["datasets"]
    assert [(d["uri"], d["versions"][0]["run_ids"]) for d in datasets] == [
        (str(data), ["aaaa00000001", "aaaa00000002"])
    ]

    missing = await api("GET", "/runs/0123456789ab/lineage", expect=404)
    assert "0123456789ab" in missing.data["message"]
    bad = await api("GET", "/lineage/not-a-hash", expect=400, spec_path="/lineage/{sha256}")
    assert "64 lowercase hexadecimal" in bad.data["message"]
    unknown = await api("GET", f"/lineage/{'e' * 64}", expect=404, spec_path="/lineage/{sha256}")
    assert "no run produced or read" in unknown.data["message"]
