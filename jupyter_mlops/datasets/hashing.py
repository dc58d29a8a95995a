"""Content hashes of local data: one file streamed, a directory or a glob as a manifest.

A file is read in :data:`CHUNK` pieces into one reused buffer (``readinto``), so the
throughput is the hash's own (OpenSSL's sha256 releases the GIL) rather than Python's
allocations: about what ``sha256sum`` does. Several files are one *manifest*: the text
``"<sha256>  <relative/posix/path>\\n"`` per file in sorted path order (``sha256sum``'s
own line format), hashed again. Its digest changes when any file's bytes, name or
presence change, and not when files are merely touched or listed in another order.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

CHUNK = 4 * 1024 * 1024
"""Bytes read per ``readinto`` (large enough that system calls cost nothing)."""

FileHasher = Callable[[Path, os.stat_result], str]
"""How one file of a manifest is hashed (the stat cache passes itself in here)."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 (hex) of one file's bytes, read in :data:`CHUNK` pieces."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while True:
            n = handle.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()


def manifest_text(entries: Iterable[tuple[str, str]]) -> str:
    """The manifest of (relative posix path, sha256) entries, in sorted path order."""
    return "".join(f"{sha}  {rel}\n" for rel, sha in sorted(entries))


def sha256_manifest(entries: Iterable[tuple[str, str]]) -> str:
    return hashlib.sha256(manifest_text(entries).encode("utf-8")).hexdigest()


def files_under(directory: Path) -> list[Path]:
    """Every regular file below ``directory`` (symlinks to files followed), sorted."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory, followlinks=False):
        dirs.sort()
        for name in files:
            path = Path(root) / name
            if path.is_file():
                found.append(path)
    return sorted(found)
