"""What identifies a dataset's content: :func:`fingerprint` of a file, a directory, a glob
or an fsspec URL.

Local paths
    A relative path is taken against ``base_dir`` (default: the working directory); the
    recorded ``uri`` is the absolute path (a ``file://`` URL becomes its path). A path
    that does not exist but has ``*``, ``?`` or ``[`` in it is a glob: the matched files,
    relative to the pattern's first directory without wildcards, hashed as a manifest
    (:mod:`.hashing`). Files are hashed through the stat cache (:mod:`.statcache`).
Object stores and other fsspec URLs (``s3://``, ``gs://``, ``memory://`` ...)
    Read through fsspec; ``etag`` and ``version_id`` are recorded when the filesystem
    reports them, and the hash is cached under them (or the modification time), so an
    unchanged object is not downloaded again. ``local_path`` is the URL itself: pass it
    to pandas, pyarrow or ``fsspec.open`` (no copy is made).
"""

from __future__ import annotations

import glob as globbing
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .hashing import CHUNK, files_under, sha256_file, sha256_manifest
from .statcache import CACHE_FILE, StatCache, now_ns
from .stats import DEFAULT_SAMPLE_BYTES, DEFAULT_SAMPLE_ROWS, table_format, table_stats

STATS_VERSION = 1
"""Bump when the stats shape changes, so cached summaries of the old shape are unused."""
_MAGIC = set("*?[")


class DatasetError(ValueError):
    """A dataset that cannot be fingerprinted (missing, empty glob, unreadable)."""


@dataclass(frozen=True)
class DatasetFingerprint:
    """A dataset's identity (no run): the fields :class:`RunInputRecord` stores."""

    uri: str
    sha256: str
    size: int
    file_count: int
    mtime: float | None
    etag: str | None = None
    version_id: str | None = None
    stats: dict[str, Any] | None = None
    local_path: str = ""
    kind: str = "dataset"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_caches: dict[Path, StatCache] = {}


def default_cache(cache_dir: Path | None = None) -> StatCache:
    """The stat cache of this data directory (one per process and directory)."""
    if cache_dir is None:
        from ..config import Settings

        cache_dir = Settings.from_env().cache_dir
    path = cache_dir / CACHE_FILE
    cache = _caches.get(path)
    if cache is None:
        cache = _caches[path] = StatCache(path)
    return cache


def is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def fingerprint(
    uri: str | os.PathLike[str],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    cache: StatCache | None = None,
    with_stats: bool = True,
    sample_bytes: int = DEFAULT_SAMPLE_BYTES,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
) -> DatasetFingerprint:
    """Hash ``uri`` (see the module doc); tabular single files also get :func:`table_stats`.

    Raises ``FileNotFoundError`` for a path or object that does not exist and
    :class:`DatasetError` for anything else wrong (a glob matching nothing, an object
    that cannot be read), each naming the absolute path or URL.
    """
    text = os.fspath(uri)
    if not text:
        raise DatasetError("a dataset needs a path or URL, got an empty string")
    cache = cache if cache is not None else default_cache()
    sampling = {"sample_bytes": sample_bytes, "sample_rows": sample_rows}
    if is_remote(text):
        return _remote(text, cache, with_stats, sampling)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return _local(
        Path(text), Path(base_dir) if base_dir else Path.cwd(), cache, with_stats, sampling
    )


# -- local ------------------------------------------------------------------------------


def cached_file_hash(path: Path, st: os.stat_result, cache: StatCache) -> str:
    known = cache.file_hash(path, st)
    if known is not None:
        return known
    started = now_ns()
    sha = sha256_file(path)
    cache.remember_file(path, st, sha, started)
    return sha


def _local(
    path: Path, base: Path, cache: StatCache, with_stats: bool, sampling: dict[str, int]
) -> DatasetFingerprint:
    path = path.expanduser()
    absolute = Path(os.path.abspath(base / path))
    if absolute.is_file():
        st = absolute.stat()
        sha = cached_file_hash(absolute, st, cache)
        stats = _stats_of(absolute, sha, st.st_size, cache, with_stats, sampling, None)
        return DatasetFingerprint(
            str(absolute), sha, st.st_size, 1, st.st_mtime, stats=stats, local_path=str(absolute)
        )
    if absolute.is_dir():
        files, root = files_under(absolute), absolute
    elif _MAGIC & set(str(path)):
        root = _glob_root(absolute)
        files = sorted(
            Path(p) for p in globbing.glob(str(absolute), recursive=True) if Path(p).is_file()
        )
        if not files:
            raise DatasetError(f"the glob {absolute} matches no file")
    elif absolute.exists():
        raise DatasetError(f"{absolute} is neither a file nor a directory")
    else:
        raise FileNotFoundError(f"dataset not found: no such file or directory: {absolute}")
    entries, size, mtime = [], 0, 0.0
    for file in files:
        st = file.stat()
        entries.append((file.relative_to(root).as_posix(), cached_file_hash(file, st, cache)))
        size += st.st_size
        mtime = max(mtime, st.st_mtime)
    return DatasetFingerprint(
        str(absolute),
        sha256_manifest(entries),
        size,
        len(files),
        mtime if files else None,
        local_path=str(absolute),
    )


