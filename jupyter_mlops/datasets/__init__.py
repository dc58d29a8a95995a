"""Datasets as recorded inputs: content hashes (cached by ``stat``) and table statistics.

* :mod:`.hashing`: a file streamed through sha256; directories and globs as manifests;
* :mod:`.statcache`: the persistent (path, size, mtime, inode) -> hash cache;
* :mod:`.stats`: CSV and Parquet summaries with pyarrow (the shape drift compares);
* :mod:`.fingerprint`: :func:`fingerprint` of a path, glob or fsspec URL;
* :mod:`.recording`: what the runner and ``use_dataset`` record on a run.
"""

from __future__ import annotations

from .fingerprint import DatasetError, DatasetFingerprint, fingerprint
from .stats import table_stats

__all__ = ["DatasetError", "DatasetFingerprint", "fingerprint", "table_stats"]
