"""Content-addressed artifact storage: bytes live under their sha256, once.

The same model or notebook logged by many runs is stored once; rows in the
``artifacts`` table point at the digest. Files are hashed and copied in chunks, so a
multi-gigabyte model never has to fit in memory.

Two kinds of artifact root, chosen by :func:`open_artifact_store` from
``c.MLOps.artifact_root``:

* a directory (the default, ``<data_dir>/artifacts``): :class:`ArtifactStore`, plain
  files, atomic renames;
* an fsspec URL (``s3://bucket/prefix``, ``gs://...``, ``abfs://...``, ``file:///...``):
  :class:`FsspecArtifactStore`, what runs on several machines (Dask workers) share. The
  filesystem's own package must be installed (``s3fs``, ``gcsfs``, ``adlfs``); its
  options come from the usual places (``AWS_*`` variables, or fsspec's
  ``FSSPEC_<PROTOCOL>_<OPTION>`` variables such as ``FSSPEC_S3_ENDPOINT_URL``).
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

if TYPE_CHECKING:
    from .config import Settings
    from .store import Artifact

CHUNK = 1 << 20

CONTENT_TYPES = {
    ".ipynb": "application/x-ipynb+json",
    ".html": "text/html; charset=utf-8",
    ".pt": "application/octet-stream",
    ".log": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv",
    ".tar": "application/x-tar",
}


def guess_content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def artifact_row(
    run_id: str, name: str, kind: str, sha256: str, size: int, meta: dict[str, Any] | None = None
) -> Artifact:
    """The ``artifacts`` row of a stored blob: content type from the name, created now."""
    from .store import Artifact
    from .store.types import utcnow

    return Artifact(
        run_id=run_id,
        name=name,
        kind=kind,
        sha256=sha256,
        size=size,
        content_type=guess_content_type(name),
        created_at=utcnow(),
        meta=meta,
    )


def is_url(root: str) -> bool:
    """Whether an artifact root names an fsspec filesystem rather than a directory."""
    return "://" in root


def check_digest(sha256: str) -> str:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return sha256


def hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BlobStore(Protocol):
    """What runs, the server and the CLI need of an artifact root."""

    root: str | Path

    def put_file(self, source: Path) -> tuple[str, int]: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def exists(self, sha256: str) -> bool: ...
    def remove(self, sha256: str) -> None: ...
    def copy_to(self, sha256: str, dest: Path) -> None: ...


def open_artifact_store(settings: Settings) -> BlobStore:
    """The artifact store of ``settings``: a directory, or an fsspec URL.

    Raises ``ValueError`` saying what to fix for a URL fsspec cannot open (an unknown
    protocol, or its package not installed).
    """
    root = settings.artifact_root
    if root and is_url(root):
        try:
            return FsspecArtifactStore(root)
        except ImportError as err:  # fsspec knows the protocol; its package is missing
            raise ValueError(f"artifact root {root!r}: {err}") from None
        except ValueError as err:
            raise ValueError(
                f"artifact root {root!r}: {err} (use a directory, or a URL of an "
                "installed fsspec filesystem such as s3://, gs://, abfs:// or file://)"
            ) from None
    return ArtifactStore(settings.resolved_artifact_root)


class ArtifactStore:
    """A local directory of blobs named by digest (``ab/cdef...``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:]

    def put_file(self, source: Path) -> tuple[str, int]:
        """Store a file; returns (sha256, size). Hashes while copying: one read."""
        with Path(source).open("rb") as stream:
            return self.put_stream(stream)

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            sha = digest.hexdigest()
            target = self.path_for(sha)
            if target.exists():
                os.unlink(tmp_name)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, target)  # atomic: readers never see half a blob
            return sha, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def remove(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)

    def copy_to(self, sha256: str, dest: Path) -> None:
        with self.open(sha256) as src, Path(dest).open("wb") as out:
            shutil.copyfileobj(src, out, CHUNK)


class FsspecArtifactStore:
    """Blobs in an fsspec filesystem, under ``<url>/ab/cdef...`` like the directory store.

    A blob is uploaded under a unique temporary name and then moved to its digest's name,
    so nobody reads half a blob (on object stores the move is a server-side copy).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        from fsspec.core import url_to_fs

        self.root = url.rstrip("/")
        self.fs, self.base = url_to_fs(self.root, **storage_options)
        self.base = self.base.rstrip("/")

    def key_for(self, sha256: str) -> str:
        check_digest(sha256)
        return f"{self.base}/{sha256[:2]}/{sha256[2:]}"

    def put_file(self, source: Path) -> tuple[str, int]:
        """Store a file; returns (sha256, size). Hashed locally first, so a blob that is
        already there (the same model logged again) is not uploaded twice."""
        sha, size = hash_file(source)
        target = self.key_for(sha)
        if not self.fs.exists(target):
            incoming = f"{self.base}/.incoming/{uuid.uuid4().hex}"
            # directories matter to file:// and the like; object stores ignore them
            self.fs.makedirs(f"{self.base}/.incoming", exist_ok=True)
            self.fs.put_file(str(source), incoming)
            try:
                self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                self.fs.mv(incoming, target)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.fs.rm(incoming)
                raise
        return sha, size

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        with tempfile.NamedTemporaryFile(prefix="mlops-blob-") as spool:
            shutil.copyfileobj(stream, spool, CHUNK)
            spool.flush()
            return self.put_file(Path(spool.name))

    def open(self, sha256: str) -> BinaryIO:
        key = self.key_for(sha256)
        self.fs.invalidate_cache(key)  # another process may have stored it since
        stream: BinaryIO = self.fs.open(key, "rb")
        return stream

    def exists(self, sha256: str) -> bool:
        key = self.key_for(sha256)
        self.fs.invalidate_cache(key)
        return bool(self.fs.exists(key))

    def remove(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.key_for(sha256))

    def copy_to(self, sha256: str, dest: Path) -> None:
        self.fs.get_file(self.key_for(sha256), str(dest))
