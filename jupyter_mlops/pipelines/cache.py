"""The step cache key: a hash of what determines a step's result.

* the **code**: the snapshot tree minus the pipeline's other notebooks and the pipeline
  file itself (the step's notebook, and every module and data file of the repository it
  can import or read; a change to a sibling notebook does not invalidate it, a change to
  a shared ``utils.py`` does);
* the **effective parameters**, after references are resolved (a seed the runner draws
  is not part of it: give ``seed`` as a parameter to make results repeatable);
* the **inputs**: content hashes of the upstream artifacts and models the step reads and
  of the datasets its ``# mlops: dataset`` parameters name (:func:`step_input_hashes`;
  the datasets it reads with ``use_dataset`` are checked against the cached run's
  recorded inputs instead, see :mod:`.step_datasets`);
* the **kernel** name and its **package set** (names and versions of the distributions
  the kernel's interpreter sees).
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from ..snapshot.plumbing import git_text

KEY_VERSION = 1
"""Bumped when what goes into a key changes, so old keys stop matching."""

_LIST_PACKAGES = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted({(d.metadata['Name'] or '').lower(): d.version "
    "for d in m.distributions()}.items())))"
)


def tree_entries(git_dir: str, commit: str) -> list[tuple[str, str]]:
    """(path, blob sha) of every file of the commit (one ``ls-tree`` per pipeline run)."""
    out = git_text(["--git-dir", git_dir, "ls-tree", "-r", "-z", commit], cwd=git_dir)
    entries = []
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            entries.append((path, meta.split()[2]))
    return entries


def code_digest(entries: list[tuple[str, str]], notebook: str, pipeline_file: str) -> str:
    """Hash of the tree a step can see: all files except other notebooks and the pipeline
    file (its parameters enter the key resolved, not as text)."""
    h = hashlib.sha256()
    for path, blob in sorted(entries):
        if path == pipeline_file or (path.endswith(".ipynb") and path != notebook):
            continue
        h.update(f"{path}\0{blob}\n".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=16)
def package_digest(python: str | None) -> str:
    """Hash of the package set of ``python`` (the kernel's interpreter; None: this one)."""
    if python is None or python == sys.executable:
        import importlib.metadata as md

        listing = sorted(
            {(d.metadata["Name"] or "").lower(): d.version for d in md.distributions()}.items()
        )
        text = json.dumps(listing)
    else:
        proc = subprocess.run(
            [python, "-c", _LIST_PACKAGES], capture_output=True, text=True, timeout=60
        )
        text = proc.stdout if proc.returncode == 0 else f"unknown:{python}"
    return hashlib.sha256(text.encode()).hexdigest()


def kernel_packages(kernel: str) -> str:
    from ..kernels import kernel_python

    try:
        python = kernel_python(kernel)
    except Exception:
        python = None
    return package_digest(python)


def step_input_hashes(
    inputs: Mapping[str, str], datasets: Mapping[str, str] = {}
) -> dict[str, str]:
    """The content hashes of a step's inputs for its key: the upstream artifacts and
    models its references read (``steps.S.KIND.NAME``), and its dataset parameters
    (``datasets.NAME``, from :func:`.step_datasets.parameter_dataset_hashes`). A step
    without dataset parameters keeps the key it had before datasets joined."""
    return dict(sorted({**inputs, **datasets}.items()))


def cache_key(
    *,
    code: str,
    parameters: Mapping[str, Any],
    inputs: Mapping[str, str],
    kernel: str,
    packages: str,
    datasets: Mapping[str, str] = {},
) -> str:
    document = {
        "v": KEY_VERSION,
        "code": code,
        "parameters": parameters,
        "inputs": step_input_hashes(inputs, datasets),
        "kernel": kernel,
        "packages": packages,
    }
    text = json.dumps(document, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
