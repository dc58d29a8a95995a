"""The trigger watcher: look at what each trigger watches, fire each new event once.

It runs inside every :class:`~.scheduler.Scheduler` (the jupyter server's own and every
``jupyter mlops scheduler``), so triggers share the schedules' processes and guarantees:
any number of watchers may look at the same trigger; :meth:`TriggerStore.advance` lets
exactly one of them claim what they saw, and only the claimer submits.

Cadence: each trigger is looked at every ``interval`` seconds of its kind (2 s for a
branch: one ``git rev-parse``; 2 s for a stream; 5 s for data). A git hook installed by
``jupyter mlops hooks install`` touches the *wake file*, which the watcher stats on every
pass (10 a second while commit triggers exist), so a commit is seen at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..jobs import RunSpec
from ..store.claim_targets import PIPELINE
from ..store.models_triggers import Trigger
from ..store.triggers import ClaimedEvent, TriggerStore
from ..store.types import utcnow
from .pipeline_target import LaunchFn, PipelineLaunch, launch_of
from .trigger_checks import CHECKS, CheckError, Look

log = logging.getLogger("jupyter_mlops.triggers")

INTERVALS = {"commit": 2.0, "metric": 2.0, "data": 5.0, "drift": 5.0}
"""Seconds between two looks at a trigger of each kind (``interval`` in its config wins)."""
WAKE_POLL = 0.1
"""How often the wake file is looked at while commit triggers exist (s): a ``stat``."""
ERROR_BACKOFF = 30.0
"""A check that failed (missing branch, unreadable data) is retried after this long (s)."""
WAKE_FILE_NAME = "triggers.wake"


def wake_file_for(data_dir: str | Path) -> Path:
    """The file git hooks touch to make every watcher look at commit triggers now."""
    return Path(data_dir) / WAKE_FILE_NAME


def watcher_for(
    store: Any,
    submit: Callable[[RunSpec], Any],
    *,
    holder: str,
    data_dir: str | Path,
    **options: Any,
) -> TriggerWatcher:
    """The watcher a scheduler process runs: over ``store``, woken by the git hooks' file."""
    return TriggerWatcher(
        TriggerStore(store), submit, holder=holder, wake_file=wake_file_for(data_dir), **options
    )


def run_spec_for_event(event: ClaimedEvent) -> RunSpec:
    """The run an event fires: the trigger's notebook and settings; for a commit, exactly
    that commit of the branch."""
    trigger = event.trigger
    pinned: dict[str, Any] = {}
    if trigger.kind == "commit":
        pinned = {"branch": trigger.config["branch"], "at_commit": event.key}
    elif trigger.config.get("run_branch"):
        pinned = {"branch": trigger.config["run_branch"]}
    return RunSpec(
        notebook=trigger.notebook_abspath,
        display_path=trigger.notebook_path,
        source="trigger",
        parameters=dict(trigger.parameters or {}),
        kernel=trigger.kernel_name,
        gpus=trigger.gpus,
        timeout=trigger.timeout_s,
        tags=list(trigger.tags or []),
        run_id=event.run_id,
        fired_by=describe_event(trigger, event.details),
        **pinned,
    )


def launch_for_event(event: ClaimedEvent) -> PipelineLaunch:
    """The pipeline run an event fires; for a commit, from exactly that commit."""
    trigger = event.trigger
    if trigger.kind == "commit":
        branch, at_commit = trigger.config["branch"], event.key
    else:
        branch, at_commit = trigger.config.get("run_branch"), None
    return launch_of(
        trigger,
        event.run_id,
        source="trigger",
        fired_by=describe_event(trigger, event.details),
        branch=branch,
        at_commit=at_commit,
    )


def describe_event(trigger: Trigger, details: dict[str, Any]) -> str:
    """One line saying why a run fired, for the run's events and the CLI."""
    if trigger.kind == "commit":
        return (
            f"fired by trigger {trigger.name}: commit {str(details.get('commit'))[:12]} on "
            f"{details.get('branch')} ({details.get('subject', '')})"
        )
    if trigger.kind in ("data", "drift"):
        old = details.get("old_sha256") or "none"
        text = (
            f"fired by trigger {trigger.name}: {details.get('uri')} changed "
            f"{old[:12]} -> {str(details.get('new_sha256'))[:12]}"
        )
        drifted = [c["column"] for c in details.get("drift", []) if c.get("flagged")]
        return text + (f"; drift in {', '.join(drifted)}" if drifted else "")
    return (
        f"fired by trigger {trigger.name}: {details.get('condition')} held for "
        f"{details.get('values')} on stream {details.get('stream')}"
    )


