"""Artifact roots: a directory, an fsspec ``file://`` URL, and S3.

S3 is moto's S3-compatible HTTP server, started on a free port: the bytes go through
s3fs, botocore and HTTP as they would to AWS or MinIO. A whole run with its artifacts in
the bucket checks that runners, the CLI and the server find them there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.artifact_gc import collect_garbage
from jupyter_mlops.artifacts import (
    ArtifactStore,
    BlobStore,
    FsspecArtifactStore,
    open_artifact_store,
)
from jupyter_mlops.config import Settings
from jupyter_mlops.jobs import JobService, RunSpec
from jupyter_mlops.store import RunStore

from .conftest import mlops
from .test_runs import all_output_text, executed_notebook, wait_for

BUCKET = "mlops-test"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3 endpoint on localhost (moto's server), with a bucket."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        import boto3

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Credentials and endpoint where fsspec and runners (subprocesses) read them."""
    import fsspec.config

    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3_ENDPOINT_URL": s3_endpoint,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # fsspec reads FSSPEC_* once, at import: apply them to this (already importing) process
    monkeypatch.setattr(fsspec.config, "conf", {})
    fsspec.config.set_conf_env(fsspec.config.conf)
    return s3_endpoint


@pytest.fixture(params=["directory", "file-url", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "directory":
        return ArtifactStore(tmp_path / "blobs")
    if request.param == "file-url":
        return FsspecArtifactStore((tmp_path / "blobs").as_uri())
    request.getfixturevalue("s3_env")
    return FsspecArtifactStore(f"s3://{BUCKET}/{tmp_path.name}/blobs")


def test_blobs_are_stored_once_under_their_digest(blobs: BlobStore, tmp_path: Path) -> None:
    model = tmp_path / "model.pt"
    model.write_bytes(os.urandom(3 << 20))  # several chunks
    digest = hashlib.sha256(model.read_bytes()).hexdigest()

    assert blobs.put_file(model) == (digest, 3 << 20)
    assert blobs.exists(digest)
    with blobs.open(digest) as stream:
        assert stream.read() == model.read_bytes()
    copy = tmp_path / "copy.pt"
    blobs.copy_to(digest, copy)
    assert copy.read_bytes() == model.read_bytes()

    again = tmp_path / "same-bytes.bin"
    again.write_bytes(model.read_bytes())
    assert blobs.put_file(again) == (digest, 3 << 20)  # the same blob, not a second one

    blobs.remove(digest)
    assert not blobs.exists(digest)
    blobs.remove(digest)  # removing a missing blob is not an error
    with pytest.raises(FileNotFoundError):
        blobs.open(digest)
    with pytest.raises(ValueError, match="sha256"):
        blobs.open("../../etc/passwd")


def test_uploads_leave_no_temporary_objects(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    blobs = FsspecArtifactStore(root.as_uri())
    for i in range(3):
        source = tmp_path / f"f{i}"
        source.write_text(f"content {i}")
        blobs.put_file(source)
    stored = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert len(stored) == 3 and all(len(name) == 65 for name in stored)  # "ab/cdef..."


def test_the_artifact_root_setting_picks_the_store(settings: Settings, tmp_path: Path) -> None:
    assert isinstance(open_artifact_store(settings), ArtifactStore)
    url = dataclasses.replace(settings, artifact_root=(tmp_path / "x").as_uri())
    store = open_artifact_store(url)
    assert isinstance(store, FsspecArtifactStore) and store.root == url.artifact_root
    with pytest.raises(ValueError, match=r"nosuchfs.*fsspec"):
        open_artifact_store(dataclasses.replace(settings, artifact_root="nosuchfs://b/p"))


def test_a_run_keeps_its_artifacts_in_s3(
    settings: Settings, project: Path, s3_env: str, tmp_path: Path
) -> None:
    """Runner, CLI and garbage collection with an s3:// artifact root."""
    s3 = dataclasses.replace(settings, artifact_root=f"s3://{BUCKET}/{tmp_path.name}")
    store = RunStore.from_settings(s3)
    try:
        service = JobService(s3, store)
        spec = RunSpec(
            notebook=str(project / "notebooks/params.ipynb"), raw_parameters={"epochs": "4"}
        )
        run = wait_for(service, service.submit(spec))
        assert run.status == "succeeded", run.status_reason
        assert "'epochs': 4" in all_output_text(executed_notebook(service, run.id))
        names = {a.name: a for a in store.artifacts(run.id)}
        assert {"output.ipynb", "output.html", "runner.log"} <= set(names)
        import fsspec

        bucket = fsspec.filesystem("s3")
        html = names["output.html"]
        key = f"{BUCKET}/{tmp_path.name}/{html.sha256[:2]}/{html.sha256[2:]}"
        assert bucket.info(key)["size"] == html.size

        # the CLI (another process) reads the same bucket
        env = {**os.environ, "JUPYTER_MLOPS_ARTIFACT_ROOT": s3.artifact_root}
        out = tmp_path / "o.html"
        fetched = mlops("artifacts", "get", run.id, "output.html", "-o", str(out), env=env)
        assert fetched.returncode == 0, fetched.stderr
        assert out.stat().st_size == html.size

        # deleting the run removes its blobs from the bucket
        service.delete(run.id)
        bucket.invalidate_cache()
        assert not bucket.exists(key)
        assert collect_garbage(store, open_artifact_store(s3), [html.sha256]) == []
    finally:
        store.close()


def test_cli_explains_a_missing_filesystem_package(settings: Settings, project: Path) -> None:
    env = {**os.environ, "JUPYTER_MLOPS_ARTIFACT_ROOT": "nosuchfs://bucket/prefix"}
    result = subprocess.run(
        ["jupyter", "mlops", "run", str(project / "notebooks/trivial.ipynb")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "nosuchfs" in result.stderr and "Traceback" not in result.stderr


def test_the_collector_waits_for_a_writer_between_put_and_row(db_url: str, tmp_path: Path) -> None:
    """The store's blob lock, on SQLite and PostgreSQL: a writer that has put a blob but
    not yet inserted its row keeps the collector from removing that blob."""
    store = RunStore(db_url)
    blobs = ArtifactStore(tmp_path / "blobs")
    source = tmp_path / "model.pt"
    source.write_bytes(b"weights")
    try:
        with store.blob_lock(exclusive=False):
            digest, _ = blobs.put_file(source)  # no row yet: the collector would take it
            collected: list[list[str]] = []
            collector = threading.Thread(
                target=lambda: collected.append(collect_garbage(store, blobs, [digest]))
            )
            collector.start()
            collector.join(timeout=1.0)
            assert collector.is_alive() and not collected  # waiting for the writer
            assert blobs.exists(digest)
        collector.join(timeout=30)
        assert collected == [[digest]]  # no row was inserted: now it goes
        assert not blobs.exists(digest)
    finally:
        store.close()
