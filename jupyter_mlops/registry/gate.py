"""The validation gate: an alias moves to a new version only when a validation notebook,
run as a job, shows it meets the requirements against the version the alias names now.

A promotion has two halves, so no process has to stay alive in between:

1. :func:`start_promotion` checks everything (version, alias, notebook, requirements),
   submits the validation notebook through the job service (same queue, kernels, GPUs)
   with ``model_uri`` set to the candidate's URI and, when the alias names a version, a
   second time for that version with the same parameters and seed; then it records a
   ``promotion_started`` event naming both runs and the holder they were checked against.
2. :func:`finish_promotion`, once both runs have ended, evaluates every requirement and
   either moves the alias by compare-and-set against that holder (``alias_set``) or
   records ``promotion_refused`` with the failing requirements and both values. Whoever
   is alive finishes it: the CLI waiting on it, the server's task or its periodic upkeep,
   any later ``jupyter mlops models`` command. The outcome is written once (the store
   refuses a second one), so two finishers cannot both decide.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..store.registry import AliasMoved, RegistryConflict
from .requirements import evaluate, parse_requirements
from .uris import ModelURI, check_alias

if TYPE_CHECKING:
    from ..jobs import JobService
    from ..store import RunStore
    from ..store.models_registry import RegistryEvent

MODEL_URI_PARAMETER = "model_uri"
VALIDATION_SOURCE = "promotion"
SEED_BOUND = 2**31 - 1


def gate_of(
    store: RunStore, name: str, validate: str | None, require: Sequence[str] | None
) -> tuple[str, list[str], int | None]:
    """(notebook, requirements, seed) to validate with: the ones given, else the model's
    policy; a clear error when neither (or only half) is there."""
    if validate is None and not require:
        policy = store.require_model(name).policy
        if not policy:
            raise ValueError(
                f"model {name!r} has no promotion policy: give --validate NOTEBOOK and "
                f"--require ..., store one with `jupyter mlops models policy {name} ...`, or "
                "move the alias with --force --reason TEXT"
            )
        return str(policy["validate"]), list(policy["require"]), policy.get("seed")
    if validate is None:
        raise ValueError("--require needs --validate NOTEBOOK (the notebook that measures it)")
    if not require:
        raise ValueError("--validate needs at least one --require (what must hold)")
    return validate, list(require), None


def start_promotion(
    jobs: JobService,
    name: str,
    version: int,
    alias: str,
    *,
    actor: str,
    validate: str | None = None,
    require: Sequence[str] | None = None,
) -> RegistryEvent:
    """Submit the validation runs and record the ``promotion_started`` event."""
    from ..jobs import RunSpec

    store = jobs.store
    check_alias(alias)
    store.get_version(name, version)  # unknown model or version: a clear error
    notebook, requirements, seed = gate_of(store, name, validate, require)
    parse_requirements(requirements)
    holder = store.alias_holder(name, alias)
    if holder == version:
        raise RegistryConflict(f"{name}@{alias} already names version {version}")
    path, _display = jobs.resolve_notebook(notebook)
    if not path.is_file():
        raise LookupError(f"no validation notebook {notebook!r}")
    seed = seed if seed is not None else secrets.randbelow(SEED_BOUND)

    def validation_run(of_version: int) -> str:
        uri = str(ModelURI.of_version(name, of_version))
        spec = RunSpec(
            notebook=str(path),
            parameters={MODEL_URI_PARAMETER: uri},
            seed=seed,
            source=VALIDATION_SOURCE,
            tags=[f"validation:{name}", f"candidate:{name}/{version}"],
            submitted_by=actor,
        )
        return str(jobs.submit(spec).run.id)

    candidate_run = validation_run(version)
    baseline_run = None
    if holder is not None:
        try:
            baseline_run = validation_run(holder)
        except Exception:
            jobs.cancel(candidate_run)
            raise
    return store.record_registry_event(
        name,
        "promotion_started",
        actor=actor,
        version=version,
        alias=alias,
        previous_version=holder,
        details={
            "validate": str(path),
            "require": requirements,
            "seed": seed,
            "candidate_run": candidate_run,
            "baseline_run": baseline_run,
        },
    )


def validation_runs(started: RegistryEvent) -> list[str]:
    details = started.details or {}
    return [r for r in (details.get("candidate_run"), details.get("baseline_run")) if r]


def runs_ended(store: RunStore, started: RegistryEvent) -> bool:
    from ..store import RunStatus

    for run_id in validation_runs(started):
        run = store.get_run(run_id)
        if run is not None and not RunStatus(run.status).is_terminal:
            return False
    return True


def _run_problem(store: RunStore, run_id: str, role: str) -> str | None:
    run = store.get_run(run_id)
    if run is None:
        return f"the {role}'s validation run {run_id} is gone"
    if run.status != "succeeded":
        why = f": {run.status_reason}" if run.status_reason else ""
        return f"the {role}'s validation run {run_id} {run.status}{why}"
    return None


def finish_promotion(store: RunStore, started: RegistryEvent) -> RegistryEvent | None:
    """Decide a started promotion whose runs have ended; None while they run. The outcome
    event (``alias_set`` or ``promotion_refused``); the one already written when another
    finisher came first."""
    done = store.promotion_outcome(started.id)
    if done is not None:
        return done
    if not runs_ended(store, started):
        return None
    details = started.details or {}
    candidate_run, baseline_run = details.get("candidate_run"), details.get("baseline_run")
    requirements = parse_requirements(details.get("require", []))
    outcome: dict[str, Any] = {"candidate_run": candidate_run, "baseline_run": baseline_run}
    problems = [
        p
        for p in (
            _run_problem(store, candidate_run, "candidate") if candidate_run else "no run",
            _run_problem(store, baseline_run, "baseline") if baseline_run else None,
        )
        if p
    ]
    common = {
        "actor": started.actor,
        "version": started.version,
        "alias": started.alias,
        "previous_version": started.previous_version,
        "promotion_id": started.id,
    }
    try:
        if problems:
            return store.record_registry_event(
                started.model_name,
                "promotion_refused",
                reason="; ".join(problems),
                details={**outcome, "verdicts": []},
                **common,
            )
        mine = store.latest_metrics(candidate_run)
        theirs = store.latest_metrics(baseline_run) if baseline_run else None
        verdicts = [evaluate(r, mine, theirs) for r in requirements]
        outcome["verdicts"] = [v.to_json() for v in verdicts]
        failed = [v.message for v in verdicts if not v.holds]
        if failed:
            return store.record_registry_event(
                started.model_name,
                "promotion_refused",
                reason="; ".join(failed),
                details=outcome,
                **common,
            )
        try:
            assert started.alias is not None and started.version is not None
            return store.move_alias(
                started.model_name,
                started.alias,
                started.version,
                expected=started.previous_version,
                actor=started.actor,
                reason="validated: " + "; ".join(v.message for v in verdicts),
                details=outcome,
                promotion_id=started.id,
            )
        except AliasMoved as err:
            return store.record_registry_event(
                started.model_name,
                "promotion_refused",
                reason=str(err),
                details={**outcome, "alias_moved": True},
                **common,
            )
    except RegistryConflict:  # another finisher wrote the outcome first
        return store.promotion_outcome(started.id)


def finish_pending_promotions(store: RunStore) -> list[RegistryEvent]:
    """Finish every started promotion whose runs have ended (server upkeep, CLI)."""
    finished = []
    for started in store.pending_promotions():
        outcome = finish_promotion(store, started)
        if outcome is not None:
            finished.append(outcome)
    return finished