class TriggerWatcher:
    """Checks due triggers and submits the events it claims through ``submit``."""

    def __init__(
        self,
        store: TriggerStore,
        submit: Callable[[RunSpec], Any],
        *,
        holder: str,
        clock: Callable[[], datetime] = utcnow,
        wake_file: Path | None = None,
        intervals: dict[str, float] | None = None,
        claim_timeout: float = 120.0,
        launch_pipeline: LaunchFn | None = None,
    ) -> None:
        self.store = store
        self.submit = submit
        self.holder = holder
        self.clock = clock
        self.wake_file = wake_file
        self.intervals = {**INTERVALS, **(intervals or {})}
        self.claim_timeout = claim_timeout
        self.launch_pipeline = launch_pipeline
        """Starts a pipeline trigger's run (None: such events fail, saying so)."""
        self._next_look: dict[str, datetime] = {}
        self._wake_mtime: int | None = None

    def _woken(self) -> bool:
        if self.wake_file is None:
            return False
        try:
            mtime = self.wake_file.stat().st_mtime_ns
        except OSError:
            return False
        woken = self._wake_mtime is not None and mtime != self._wake_mtime
        self._wake_mtime = mtime
        return woken

    def _interval(self, trigger: Trigger) -> float:
        return float(trigger.config.get("interval") or self.intervals[trigger.kind])

    def tick(self) -> float:
        """Look at every trigger that is due; return how long to sleep before the next pass."""
        now = self.clock()
        woken = self._woken()
        triggers = self.store.list(active_only=True)
        self._next_look = {t.id: self._next_look.get(t.id, now) for t in triggers}
        look = Look(self.store)
        for trigger in triggers:
            if trigger.next_check_at is not None and trigger.next_check_at > now:
                continue  # backing off after an error
            due = self._next_look[trigger.id] <= now or (woken and trigger.kind == "commit")
            if due:
                self._next_look[trigger.id] = now + timedelta(seconds=self._interval(trigger))
                self.look(trigger, now, look)
        return self._sleep_seconds(triggers)

    def _sleep_seconds(self, triggers: list[Trigger]) -> float:
        if not self._next_look:
            return 1.0
        soonest = min(self._next_look.values())
        wait = max((soonest - self.clock()).total_seconds(), 0.01)
        if self.wake_file is not None and any(t.kind == "commit" for t in triggers):
            wait = min(wait, WAKE_POLL)
        return min(wait, 1.0)

    def look(self, trigger: Trigger, now: datetime, look: Look | None = None) -> list[str]:
        """Check one trigger, claim what it saw and submit the claimed events' runs."""
        try:
            outcome = CHECKS[trigger.kind](trigger, look or Look(self.store))
        except (CheckError, ValueError, KeyError) as err:
            message = str(err)
            if message != trigger.last_error:
                log.warning("trigger %s: %s", trigger.id, message)
            self.store.note_error(trigger.id, message, now + timedelta(seconds=ERROR_BACKOFF))
            return []
        if outcome.state == (trigger.state or {}) and not outcome.events:
            if trigger.last_error is not None:
                self.store.note_error(trigger.id, None, None)
            return []
        claimed = self.store.advance(trigger, outcome.state, outcome.events, holder=self.holder)
        return [self._fire(event) for event in claimed or []]

    def _fire(self, event: ClaimedEvent) -> str:
        try:
            if event.target == PIPELINE:
                if self.launch_pipeline is None:
                    raise RuntimeError("this scheduler was started without pipelines")
                self.launch_pipeline(launch_for_event(event))
            else:
                self.submit(run_spec_for_event(event))
        except Exception as err:
            log.warning("trigger %s event %s: %s", event.trigger.id, event.key, err)
            return self.store.record_failed_event(
                event, f"the triggered run could not start: {err}"
            )
        self.store.finish_event(event)
        log.info("trigger %s fired %s as run %s", event.trigger.id, event.key, event.run_id)
        return event.run_id

    def maintain(self, now: datetime) -> None:
        """Record events whose claimer died before submitting as failed runs, and finish
        those whose claimer died between submitting and finishing."""
        lost = self.store.recover_stale_events(now, timeout=self.claim_timeout)
        if lost:
            log.warning(
                "recorded %d claimed but never submitted trigger run(s): %s", len(lost), lost
            )
