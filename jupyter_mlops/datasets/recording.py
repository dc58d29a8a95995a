"""Recording datasets on a run: by ``use_dataset`` in the kernel, and by the runner for
parameters declared ``# mlops: dataset`` before the kernel starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .fingerprint import DatasetFingerprint, default_cache, fingerprint

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import RunStore


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
) -> DatasetFingerprint:
    """Fingerprint ``uri`` and record it as an input of ``run_id``; nothing is written
    when it cannot be fingerprinted (the error propagates)."""
    from ..store.inputs import input_record

    found = fingerprint_with(settings, uri, base_dir)
    store.add_run_input(input_record(run_id, found, name=name, source=source))
    return found


def dataset_parameters(notebook: Path, values: Mapping[str, Any]) -> dict[str, Any]:
    """{name: effective value} of the parameters the notebook declares ``# mlops:
    dataset``: the run's value where it has one, else the default in the cell."""
    from ..notebook.inspection import inspect_parameters
    from ..notebook.reading import read_notebook

    declared = [p for p in inspect_parameters(read_notebook(notebook)) if p.dataset]
    return {p.name: values.get(p.name, p.default) for p in declared}


def record_parameter_datasets(
    store: RunStore, settings: Settings, run_id: str, notebook: Path, values: Mapping[str, Any]
) -> list[DatasetFingerprint]:
    """Record every dataset parameter's input, relative paths against the notebook's
    directory (the kernel's working directory). A parameter whose value is empty or
    ``None`` records nothing; one that is not a path or URL is refused."""
    from ..store.inputs import input_record

    records, found = [], []
    for name, value in dataset_parameters(notebook, values).items():
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise TypeError(
                f"parameter {name!r} is declared '# mlops: dataset' but its value "
                f"{value!r} is not a path or URL"
            )
        fp = fingerprint_with(settings, value, notebook.parent)
        records.append(input_record(run_id, fp, name=name, source="parameter"))
        found.append(fp)
    store.add_run_inputs(records)
    return found
