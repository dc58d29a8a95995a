"""Recording datasets on a run: by ``use_dataset`` in the kernel, and by the runner for
parameters declared ``# mlops: dataset`` before the kernel starts."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .fingerprint import DatasetFingerprint, default_cache, fingerprint

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Run, RunStore

_DATASET_MARK = re.compile(rb"mlops:\s*dataset", re.IGNORECASE)
"""The marker's bytes in a notebook file (a quick test before the notebook is parsed)."""

SnapshotMap = tuple[Path, str]
"""(the run's materialized snapshot directory, the worktree it was taken from)."""


def snapshot_map(run: Run) -> SnapshotMap | None:
    """Where a job's files are read from and the worktree they stand for (None for an
    interactive run, which reads the worktree itself)."""
    if not run.run_dir or not run.worktree or not run.commit_sha:
        return None
    from ..runner import SOURCE_DIR

    return Path(run.run_dir) / SOURCE_DIR, run.worktree


def stable_uri(found: DatasetFingerprint, mapping: SnapshotMap | None) -> DatasetFingerprint:
    """A path inside the run's snapshot copy is recorded as the same path in the worktree,
    so every run of a project names a committed data file alike (``local_path`` stays
    the copy the run reads)."""
    if mapping is None:
        return found
    snapshot, worktree = mapping
    prefix = str(snapshot).rstrip(os.sep) + os.sep
    if not found.uri.startswith(prefix):
        return found
    return dataclasses.replace(found, uri=str(Path(worktree) / found.uri[len(prefix) :]))


def fingerprint_with(
    settings: Settings, uri: str | os.PathLike[str], base_dir: Path | None = None
) -> DatasetFingerprint:
    """:func:`fingerprint` with this data directory's cache and sampling settings."""
    return fingerprint(
        uri,
        base_dir=base_dir,
        cache=default_cache(settings.cache_dir),
        sample_bytes=settings.dataset_stats_sample_bytes,
        sample_rows=settings.dataset_stats_sample_rows,
    )


def record_dataset(
    store: RunStore,
    settings: Settings,
    run_id: str,
    uri: str | os.PathLike[str],
    *,
    name: str | None = None,
    source: str = "use_dataset",
    base_dir: Path | None = None,
    mapping: SnapshotMap | None = None,
) -> DatasetFingerprint:
    """Fingerprint ``uri`` and record it as an input of ``run_id``; nothing is written
    when it cannot be fingerprinted (the error propagates)."""
    from ..store.inputs import input_record

    found = stable_uri(fingerprint_with(settings, uri, base_dir), mapping)
    store.add_run_input(input_record(run_id, found, name=name, source=source))
    return found


def dataset_parameters(notebook: Path, values: Mapping[str, Any]) -> dict[str, Any]:
    """{name: effective value} of the parameters the notebook declares ``# mlops:
    dataset``: the run's value where it has one, else the default in the cell."""
    from ..notebook.inspection import inspect_parameters
    from ..notebook.reading import read_notebook

    if not _DATASET_MARK.search(notebook.read_bytes()):
        return {}  # the common case, decided without parsing the notebook
    declared = [p for p in inspect_parameters(read_notebook(notebook)) if p.dataset]
    return {p.name: values.get(p.name, p.default) for p in declared}


def record_parameter_datasets(
    store: RunStore, settings: Settings, run: Run, notebook: Path, values: Mapping[str, Any]
) -> list[DatasetFingerprint]:
    """Record every dataset parameter's input, relative paths against the notebook's
    directory (the kernel's working directory). A parameter whose value is empty or
    ``None`` records nothing, a secret one a warning; one that is not a path or URL is
    refused."""
    from ..masking import SecretFromEnv
    from ..store.inputs import input_record

    records, found = [], []
    mapping = snapshot_map(run)
    for name, value in dataset_parameters(notebook, values).items():
        if value is None or value == "":
            continue
        if isinstance(value, SecretFromEnv):  # its path is a secret: not written anywhere
            store.add_warning(
                run.id, f"the dataset parameter {name!r} is secret, so it was not recorded"
            )
            continue
        if not isinstance(value, str):
            raise TypeError(
                f"parameter {name!r} is declared '# mlops: dataset' but its value "
                f"{value!r} is not a path or URL"
            )
        fp = stable_uri(fingerprint_with(settings, value, notebook.parent), mapping)
        records.append(input_record(run.id, fp, name=name, source="parameter"))
        found.append(fp)
    store.add_run_inputs(records)
    return found
