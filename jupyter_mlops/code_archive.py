"""Ship a run's code to machines that cannot read its git repository.

A run executes its git snapshot, which the runner normally checks out from the
notebook's repository. A Dask worker on another machine may not see that repository,
so a Dask run also gets its snapshot as a tar archive in the artifact store (which the
cluster shares: ``c.MLOps.artifact_root``, e.g. ``s3://...``): the run's
``snapshot.tar`` artifact. A runner that cannot read the repository extracts it instead.

The archive is what :func:`jupyter_mlops.snapshot.reading.materialize` writes (checkout filters,
modes and symlinks as in a local run), packed deterministically (sorted names, fixed
owners and times), so runs of the same commit share one blob.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .artifacts import BlobStore
    from .store import Run, RunStore

SNAPSHOT_ARCHIVE = "snapshot.tar"
ARCHIVE_KIND = "snapshot"


def build_archive(git_dir: str, commit: str, target: Path) -> None:
    """Write the commit's files, as a run would see them, to the tar file ``target``."""
    from .snapshot.reading import materialize

    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-archive-") as tmp:
        tree = Path(tmp) / "tree"
        materialize(git_dir, commit, tree)
        with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(tree.rglob("*")):
                info = tar.gettarinfo(str(path), arcname=path.relative_to(tree).as_posix())
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                if info.isfile():
                    with path.open("rb") as stream:
                        tar.addfile(info, stream)
                else:
                    tar.addfile(info)


def extract_archive(archive: Path, dest: Path) -> None:
    """Unpack an archive made by :func:`build_archive` into ``dest``. The ``data`` filter
    refuses absolute paths, ``..`` and links out of ``dest``, whatever the archive says."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r") as tar:
        tar.extractall(dest, filter="data")


def store_archive(run: Run, store: RunStore, blobs: BlobStore) -> None:
    """Build the run's archive and record it as its ``snapshot.tar`` artifact."""
    from .artifacts import artifact_row

    fd, name = tempfile.mkstemp(prefix="jupyter-mlops-", suffix=".tar")
    os.close(fd)
    try:
        build_archive(run.git_dir, run.commit_sha, Path(name))
        with store.blob_lock(exclusive=False):  # see jupyter_mlops.artifact_gc
            sha, size = blobs.put_file(Path(name))
            store.add_artifact(artifact_row(run.id, SNAPSHOT_ARCHIVE, ARCHIVE_KIND, sha, size))
    finally:
        os.unlink(name)


def fetch_archive(run: Run, store: RunStore, blobs: BlobStore, dest: Path) -> bool:
    """Extract the run's archive into ``dest``; False when the run has none."""
    artifact = store.get_artifact(run.id, SNAPSHOT_ARCHIVE)
    if artifact is None:
        return False
    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-fetch-") as tmp:
        local = Path(tmp) / SNAPSHOT_ARCHIVE
        blobs.copy_to(artifact.sha256, local)
        extract_archive(local, dest)
    return True
