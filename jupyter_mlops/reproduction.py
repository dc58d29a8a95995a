"""Reproduce a run: the same commit, parameters (defaults too), seed, kernel, GPUs, timeout
and tags under a new run id; secret parameters given again; for ``--verify``, the inputs
checked first and a verdict requested from the reproduction's runner.

A part of :class:`~jupyter_mlops.jobs.JobService` (``jobs`` below), kept in its own module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from .artifacts import open_artifact_store
from .job_records import SNAPSHOT_COLUMNS, RunStateError
from .masking import SECRET_PARAM_TYPE, SecretParameterMissing, secret_values_from_env
from .store import Run, RunStore
from .store.artifacts import LOGGED_PARAM_TYPE, injected_params
from .store.runs import new_run, new_run_id

if TYPE_CHECKING:
    from .verify.service import PreparedVerification, VerifyOptions


def reproduce_run(
    jobs: Any,
    run_id: str,
    *,
    source: str,
    parameters: Mapping[str, Any],
    raw_parameters: Mapping[str, str],
    verify: VerifyOptions | None,
    submitted_by: str | None,
) -> Any:
    """Same commit, parameters, seed, kernel, GPUs, timeout and tags; new run id.

    ``verify``: check every recorded input first (refused with
    :class:`~jupyter_mlops.verify.InputsChanged` before anything is written when one
    changed, unless allowed), and have the reproduction's runner record a verdict
    against the original when it ends (see :mod:`jupyter_mlops.verify`).

    Secret parameters were never stored: their values are taken from ``parameters``
    (typed, REST) or ``raw_parameters`` (CLI strings), else from their
    ``JUPYTER_MLOPS_SECRET_<NAME>`` variables here; without a value the reproduction
    is refused (:class:`~jupyter_mlops.masking.SecretParameterMissing`) before
    anything is written."""
    from .snapshot.create import Snapshot
    from .snapshot.refs import link_run_ref

    store, settings = jobs.store, jobs.settings
    original = store.require_run(run_id)
    if not original.commit_sha:
        raise RunStateError(
            f"run {run_id} was logged interactively and has no snapshot to reproduce; "
            "run the notebook as a job to make it reproducible"
        )
    secrets = secrets_again(original, parameters, raw_parameters)
    jobs._check_gpus(original.gpus)  # this machine's GPUs, checked first
    prepared = None
    if verify is not None:
        from .verify.service import prepare_verification

        blobs = open_artifact_store(settings)
        prepared = prepare_verification(store, blobs, original, verify)
    new_id = new_run_id()
    ref = link_run_ref(original.git_dir, original.commit_sha, new_id)
    run = new_run(
        new_id,
        source=source,
        backend=jobs.backend.name,
        reproduced_from=original.id,
        submitted_by=submitted_by,
        snapshot_ref=ref,
        cells_total=original.cells_total,
        **{
            name: getattr(original, name)
            for name in (
                "notebook_path",
                "notebook_abspath",
                "kernel_name",
                "gpus",
                "timeout_s",
                "seed",
                *(SNAPSHOT_COLUMNS.get(f.name, f.name) for f in fields(Snapshot)),
            )
            if name != "snapshot_ref"  # the new run's own ref, above
        },
    )
    params = {  # the job's parameters, defaults too; values the notebook logged are results
        p.name: (json.loads(p.value_json), p.type_name, p.overridden)
        for p in original.params
        if p.type_name != LOGGED_PARAM_TYPE
    }
    return jobs._store_and_launch(
        run,
        params=params,
        tags=[t.tag for t in original.tags],
        secrets=secrets,
        before_launch=None if prepared is None else verification_request(store, prepared),
    )


def verification_request(store: RunStore, prepared: PreparedVerification) -> Callable[[Run], None]:
    """Record the verification request with the new run, before its runner starts."""
    from .verify.service import record_request

    return lambda run: record_request(store, run.id, prepared)


def secrets_again(
    original: Run, typed: Mapping[str, Any], raw: Mapping[str, str]
) -> dict[str, Any]:
    """The values of ``original``'s secret parameters for its reproduction."""
    from .notebook.coercion import ParameterError, parameter_values

    names = [p.name for p in injected_params(original) if p.type_name == SECRET_PARAM_TYPE]
    extra = sorted((set(typed) | set(raw)) - set(names))
    if extra:
        listed = ", ".join(names) or "none"
        raise ParameterError(
            f"reproduce takes only the run's secret parameters ({listed}), not "
            f"{', '.join(extra)}: the other parameters are the original run's; to change "
            "them, submit a new run",
            dict.fromkeys(extra, "not a secret parameter of the run"),
        )
    if not names:
        return {}
    from_env = secret_values_from_env([n for n in names if n not in typed and n not in raw])
    missing = [n for n in names if n not in typed and n not in raw and n not in from_env]
    if missing:
        raise SecretParameterMissing(original.id, missing)
    declared = declared_parameters(original, names)
    return parameter_values(declared, typed, {**from_env, **raw})


def declared_parameters(run: Run, names: Sequence[str]) -> list[Any]:
    """The notebook's parameters at the run's commit (to convert a value given again as
    text to the declared type); plain strings where the snapshot cannot be read here."""
    from .notebook.inspection import Parameter, inspect_parameters
    from .snapshot.plumbing import SnapshotError
    from .snapshot.reading import read_file_at

    try:
        text = read_file_at(run.git_dir, run.commit_sha, run.notebook_relpath)
        declared = inspect_parameters(json.loads(text))
    except (SnapshotError, ValueError, OSError):
        declared = []
    known = {p.name for p in declared}
    return declared + [
        Parameter(name, "str", "", '""', None, "") for name in names if name not in known
    ]
