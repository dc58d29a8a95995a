"""Start, advance and resume pipeline runs.

Every process that can (the CLI's ``--wait``, the server, the scheduler) advances a
pipeline run the same way: take the run's lease, read its progress from the store, and
make the next moves (a finished run ends its step; a ready step is served from the cache
or submitted through :class:`~jupyter_mlops.jobs.JobService`, the one path of every run).
Progress is never held in memory, so a killed orchestrator costs a lease's time, not a
step: the next holder sees what the store says, and a step that was being submitted is
finished under the very run id chosen before (a run id names one run, so it cannot run
twice).
"""

from __future__ import annotations

import logging
import os
import posixpath
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..jobs import JobService
from ..processes import hostname
from ..store import TERMINAL_STATUSES, RunStatus
from ..store.models_pipelines import PipelineRun, PipelineStep, PipelineStepAttempt
from ..store.pipelines import PipelineStore
from ..store.runs import new_run_id
from .cache import cache_key, code_digest, kernel_packages, tree_entries
from .outputs import INPUTS_DIR, resolve_parameters
from .spec import PipelineSpec
from .step_datasets import (
    DatasetChange,
    Fingerprints,
    changed_parameter_dataset,
    parameter_dataset_hashes,
)
from .steps import Step, checked_steps
from .validation import CheckedStep

log = logging.getLogger("jupyter_mlops.pipelines")

PENDING, SUBMITTING, RUNNING = "pending", "submitting", "running"
PROBE_S = 0.02
"""How often a waiting :meth:`PipelineAdvancer.advance` looks whether a step run ended."""
SUCCEEDED, CACHED, FAILED, CANCELLED, SKIPPED = (
    "succeeded",
    "cached",
    "failed",
    "cancelled",
    "skipped",
)
OPEN_STEP = {PENDING, SUBMITTING, RUNNING}
DONE_OK = {SUCCEEDED, CACHED}
RERUNNABLE = {FAILED, CANCELLED, SKIPPED}


def holder_id() -> str:
    """This process, as a lease holder (host, pid, and a nonce against pid reuse)."""
    return f"{hostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class _Context:
    """What one pass over a pipeline run needs, read once per pass."""

    run: PipelineRun
    spec: PipelineSpec
    steps: dict[str, PipelineStep]
    fingerprints: Fingerprints
    """Datasets fingerprinted in this pass (each path once; data may change later)."""


