"""Datasets in the step cache: a step whose data changed must run again.

Two kinds of dataset inputs, known at two different times:

* a parameter the notebook declares ``# mlops: dataset`` names its data before the step
  runs: its content hash joins the step's key (:func:`parameter_dataset_hashes`, through
  :func:`jupyter_mlops.pipelines.cache.step_input_hashes`), so changed data is a
  different key;
* a dataset the notebook reads with ``use_dataset`` is only known once it ran: a cached
  run is reused only while every dataset it recorded that way still has the content it
  had (:meth:`Fingerprints.changed_input`); otherwise the next older run with the key is
  tried, and the step runs when none fits.

Fingerprints go through the datasets' stat cache, so an unchanged file (even a touched
one) costs a ``stat`` and a lookup, not a read; a pass fingerprints each path once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..datasets.fingerprint import DatasetError, default_cache, fingerprint
from ..notebook.inspection import Parameter

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import RunStore

DATASET_INPUT = "datasets."
"""Prefix of a dataset parameter's entry in a step's inputs (``datasets.NAME``)."""
MISSING = "missing:"
"""An input hash that stands for data that could not be fingerprinted (the step runs,
and its runner says what is missing)."""


@dataclass(frozen=True)
class DatasetChange:
    """A dataset whose content is not what an earlier run of the step read."""

    name: str
    uri: str
    was: str
    now: str

    def describe(self) -> str:
        now = "is missing" if self.now.startswith(MISSING) else f"is now {self.now[:12]}"
        return f"dataset {self.name!r} ({self.uri}) changed: was {self.was[:12]}, {now}"


@dataclass
class Fingerprints:
    """Content hashes of datasets, each path fingerprinted once per orchestration pass."""

    settings: Settings
    _seen: dict[str, str] = field(default_factory=dict)

    def sha256(self, uri: str, base_dir: Path | None = None) -> str:
        """The content hash of ``uri`` (relative to ``base_dir``), or ``missing:...``."""
        where = uri if "://" in uri or base_dir is None else os.path.join(base_dir, uri)
        known = self._seen.get(where)
        if known is None:
            try:
                known = fingerprint(
                    where, cache=default_cache(self.settings.cache_dir), with_stats=False
                ).sha256
            except (OSError, DatasetError) as err:
                known = f"{MISSING}{err}"
            self._seen[where] = known
        return known

    def changed_input(self, store: RunStore, run_id: str) -> DatasetChange | None:
        """The first dataset ``run_id`` recorded with ``use_dataset`` whose content changed
        since (None: all as they were, so the run's outputs still hold)."""
        for record in store.run_inputs(run_id):
            if record.source != "use_dataset" or record.kind != "dataset":
                continue
            now = self.sha256(record.uri)
            if now != record.sha256:
                return DatasetChange(record.name, record.uri, record.sha256, now)
        return None

    def clear(self) -> None:
        """Forget this pass's fingerprints (data may change between passes)."""
        self._seen.clear()


def dataset_values(declared: Iterable[Parameter], parameters: Mapping[str, Any]) -> dict[str, str]:
    """{name: path or URL} of the parameters declared ``# mlops: dataset``: the step's
    value where it has one, else the notebook's default; empty, ``None``, secret and
    non-text values are left out (the runner records or refuses those)."""
    out: dict[str, str] = {}
    for param in declared:
        if not param.dataset:
            continue
        value = parameters.get(param.name, param.default)
        if isinstance(value, str) and value:
            out[param.name] = value
    return out


def parameter_dataset_hashes(
    fingerprints: Fingerprints,
    declared: Iterable[Parameter],
    parameters: Mapping[str, Any],
    base_dir: Path,
    skip_under: Path | None = None,
) -> dict[str, str]:
    """``{"datasets.NAME": sha256}`` for a step's dataset parameters, relative paths taken
    against ``base_dir`` (the notebook's directory). Paths under ``skip_under`` (the
    content-addressed upstream artifacts, already in the key by hash) are left out."""
    out: dict[str, str] = {}
    for name, value in dataset_values(declared, parameters).items():
        if skip_under is not None and value.startswith(str(skip_under) + os.sep):
            continue
        out[DATASET_INPUT + name] = fingerprints.sha256(value, base_dir)
    return out


def changed_parameter_dataset(
    store: RunStore, run_id: str | None, hashes: Mapping[str, str]
) -> DatasetChange | None:
    """Which dataset parameter differs from what ``run_id`` (the step's previous run)
    recorded: why a step missed the cache, said cheaply from the recorded inputs."""
    if run_id is None or not hashes:
        return None
    recorded = {r.name: r for r in store.run_inputs(run_id) if r.source == "parameter"}
    for key, now in sorted(hashes.items()):
        name = key[len(DATASET_INPUT) :]
        before = recorded.get(name)
        if before is not None and before.sha256 != now:
            return DatasetChange(name, before.uri, before.sha256, now)
    return None
