"""Submit, cancel, reproduce and delete runs: the one path every entry point takes.

The REST handlers, the CLI and the scheduler all call :class:`JobService`, so a run
made from the browser and one made from cron are recorded the same way. ``submit``
validates everything (notebook, parameters, kernel, GPUs) before anything is written;
a run row appears only together with its snapshot, and a failure after that point
leaves a run with a terminal status and a reason, never a half-written run.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifact_gc import collect_garbage
from .artifacts import open_artifact_store
from .backends import make_backend
from .backends.base import Backend, LaunchHandle
from .backends.local import LocalBackend
from .config import Settings
from .gpus import GPURequestError
from .input_rules import (
    DRAWN_SEED_BOUND,
    InputLimits,
    check_parameters,
    check_seed,
    check_tags,
    check_texts,
    check_timeout,
)
from .job_records import PathOutsideRoot, RunStateError, snapshot_columns
from .masking import (
    MASK,
    SECRET_PARAM_TYPE,
    Handover,
    discard_handover,
    is_secret_name,
    secret_env_name,
    secret_values_from_env,
)
from .processes import hostname
from .store import ACTIVE_STATUSES, Run, RunStatus, RunStore
from .store.lost import mark_lost, reconcile_runs
from .store.runs import new_run, new_run_id
from .strict import is_strict_int

if TYPE_CHECKING:
    from .snapshot.create import Snapshot
    from .verify.service import VerifyOptions

__all__ = [
    "GPURequestError",  # defined in .gpus, raised here at submit
    "JobService",
    "PathOutsideRoot",
    "RunSettings",
    "RunSpec",
    "RunStateError",
    "Submission",
]

log = logging.getLogger("jupyter_mlops.jobs")

SEED_PARAMETER = "seed"


@dataclass(kw_only=True)
class RunSettings:
    """How a notebook runs: what a one-off run and a schedule both say (a schedule gives
    them to every run it fires). ``raw_parameters`` are CLI strings coerced to the
    declared types; ``parameters`` are already typed (YAML file, REST JSON) and are
    type-checked."""

    parameters: Mapping[str, Any] = field(default_factory=dict)
    raw_parameters: Mapping[str, str] = field(default_factory=dict)
    kernel: str | None = None
    gpus: int = 0
    timeout: float | None = None
    tags: Sequence[str] = ()


@dataclass
class RunSpec(RunSettings):
    """What to run: a notebook, its :class:`RunSettings`, and where the run comes from."""

    notebook: str
    seed: int | None = None
    commit: bool = False
    commit_message: str | None = None
    source: str = "cli"
    branch: str | None = None
    """Run the notebook as committed at the head of this branch (GitOps), not the working
    copy: the file on disk is neither read nor needed."""
    at_commit: str | None = None
    """With ``branch``: run this commit of the branch instead of its head (an on-commit
    trigger runs exactly the commit that fired it, even when newer ones followed)."""
    schedule_id: str | None = None
    scheduled_for: datetime | None = None
    """The schedule and slot (due instant) this run was fired for."""
    run_id: str | None = None
    """Use this id instead of a new one (the scheduler chooses it when it claims a slot)."""
    shared_snapshot: Snapshot | None = None
    """Run ``notebook`` (a file of this snapshot's worktree) at this commit, taken once for
    several runs (a pipeline's steps), instead of snapshotting the working copy."""
    display_path: str | None = None
    """Record the notebook under this path (a schedule's runs show the schedule's path,
    whichever scheduler process fired them)."""
    submitted_by: str | None = None
    """Who submitted it (:mod:`jupyter_mlops.identity`): recorded on the run."""
    fired_by: str | None = None
    """Why a trigger fired it: written with the run, so no run is ever without it."""
    untyped_without_parameters_cell: bool = False
    """papermill's way for a notebook without a ``parameters`` cell: inject the values
    untyped at the top, with a warning, instead of refusing them (the CLI's ``-p``)."""

    def check(self, limits: InputLimits) -> None:
        """The rules of :mod:`~jupyter_mlops.input_rules` (no NUL, finite numbers, sizes),
        before anything is read or written: REST, the CLI and schedules all pass here."""
        check_texts(
            {
                "notebook": self.notebook,
                "kernel": self.kernel,
                "commit_message": self.commit_message,
                "branch": self.branch,
                "at_commit": self.at_commit,
            }
        )
        check_parameters({**self.parameters, **self.raw_parameters}, limits)
        check_tags(self.tags, limits)
        check_timeout(self.timeout)
        check_seed(self.seed)


def read_branch_notebook(path: Path, branch: str, at_commit: str | None = None) -> tuple[Any, Any]:
    """(:class:`~jupyter_mlops.snapshot.BranchHead`, notebook) of ``path`` as committed at the
    head of ``branch`` (or at its commit ``at_commit``); errors name the branch, not a
    temporary file."""
    import tempfile

    from .notebook.reading import NotebookError, read_notebook
    from .snapshot.branches import pin_branch_commit, resolve_branch
    from .snapshot.reading import read_file_at

    head = resolve_branch(path, branch)
    if at_commit is not None:
        head = pin_branch_commit(head, at_commit)
    data = read_file_at(head.git_dir, head.commit, head.notebook_relpath)
    with tempfile.TemporaryDirectory(prefix="jupyter-mlops-branch-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_bytes(data)
        try:
            nb = read_notebook(copy)
        except NotebookError as err:
            where = f"{head.notebook_relpath} on branch {branch!r} ({head.commit[:12]})"
            raise NotebookError(str(err).replace(str(copy), where)) from None
    return head, nb


@dataclass
class Submission:
    run: Run
    handle: LaunchHandle | None


class JobService:
    def __init__(
        self,
        settings: Settings,
        store: RunStore,
        backend: Backend | None = None,
        *,
        root_dir: Path | None = None,
        redact_values: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.backend: Backend = backend or make_backend(settings, store)
        self.root_dir = root_dir.resolve() if root_dir else None
        self.redact_values = [v for v in redact_values if v]
        """Texts no environment record of this service's runs may contain (the Jupyter
        server's token); they reach the runner in its hand-over, never through the store."""
        self._local: LocalBackend | None = None

    # -- paths ----------------------------------------------------------------------------

    def resolve_notebook(self, notebook: str) -> tuple[Path, str]:
        """Absolute (resolved) path and the notebook's recorded name
        (:func:`~jupyter_mlops.notebook.identity.notebook_identity`); with a root, the path
        must stay inside it."""
        from .notebook.identity import notebook_identity

        raw = Path(notebook).expanduser()
        base = self.root_dir or Path.cwd()
        path = (raw if raw.is_absolute() else base / raw).resolve()
        if self.root_dir is not None and not path.is_relative_to(self.root_dir):
            raise PathOutsideRoot(
                f"{notebook!r} is outside the server's root directory {self.root_dir}"
            )
        display = notebook_identity(path, self.root_dir)
        if path.suffix != ".ipynb":
            from .notebook.reading import NotebookError

            raise NotebookError(f"{notebook!r} is not a notebook (expected a .ipynb file)")
        return path, display

    def notebook_names(self, notebook: str) -> list[str]:
        """The names runs of ``notebook`` are recorded under, for a filter
        (:func:`~jupyter_mlops.notebook.identity.notebook_names`)."""
        from .notebook.identity import notebook_names

        return notebook_names(notebook, self.root_dir or Path.cwd(), self.root_dir)

    # -- submit ---------------------------------------------------------------------------

    def submit(self, spec: RunSpec) -> Submission:
        from .snapshot.plumbing import one_discovery

        with one_discovery():  # the notebook's repository is found once
            return self._submit(spec)

    def _submit(self, spec: RunSpec) -> Submission:
        from .kernels import resolve_kernel
        from .notebook.coercion import run_parameter_values
        from .notebook.defaults import default_rows
        from .notebook.inspection import (
            in_declared_order,
            inspect_parameters,
            parameters_cell_index,
        )
        from .notebook.reading import read_notebook
        from .snapshot.branches import commit_notebook_to_branch, snapshot_branch
        from .snapshot.create import take_snapshot
        from .snapshot.shared import link_snapshot, read_notebook_at

        limits = InputLimits.of(self.settings)
        spec.check(limits)
        path, display = self.resolve_notebook(spec.notebook)
        display = spec.display_path or display
        if spec.branch is not None and spec.commit:
            raise ValueError("a run from a branch cannot also commit the working copy")
        head = None
        if spec.shared_snapshot is not None:
            nb = read_notebook_at(spec.shared_snapshot, path)
        elif spec.branch is not None:
            head, nb = read_branch_notebook(path, spec.branch, spec.at_commit)
        elif spec.at_commit is not None:
            raise ValueError("at_commit needs a branch: it pins a commit of that branch")
        else:
            nb = read_notebook(path)
        declared = inspect_parameters(nb)
        values, untagged_warning = run_parameter_values(  # no parameters cell: papermill's way?
            declared,
            parameters_cell_index(nb) is not None or not spec.untyped_without_parameters_cell,
            spec.parameters,
            spec.raw_parameters,
        )
        check_parameters(values, limits)  # a CLI "nan" is a float only now
        secrets = self._take_secrets(declared, values)
        secret_names = self._secret_names(declared)
        kernel = resolve_kernel(spec.kernel, nb)
        seed_default = next((p for p in declared if p.name == SEED_PARAMETER), None)
        seed = self._choose_seed(
            spec.seed, values, seed_default, kernel if not spec.gpus and not secrets else None
        )
        if seed_default is not None and (
            spec.seed is not None or SEED_PARAMETER in values or seed != seed_default.default
        ):
            values[SEED_PARAMETER] = seed  # given, or drawn: injected; else the default ran
        types = {p.name: p.type_name for p in declared}
        defaults = default_rows(declared, {*values, *secrets})
        masked = {n: (MASK, SECRET_PARAM_TYPE, False) for n in defaults if n in secret_names}
        self._check_gpus(spec.gpus)
        open_artifact_store(self.settings)  # a bad artifact root fails here, not in the run

        if spec.commit:
            commit_notebook_to_branch(
                path, spec.commit_message or f"Run {path.name} as a job (jupyter-mlops)"
            )
        run_id = spec.run_id or new_run_id()
        if spec.shared_snapshot is not None:
            snapshot = link_snapshot(spec.shared_snapshot, path, run_id)
        elif head is not None:
            snapshot = snapshot_branch(path, head.branch, run_id, commit=head.commit)
        else:
            snapshot = take_snapshot(
                path,
                run_id,
                private_repo_dir=self.settings.private_repo_dir,
                message=f"jupyter-mlops run {run_id}: {display}",
                data_dir=self.settings.data_dir,
            )
        run = new_run(
            run_id,
            source=spec.source,
            backend=self.backend.name,
            notebook_path=display,
            notebook_abspath=str(path),
            kernel_name=kernel,
            gpus=spec.gpus,
            timeout_s=spec.timeout,
            seed=seed,
            **snapshot_columns(snapshot),
            cells_total=sum(1 for c in nb.cells if c.cell_type == "code")
            + (1 if values or secrets else 0),
            schedule_id=spec.schedule_id,
            scheduled_for=spec.scheduled_for,
            submitted_by=spec.submitted_by,
        )
        submission = self._store_and_launch(
            run,
            params=in_declared_order(
                declared,
                {
                    **defaults,
                    **masked,  # a secret left at its default: its value is not recorded
                    **{k: (v, types.get(k, type(v).__name__)) for k, v in values.items()},
                    **dict.fromkeys(secrets, (MASK, SECRET_PARAM_TYPE)),
                },
            ),
            tags=spec.tags,
            secrets=secrets,
            fired_by=spec.fired_by,
        )
        if untagged_warning:
            self.store.add_warning(run.id, untagged_warning)
        return submission

    def _secret_names(self, declared: Sequence[Any]) -> list[str]:
        """The declared parameters whose names mark them secret (never stored)."""
        patterns = self.settings.secret_parameter_patterns
        return [p.name for p in declared if is_secret_name(p.name, patterns)]

    def _take_secrets(self, declared: Sequence[Any], values: dict[str, Any]) -> dict[str, Any]:
        """Move the secret parameters out of ``values``: the given ones, and the declared
        ones not given whose ``JUPYTER_MLOPS_SECRET_<NAME>`` variable is set here (a
        value kept out of command lines and request bodies)."""
        from .notebook.coercion import validate_parameters

        names = self._secret_names(declared)
        by_env: dict[str, str] = {}
        for name in names:
            other = by_env.setdefault(secret_env_name(name), name)
            if other != name:
                raise ValueError(
                    f"the secret parameters {other!r} and {name!r} would both be passed "
                    f"to the kernel as {secret_env_name(name)}; rename one of them"
                )
        secrets = {name: values.pop(name) for name in names if name in values}
        from_env = secret_values_from_env([n for n in names if n not in secrets])
        secrets.update(validate_parameters(list(declared), from_env, raw_strings=True))
        return secrets

    def _store_and_launch(
        self,
        run: Run,
        *,
        params: Mapping[str, tuple[Any, ...]],
        tags: Sequence[str],
        secrets: Mapping[str, Any],
        before_launch: Callable[[Run], None] | None = None,
        fired_by: str | None = None,
    ) -> Submission:
        """Store the run, then launch it; ``before_launch`` writes what its runner needs
        besides the run row (a verification request) in between."""
        from .snapshot.refs import delete_run_ref

        try:
            self.backend.prepare(run)
            run = self.store.create_run(run, params=params, tags=tags, fired_by=fired_by)
        except Exception:
            delete_run_ref(run.git_dir, run.id)  # no row, no orphan ref
            raise
        try:
            if before_launch is not None:
                before_launch(run)
            self.backend.hand_over(run, Handover(dict(secrets), list(self.redact_values)))
            handle = self.backend.launch(run)
        except Exception as err:
            discard_handover(self.settings.runs_dir / run.id)
            log.exception("could not launch run %s", run.id)
            self.store.transition(
                run.id, RunStatus.FAILED, reason=f"could not start the runner: {err}"
            )
            return Submission(self.store.require_run(run.id), None)
        return Submission(self.store.require_run(run.id), handle)

    def _choose_seed(
        self,
        seed: int | None,
        values: Mapping[str, Any],
        declared: Any | None,
        warm_kernel: str | None = None,
    ) -> int:
        """The run's seed, one value with a ``seed`` parameter: the seed given (``--seed``,
        the form's Seed field), else the ``seed`` parameter given, else the ``seed``
        parameter's default in the notebook (``seed = 0`` runs with 0, as the notebook
        says), else (no ``seed`` parameter, or ``seed = None``) a random one, recorded:
        drawn ahead by the backend for a warm kernel of ``warm_kernel`` when it keeps one
        (:mod:`jupyter_mlops.warm_pool`; ``PYTHONHASHSEED`` is fixed at a kernel's start).
        A seed and a ``seed`` parameter that disagree are refused."""
        given = values.get(SEED_PARAMETER)
        if seed is not None and given is not None and seed != given:
            raise ValueError(f"--seed {seed} contradicts parameter seed={given!r}; give one")
        chosen = seed if seed is not None else given
        where = "seed" if seed is not None else "parameter seed"
        if chosen is None and declared is not None and is_strict_int(declared.default):
            chosen, where = declared.default, "the seed parameter's default"
        if chosen is None:
            offered = self.backend.offered_seed(warm_kernel) if warm_kernel else None
            return offered if offered is not None else secrets.randbelow(DRAWN_SEED_BOUND)
        check_seed(chosen, where)
        return chosen

    def _check_gpus(self, count: int) -> None:
        """Refuse at submit a GPU request that could never be met. Which devices a run gets
        is decided when it leaves the queue (its runner claims free ones)."""
        if not is_strict_int(count) or count < 0:
            raise GPURequestError("gpus must be 0 or more")
        self.backend.check_gpus(count)

    # -- reproduce, cancel, delete -----------------------------------------------------------

    def reproduce(
        self,
        run_id: str,
        *,
        source: str = "reproduce",
        parameters: Mapping[str, Any] | None = None,
        raw_parameters: Mapping[str, str] | None = None,
        verify: VerifyOptions | None = None,
        submitted_by: str | None = None,
    ) -> Submission:
        """Same commit, parameters, seed, kernel, GPUs, timeout and tags; new run id (see
        :func:`~jupyter_mlops.reproduction.reproduce_run`)."""
        from .reproduction import reproduce_run

        return reproduce_run(
            self,
            run_id,
            source=source,
            parameters=parameters or {},
            raw_parameters=raw_parameters or {},
            verify=verify,
            submitted_by=submitted_by,
        )

    def _backend_for(self, run: Run) -> Backend | None:
        """The backend that can reach a run's runner (it may differ from the one this
        service launches with: a local run listed by a server configured for Dask)."""
        if run.backend == self.backend.name:
            return self.backend
        if run.backend == "local":
            if self._local is None:
                self._local = LocalBackend(self.settings, self.store)
            return self._local
        return None  # the store's cancel flag reaches the runner wherever it is

    def cancel(self, run_id: str) -> Run:
        run = self.store.require_run(run_id)
        if RunStatus(run.status).is_terminal:
            raise RunStateError(f"run {run_id} already ended ({run.status}); nothing to cancel")
        self.store.request_cancel(run_id)
        backend = self._backend_for(run)
        if self.store.transition(
            run_id,
            RunStatus.CANCELLED,
            reason="cancelled before start",
            allowed_from=[RunStatus.QUEUED],
        ):
            # a runner waiting for a slot exits at once (it would also see the status)
            if backend is not None:
                backend.cancel(run)
            return self.store.require_run(run_id)
        if backend is not None:
            backend.cancel(self.store.require_run(run_id))
        return self.store.require_run(run_id)

    def delete(self, run_id: str) -> None:
        """Remove a finished run: row, snapshot ref and run directory."""
        from .snapshot.refs import delete_run_ref

        run = self.store.require_run(run_id)
        if RunStatus(run.status) in ACTIVE_STATUSES:
            raise RunStateError(f"run {run_id} is {run.status}; cancel it before deleting")
        registered = self.store.versions_of_run(run_id)
        if registered:
            named = ", ".join(f"{name} version {v}" for name, v in registered)
            raise RunStateError(f"run {run_id} is the source of {named}; delete those first")
        digests = {a.sha256 for a in self.store.artifacts(run_id)}
        self.store.delete_run(run_id)
        try:
            blobs = open_artifact_store(self.settings)
            collect_garbage(self.store, blobs, digests)
        except Exception:
            log.warning("could not collect the artifacts of run %s", run_id, exc_info=True)
        try:
            delete_run_ref(run.git_dir, run_id)
        except Exception:
            log.warning("could not delete ref %s in %s", run.snapshot_ref, run.git_dir)
        shutil.rmtree(self.settings.runs_dir / run_id, ignore_errors=True)

    # -- lost runs ----------------------------------------------------------------------------

    def reconcile(self) -> list[str]:
        """Mark runs whose runner died as lost (with a reason); returns their ids.

        On this host a dead runner pid is proof enough; for runs elsewhere (another
        machine sharing the store, a Dask worker) only a heartbeat older than
        ``lost_after`` is. The backend may know more (a Dask task that erred, a scheduler
        that no longer has a queued run's task).
        """
        lost = reconcile_runs(self.store, self.settings)
        try:
            found = self.backend.reconcile(
                [r for r in self.store.active_runs() if r.id not in lost]
            )
        except Exception:
            log.warning("backend %s could not check its runs", self.backend.name, exc_info=True)
            found = {}
        here = hostname()
        for run_id, reason in found.items():
            run = self.store.get_run(run_id)
            if run is not None and mark_lost(
                self.store, run, reason, here=here, runs_dir=self.settings.runs_dir
            ):
                lost.append(run_id)
        return lost

    def dispatch_in_process(self) -> None:
        """Start queued runs' runners from this process when their slot is free, instead
        of a waiting process per queued run (local backend; see
        :mod:`jupyter_mlops.backends.dispatch`). For a process that stays up: the server,
        ``run --wait``; call :meth:`hand_off_queued` before it exits."""
        if isinstance(self.backend, LocalBackend):
            self.backend.dispatch_in_process()

    def fork_cold_runners(self) -> None:
        """Without a runner host, start each runner by forking this process (a CLI command,
        with the store's imports loaded) instead of spawning a fresh Python (local
        backend; see :mod:`jupyter_mlops.self_fork`)."""
        if isinstance(self.backend, LocalBackend):
            self.backend.fork_cold_runners = True

    def hand_off_queued(self) -> list[str]:
        """Give every run still waiting for a slot in this process a runner that waits by
        itself; returns their ids."""
        if isinstance(self.backend, LocalBackend):
            return self.backend.hand_off()
        return []

    def close(self) -> None:
        """Release what the backend holds (a Dask client, a LocalCluster it started)."""
        self.backend.close()
