"""What each kind of trigger looks at, and what it saw: one function per kind.

A check reads the world (git, a dataset, a monitored stream) and the trigger's ``state``
and returns the new state and the events to claim (:class:`~..store.triggers.NewEvent`);
it writes nothing. :class:`~.triggers.TriggerWatcher` commits what a check returns with a
compare-and-set, so a check may run in several scheduler processes at once.

Each check is cheap when nothing changed: one ``git rev-parse`` for a branch, one
``stat`` (through the dataset stat cache) for data, one indexed query for a stream.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..gitcmd import GitError, git_output, run_git
from ..store.models_triggers import Trigger
from ..store.triggers import NewEvent, TriggerStore

MAX_COMMITS_PER_CHECK = 50
"""Most new commits one check fires for (policy ``each``); older ones are skipped, named."""

COMMIT_POLICIES = ("newest", "each")


class CheckError(Exception):
    """A check could not look (missing repository or branch, unreadable data): the message
    is recorded on the trigger and the check is retried later."""


@dataclass(frozen=True)
class Outcome:
    state: dict[str, Any]
    events: list[NewEvent]


@dataclass
class Look:
    """What the checks of one watcher pass share: the store, and the branch heads already
    read in this pass (100 triggers on one branch cost one ``git rev-parse``)."""

    store: TriggerStore
    heads: dict[tuple[str, str], str] = field(default_factory=dict)

    def head(self, repo: str, branch: str) -> str:
        key = (repo, branch)
        if key not in self.heads:
            self.heads[key] = branch_head(repo, branch)
        return self.heads[key]


# -- on commit ------------------------------------------------------------------------------


def branch_head(repo: str, branch: str) -> str:
    """The commit ``branch`` points at in ``repo`` (a local or remote-tracking branch)."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/{branch}"):
        proc = run_git(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], cwd=repo, check=False)
        sha = proc.stdout.decode().strip() if proc.returncode == 0 else ""
        if sha:
            return sha
    raise CheckError(f"branch {branch!r} does not exist in {repo}")


def new_commits(repo: str, since: str | None, head: str, paths: list[str]) -> list[str]:
    """Commits reachable from ``head`` and not from ``since``, oldest first, touching
    ``paths`` when given (all of ``head`` alone when ``since`` is unknown)."""
    if since is None:
        return [head]
    known = run_git(["cat-file", "-e", f"{since}^{{commit}}"], cwd=repo, check=False)
    span = [f"{since}..{head}"] if known.returncode == 0 else ["-1", head]
    args = ["rev-list", "--reverse", *span]
    if paths:
        args += ["--", *paths]
    try:
        return git_output(args, cwd=repo).split()
    except GitError as err:
        raise CheckError(str(err)) from None


def commit_subject(repo: str, sha: str) -> str:
    try:
        return git_output(["log", "-1", "--format=%s", sha], cwd=repo).strip()[:200]
    except GitError:
        return ""


def check_commit(trigger: Trigger, look: Look) -> Outcome:
    """New commits on the branch (touching the paths): each fires, or only the newest."""
    config, state = trigger.config, dict(trigger.state or {})
    repo, branch = config["repo"], config["branch"]
    if not Path(repo).is_dir():
        raise CheckError(f"repository {repo} does not exist")
    head = look.head(repo, branch)
    last = state.get("last_commit")
    if head == last:
        return Outcome(state, [])
    commits = new_commits(repo, last, head, list(config.get("paths") or []))
    state["last_commit"] = head
    if not commits:
        return Outcome(state, [])  # new commits, none touching the paths
    firing = commits[-1:] if config.get("policy", "newest") == "newest" else commits
    firing = firing[-MAX_COMMITS_PER_CHECK:]
    events = []
    for sha in commits:
        details = {
            "commit": sha,
            "branch": branch,
            "subject": commit_subject(repo, sha),
            "previous": last,
        }
        if sha in firing:
            events.append(NewEvent(key=sha, details=details))
        else:
            why = f"superseded by {commits[-1][:12]} (policy {config.get('policy', 'newest')})"
            events.append(NewEvent(key=sha, details=details, run=False, reason=why))
    return Outcome(state, events)