def _glob_root(pattern: Path) -> Path:
    """The pattern's longest leading directory without wildcards."""
    parts: list[str] = []
    for part in pattern.parts:
        if _MAGIC & set(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path("/")


def _stats_of(
    path: Any,
    sha: str,
    size: int,
    cache: StatCache,
    with_stats: bool,
    sampling: dict[str, int],
    filesystem: Any,
) -> dict[str, Any] | None:
    if not with_stats or table_format(str(path)) is None:
        return None
    config = json.dumps({"v": STATS_VERSION, **sampling}, sort_keys=True)
    known = cache.stats(sha, config)
    if known is not None:
        return known
    try:
        stats = table_stats(path, filesystem=filesystem, size=size, **sampling)
    except ValueError as err:  # a .csv that is not CSV: hashed and recorded, no summary
        return {"error": str(err)}
    if stats is not None:
        cache.remember_stats(sha, config, stats)
    return stats


# -- fsspec URLs ------------------------------------------------------------------------


def _object_facts(info: dict[str, Any]) -> tuple[str | None, str | None, float | None]:
    """(etag, version id, modification time) of an fsspec ``info`` dict, where given."""
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash")
    version = info.get("VersionId") or info.get("version_id") or info.get("generation")
    when = next(
        (
            info[k]
            for k in ("LastModified", "last_modified", "mtime", "updated", "created")
            if info.get(k)
        ),
        None,
    )
    mtime: float | None = None
    if isinstance(when, datetime):
        mtime = when.timestamp()
    elif isinstance(when, (int, float)):
        mtime = float(when)
    elif isinstance(when, str):
        try:
            mtime = datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
        except ValueError:
            mtime = None
    return (
        str(etag).strip('"') if etag else None,
        str(version) if version not in (None, "null") else None,
        mtime,
    )


def _remote_file_hash(fs: Any, url: str, path: str, info: dict[str, Any], cache: StatCache) -> str:
    etag, version, mtime = _object_facts(info)
    identity = (
        json.dumps([info.get("size"), etag, version, mtime]) if (etag or version or mtime) else None
    )
    if identity is not None:
        known = cache.remote_hash(url, identity)
        if known is not None:
            return known
    import hashlib

    digest = hashlib.sha256()
    with fs.open(path, "rb", block_size=CHUNK) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    sha = digest.hexdigest()
    if identity is not None:
        cache.remember_remote(url, identity, sha)
    return sha


def _remote(
    uri: str, cache: StatCache, with_stats: bool, sampling: dict[str, int]
) -> DatasetFingerprint:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(uri)
    except (ImportError, ValueError) as err:
        raise DatasetError(f"{uri} cannot be opened: {err}") from err
    protocol = uri.split("://", 1)[0]
    try:
        if _MAGIC & set(path):
            infos = {p: fs.info(p) for p in sorted(fs.glob(path)) if fs.isfile(p)}
            if not infos:
                raise DatasetError(f"the glob {uri} matches no object")
            root = _glob_root(Path(path)).as_posix()
        else:
            info = fs.info(path)
            if info.get("type") != "directory":
                return _remote_single(fs, uri, path, info, cache, with_stats, sampling)
            infos = dict(sorted(fs.find(path, detail=True).items()))
            root = path
    except FileNotFoundError as err:
        raise FileNotFoundError(f"dataset not found: no such object or directory: {uri}") from err
    except DatasetError:
        raise
    except Exception as err:  # credentials, network, permissions: say which URL
        raise DatasetError(f"{uri} cannot be read: {type(err).__name__}: {err}") from err
    entries, size, mtime = [], 0, None
    for name, info in infos.items():
        rel = name[len(root) :].lstrip("/") if name.startswith(root) else name
        entries.append((rel, _remote_file_hash(fs, f"{protocol}://{name}", name, info, cache)))
        size += int(info.get("size") or 0)
        when = _object_facts(info)[2]
        mtime = when if mtime is None or (when is not None and when > mtime) else mtime
    return DatasetFingerprint(
        uri, sha256_manifest(entries), size, len(entries), mtime, local_path=uri
    )


def _remote_single(
    fs: Any,
    uri: str,
    path: str,
    info: dict[str, Any],
    cache: StatCache,
    with_stats: bool,
    sampling: dict[str, int],
) -> DatasetFingerprint:
    etag, version, mtime = _object_facts(info)
    sha = _remote_file_hash(fs, uri, path, info, cache)
    size = int(info.get("size") or 0)
    stats = _stats_of(path, sha, size, cache, with_stats, sampling, fs)
    return DatasetFingerprint(uri, sha, size, 1, mtime, etag, version, stats, local_path=uri)