class PipelineAdvancer:
    """Makes the moves of pipeline runs while holding their leases."""

    def __init__(self, jobs: JobService, holder: str | None = None) -> None:
        self.jobs = jobs
        self.store = PipelineStore(jobs.store)
        self.holder = holder or holder_id()
        self.ttl = jobs.settings.pipeline_lease_ttl
        self._renewed: dict[str, float] = {}
        self._entries: dict[str, list[tuple[str, str]]] = {}
        self._checked: dict[str, dict[str, CheckedStep]] = {}
        self._launched: set[str] = set()
        """The step runs this process submitted and has not seen end: :meth:`advance`
        looks at their statuses between passes, to start what follows without delay."""
        self.busy = threading.Lock()
        """One pass at a time in this process (the server's upkeep and its handlers share
        one advancer, and so one lease holder id)."""

    # -- the lease ---------------------------------------------------------------------

    def hold(self, pipeline_id: str) -> bool:
        """Take or renew the lease (a write only when half of it has passed)."""
        last = self._renewed.get(pipeline_id)
        if last is not None and time.monotonic() - last < self.ttl / 2:
            return True
        if self.store.acquire_lease(pipeline_id, self.holder, ttl=self.ttl):
            self._renewed[pipeline_id] = time.monotonic()
            return True
        self._renewed.pop(pipeline_id, None)
        return False

    def let_go(self, pipeline_id: str) -> None:
        self._renewed.pop(pipeline_id, None)
        self.store.release_lease(pipeline_id, self.holder)

    # -- one pass ----------------------------------------------------------------------

    def advance_once(self, pipeline_id: str) -> PipelineRun | None:
        """One pass of moves under the lease; None when another process holds it."""
        with self.busy:
            return self._pass(pipeline_id)

    def _pass(self, pipeline_id: str) -> PipelineRun | None:
        if not self.hold(pipeline_id):
            return None
        run = self.store.require(pipeline_id)
        if run.status != RUNNING:
            self.let_go(pipeline_id)
            return run
        ctx = _Context(
            run,
            PipelineSpec.model_validate(run.spec),
            {s.name: s for s in self.store.steps(pipeline_id)},
            Fingerprints(self.jobs.settings),
        )
        self._collect_finished(ctx)
        for step in ctx.steps.values():
            if step.status == SUBMITTING:
                self._submit(ctx, step, step.run_id)
        for step in ctx.steps.values():
            if step.status == PENDING:
                self._try_start(ctx, step)
        if not any(s.status in OPEN_STEP for s in ctx.steps.values()):
            self._finish(ctx)
            self.let_go(pipeline_id)
        return self.store.require(pipeline_id)

    def _refresh(self, ctx: _Context, name: str) -> None:
        for s in self.store.steps(ctx.run.id):
            if s.name == name:
                ctx.steps[name] = s

    def _collect_finished(self, ctx: _Context) -> None:
        running = [s for s in ctx.steps.values() if s.status == RUNNING]
        statuses = self.store.run_statuses(s.run_id for s in running if s.run_id)
        for step in running:
            status = statuses.get(step.run_id or "")
            if status is None:
                self._fail(ctx, step, FAILED, f"its run {step.run_id} was deleted")
            elif RunStatus(status) in TERMINAL_STATUSES:
                self._end_attempt(ctx, step, status)

    def _end_attempt(self, ctx: _Context, step: PipelineStep, status: str) -> None:
        pid = ctx.run.id
        self._launched.discard(step.run_id or "")
        self.store.set_attempt_status(pid, step.name, step.attempt, status)
        if status == RunStatus.SUCCEEDED.value:
            self.store.move_step(pid, step.name, [RUNNING], status=SUCCEEDED)
        else:
            run = self.jobs.store.get_run(step.run_id or "")
            reason = f"run {step.run_id} {status}" + (
                f": {run.status_reason}" if run is not None and run.status_reason else ""
            )
            retries = ctx.spec.steps[step.name].retries
            if status != RunStatus.CANCELLED.value and step.attempt <= retries:
                self.store.move_step(
                    pid, step.name, [RUNNING], status=PENDING, reason=f"retrying: {reason}"
                )
            else:
                self._fail(ctx, step, CANCELLED if status == "cancelled" else FAILED, reason)
        self._refresh(ctx, step.name)

    def _fail(self, ctx: _Context, step: PipelineStep, status: str, reason: str) -> None:
        self.store.move_step(ctx.run.id, step.name, OPEN_STEP, status=status, reason=reason)
        self._refresh(ctx, step.name)

    def _try_start(self, ctx: _Context, step: PipelineStep) -> None:
        ups = [ctx.steps[n] for n in step.needs]
        blocked = [u.name for u in ups if u.status in RERUNNABLE]
        if blocked:
            self._fail(ctx, step, SKIPPED, f"upstream {', '.join(blocked)} did not succeed")
            return
        if all(u.status in DONE_OK for u in ups):
            self._start(ctx, step)

    # -- starting a step ---------------------------------------------------------------

    def _step_of(self, ctx: _Context, name: str) -> Step:
        checked = self._checked.get(ctx.run.id)
        if checked is None:
            checked = self._checked[ctx.run.id] = checked_steps(ctx.run, ctx.spec)
        return Step(name, ctx.spec.steps[name], checked[name], ctx.run)

    def _start(self, ctx: _Context, step: PipelineStep) -> None:
        from .outputs import StepInputError

        item = self._step_of(ctx, step.name)
        outputs = {
            n: (s.cached_from or s.run_id or "")
            for n, s in ctx.steps.items()
            if s.status in DONE_OK
        }
        try:
            resolved = resolve_parameters(
                self.jobs.store, self.jobs.settings, item.values(), outputs
            )
        except StepInputError as err:
            self._attempt_failed(ctx, step, str(err))
            return
        datasets = self._dataset_hashes(ctx, item, resolved.parameters)
        key = self._key(ctx, item, resolved.parameters, resolved.inputs, datasets)
        attempt = step.attempt + 1
        hit, miss = self._lookup(ctx, item, key, datasets)
        if hit is not None:
            self.store.start_attempt(
                ctx.run.id,
                step.name,
                [PENDING],
                PipelineStepAttempt(attempt=attempt, status=CACHED, cached_from=hit, cache_key=key),
            )
            self._refresh(ctx, step.name)
            return
        run_id = new_run_id()
        if not self.store.start_attempt(
            ctx.run.id,
            step.name,
            [PENDING],
            PipelineStepAttempt(attempt=attempt, status=SUBMITTING, run_id=run_id, cache_key=key),
            reason=miss,
        ):
            return
        self._refresh(ctx, step.name)
        self._submit(ctx, ctx.steps[step.name], run_id, resolved.parameters)

    def _attempt_failed(self, ctx: _Context, step: PipelineStep, reason: str) -> None:
        attempt = PipelineStepAttempt(attempt=step.attempt + 1, status=FAILED)
        if self.store.start_attempt(ctx.run.id, step.name, [PENDING], attempt):
            self.store.move_step(ctx.run.id, step.name, [FAILED], reason=reason)
        self._refresh(ctx, step.name)

    def _lookup(
        self, ctx: _Context, item: Step, key: str, datasets: Mapping[str, str]
    ) -> tuple[str | None, str | None]:
        """(the run to serve the step from, None) on a cache hit; else (None, why it
        missed, where a changed dataset says so cheaply)."""
        if not item.spec.cache or ctx.run.no_cache:
            return None, None
        change: DatasetChange | None = None
        for run_id in self.store.cached_runs(key):
            found = ctx.fingerprints.changed_input(self.jobs.store, run_id)
            if found is None:
                return run_id, None
            change = change or found  # the newest candidate's change says the most
        if change is None:
            previous = self.store.last_step_run(ctx.run.pipeline_path, item.name, ctx.run.id)
            change = changed_parameter_dataset(self.jobs.store, previous, datasets)
        return None, f"cache miss: {change.describe()}" if change else None

    def _dataset_hashes(
        self, ctx: _Context, item: Step, parameters: Mapping[str, Any]
    ) -> dict[str, str]:
        """The step's ``# mlops: dataset`` parameters' content hashes, relative paths
        against the notebook's directory in the worktree the snapshot was taken of."""
        notebook_dir = posixpath.dirname(item.checked.relpath)
        return parameter_dataset_hashes(
            ctx.fingerprints,
            item.checked.declared,
            parameters,
            Path(ctx.run.snapshot["worktree"]) / notebook_dir,
            skip_under=self.jobs.settings.data_dir / INPUTS_DIR,
        )

    def _key(
        self,
        ctx: _Context,
        item: Step,
        parameters: Mapping[str, Any],
        inputs: Mapping[str, str],
        datasets: Mapping[str, str],
    ) -> str:
        snap = ctx.run.snapshot
        entries = self._entries.get(ctx.run.id)
        if entries is None:
            entries = self._entries[ctx.run.id] = tree_entries(snap["git_dir"], snap["commit"])
        return cache_key(
            code=code_digest(entries, item.checked.relpath, snap["notebook_relpath"]),
            parameters=parameters,
            inputs=inputs,
            kernel=item.checked.kernel,
            packages=kernel_packages(item.checked.kernel),
            datasets=datasets,
        )

    def _submit(
        self,
        ctx: _Context,
        step: PipelineStep,
        run_id: str | None,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        """Submit the step's run under ``run_id`` (chosen and recorded before), or adopt it
        when a previous holder got as far as creating it."""
        if run_id is None:
            return
        if self.jobs.store.get_run(run_id) is None:
            if not self.hold(ctx.run.id):
                return  # another process took over: it submits
            item = self._step_of(ctx, step.name)
            if parameters is None:  # a previous holder died between claim and submit
                outputs = {
                    n: (s.cached_from or s.run_id or "")
                    for n, s in ctx.steps.items()
                    if s.status in DONE_OK
                }
                parameters = resolve_parameters(
                    self.jobs.store, self.jobs.settings, item.values(), outputs
                ).parameters
            try:
                self.jobs.submit(item.run_spec(run_id, parameters))
                self._launched.add(run_id)
            except Exception as err:
                if self.jobs.store.get_run(run_id) is not None:
                    log.warning("step %s: run %s was created by another holder", step.name, run_id)
                    return self._submitted(ctx, step)
                log.info("step %s of %s not submitted: %s", step.name, ctx.run.id, err)
                self.store.set_attempt_status(ctx.run.id, step.name, step.attempt, FAILED)
                self._fail(ctx, step, FAILED, f"could not submit: {err}")
                return
        self._submitted(ctx, step)

    def _submitted(self, ctx: _Context, step: PipelineStep) -> None:
        self.store.set_attempt_status(ctx.run.id, step.name, step.attempt, RUNNING)
        self.store.move_step(ctx.run.id, step.name, [SUBMITTING], status=RUNNING)
        self._refresh(ctx, step.name)

    def _finish(self, ctx: _Context) -> None:
        statuses = {s.status for s in ctx.steps.values()}
        if statuses <= DONE_OK:
            status, reason = SUCCEEDED, None
        elif FAILED in statuses:
            failed = [s.name for s in ctx.steps.values() if s.status == FAILED]
            status, reason = FAILED, f"failed: {', '.join(failed)}"
        else:
            status, reason = CANCELLED, "a step was cancelled"
        self.store.set_status(ctx.run.id, status, reason, finished=True)

    # -- driving -----------------------------------------------------------------------

    def advance(self, pipeline_id: str, *, wait: bool, poll: float = 0.1) -> PipelineRun:
        """Advance until the run ends (``wait``), taking over when a holder's lease
        expires; without ``wait``, one pass."""
        while True:
            run = self.advance_once(pipeline_id)
            if run is None:
                run = self.store.require(pipeline_id)
            if not wait or run.status != RUNNING:
                return run
            self._pause(poll)

    def _pause(self, poll: float) -> None:
        """Up to ``poll`` seconds before the next pass, less when a step run this process
        submitted ends first: a linear pipeline then starts each step the moment the one
        before it ends instead of on the next tick. The look in between is one indexed
        SELECT of those runs' statuses every :data:`PROBE_S` (a full pass reads the
        pipeline, its spec and every step, so it keeps the slower tick)."""
        deadline = time.monotonic() + poll
        while self._launched and time.monotonic() < deadline:
            waiting = set(self._launched)  # a copy: the server's threads may add to it
            statuses = self.store.run_statuses(waiting)
            gone = {i for i in waiting if RunStatus(statuses.get(i, "lost")) in TERMINAL_STATUSES}
            if gone:  # ended, or deleted
                self._launched -= gone
                return
            time.sleep(min(PROBE_S, max(0.0, deadline - time.monotonic())))
        time.sleep(max(0.0, deadline - time.monotonic()))


class PipelineBusy(RuntimeError):
    """Another live process holds the pipeline run's lease (resume without waiting)."""


class PipelineNeverStarted(PipelineBusy, ValueError):
    """A pipeline run recorded as failed before it started (a schedule slot or trigger
    event whose start failed or was lost): it has no steps, so nothing to resume."""


def resume_pipeline(
    advancer: PipelineAdvancer, pipeline_id: str, *, wait: bool = True, poll: float = 0.2
) -> list[str]:
    """Under the run's lease (waiting for a live holder to let go or die): put the failed,
    cancelled and skipped steps back to pending (fresh attempts) and the pipeline back to
    running; returns the steps reset. An unfinished pipeline whose holder died is simply
    taken over: its open steps go on where they are."""
    first = advancer.store.require(pipeline_id)
    if not first.spec:
        raise PipelineNeverStarted(
            f"pipeline run {pipeline_id} never started ({first.status_reason}); it has no "
            f"steps to resume: start a new one with jupyter mlops pipeline run "
            f"{first.pipeline_path}"
        )
    while not advancer.hold(pipeline_id):
        if not wait:
            raise PipelineBusy(
                f"pipeline run {pipeline_id} is being advanced by another process; it "
                "resumes its steps when that process finishes or dies (lease expiry)"
            )
        time.sleep(poll)
    store = advancer.store
    reset = []
    for step in store.steps(pipeline_id):
        if step.status in RERUNNABLE and store.move_step(
            pipeline_id, step.name, RERUNNABLE, status=PENDING, reason="resumed"
        ):
            reset.append(step.name)
    run = store.require(pipeline_id)
    if run.status != RUNNING:
        store.set_status(pipeline_id, RUNNING, None)
    return reset


def display_path(jobs: JobService, path: Path) -> str:
    if jobs.root_dir is not None:
        try:
            return path.resolve().relative_to(jobs.root_dir).as_posix()
        except ValueError:
            pass
    return str(path)


def advance_unfinished(advancer: PipelineAdvancer) -> list[str]:
    """One pass over every unfinished pipeline run whose lease is free or ours (what the
    server does periodically); returns the ids it advanced."""
    advanced: list[str] = []
    if advancer.busy.locked():
        return advanced  # a pass of this process is under way
    for pipeline_id in advancer.store.unfinished():
        try:
            if advancer.advance_once(pipeline_id) is not None:
                advanced.append(pipeline_id)
        except Exception:
            log.exception("could not advance pipeline run %s", pipeline_id)
    return advanced


def advance_until(advancer: PipelineAdvancer, stop: threading.Event, interval: float = 1.0) -> None:
    """:func:`advance_unfinished` every ``interval`` seconds until ``stop`` is set (the
    ``jupyter mlops scheduler`` process runs it in a thread)."""
    while not stop.wait(interval):
        advance_unfinished(advancer)