# -- on a metric ----------------------------------------------------------------------------

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_CONDITION = re.compile(
    r"^\s*(?P<key>[^\s<>=!]+)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<number>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class MetricCondition:
    key: str
    op: str
    threshold: float

    def holds(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False  # a missing figure proves nothing
        return _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.threshold:g}"


def parse_condition(text: str) -> MetricCondition:
    """``"prod/accuracy < 0.9"``: a metric key, an operator and a number."""
    match = _CONDITION.match(text or "")
    if match is None:
        raise ValueError(
            f"cannot read the condition {text!r}: write METRIC OP NUMBER, e.g. "
            "'prod/accuracy < 0.9' (OP one of < <= > >= == !=)"
        )
    return MetricCondition(match["key"], match["op"], float(match["number"]))


def check_metric(trigger: Trigger, look: Look) -> Outcome:
    """Fires when the condition holds for ``for`` consecutive points, once per crossing:
    not again until a point where it does not hold (recovery)."""
    config, state = trigger.config, dict(trigger.state or {})
    condition = parse_condition(config["condition"])
    needed = max(1, int(config.get("for", 1)))
    last_point = int(state.get("last_point", 0))
    points = look.store.points_after(config["stream"], condition.key, last_point)
    if not points:
        return Outcome(state, [])
    streak = int(state.get("streak", 0))
    crossed = bool(state.get("crossed", False))
    recent = list(state.get("recent", []))
    events: list[NewEvent] = []
    for point in points:
        holds = condition.holds(point.value)
        streak = streak + 1 if holds else 0
        recent = ([*recent, point.value] if holds else [])[-needed:]
        if crossed and not holds:
            crossed = False  # recovered: the next crossing fires again
        elif not crossed and streak >= needed:
            crossed = True
            events.append(
                NewEvent(
                    key=f"point:{point.id}",
                    details={
                        "stream": config["stream"],
                        "condition": str(condition),
                        "values": recent,
                        "point": point.id,
                        "step": point.step,
                    },
                )
            )
    state.update(last_point=points[-1].id, streak=streak, crossed=crossed, recent=recent)
    return Outcome(state, events)


# -- on data and on drift ---------------------------------------------------------------------


def dataset_hash(uri: str) -> dict[str, Any]:
    """The dataset's fingerprint (hash, size, ETag...) through the stat cache."""
    from ..datasets import fingerprint

    try:
        found = fingerprint(uri, with_stats=False)
    except (OSError, ValueError) as err:
        raise CheckError(f"cannot read {uri}: {err}") from None
    return {"sha256": found.sha256, "size": found.size}


def data_event_key(sha256: str, change: int) -> str:
    """``sha256:HASH#N``: the dataset's content after the trigger's N-th change of it.

    The count makes each change an event of its own: keyed by the hash alone, data that
    goes back to an earlier content (A, B, A: a revert, a nightly file that alternates)
    would name an event already claimed, and the change would fire nothing. Schedulers
    that see the same change read the same count from the trigger's state, so they still
    claim one event between them."""
    return f"sha256:{sha256}#{change}"


def check_data(trigger: Trigger, _look: Look) -> Outcome:
    """Fires once per change of the dataset's content (back to an earlier content too),
    with the old and new hashes."""
    config, state = trigger.config, dict(trigger.state or {})
    now = dataset_hash(config["uri"])
    old = state.get("last_sha256")
    if now["sha256"] == old:
        return Outcome(state, [])
    change = int(state.get("changes", 0)) + 1
    state.update(last_sha256=now["sha256"], changes=change)
    details = {"uri": config["uri"], "old_sha256": old, "new_sha256": now["sha256"]}
    return Outcome(state, [NewEvent(key=data_event_key(now["sha256"], change), details=details)])


def check_drift(trigger: Trigger, look: Look) -> Outcome:
    """When the data changes, compare its statistics with those of the data the reference
    model version was trained on; fire only when a column drifts beyond the thresholds."""
    from .drift_reference import drift_event

    outcome = check_data(trigger, look)
    if not outcome.events:
        return outcome
    event = outcome.events[0]
    return Outcome(outcome.state, [drift_event(trigger, look.store, event)])


CHECKS: dict[str, Callable[[Trigger, Look], Outcome]] = {
    "commit": check_commit,
    "data": check_data,
    "drift": check_drift,
    "metric": check_metric,
}
