"""``jupyter mlops trigger add | list | show | pause | resume | delete``.

  jupyter mlops trigger add train.ipynb --on-commit main [--paths src/ data.dvc] [-p ...]
  jupyter mlops trigger add train.ipynb --on-data data/train.csv
  jupyter mlops trigger add train.ipynb --on-drift live.csv --reference models:/churn@production
  jupyter mlops trigger add train.ipynb --on-metric "prod/acc < 0.9" --stream churn-prod --for 3

Triggers fire in the schedulers (the jupyter server's and every ``jupyter mlops scheduler``),
each event exactly once. Bad input (a branch that does not exist, an unreadable dataset, a
condition that cannot be read) exits with code 2 and writes nothing.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from traitlets import Bool, Float, Int, List, Unicode

from ..finite_json import dumps_json
from .base import EXIT_OK, JSON_FLAG, CommandGroupApp, MLOpsBaseApp
from .text import target_text


def describe_trigger(view: dict[str, Any]) -> str:
    """What a trigger watches, in a few words."""
    config = view["config"]
    if view["kind"] == "commit":
        paths = f" touching {' '.join(config['paths'])}" if config.get("paths") else ""
        return f"each new commit on {config['branch']}{paths} (policy {config['policy']})"
    if view["kind"] == "data":
        return f"a new version of {config['uri']}"
    if view["kind"] == "drift":
        return (
            f"drift of {config['uri']} from {config['reference']}'s training data "
            f"(PSI > {config['column_psi']:g} or KS > {config['ks']:g})"
        )
    return f"{config['condition']} for {config['for']} point(s) on stream {config['stream']}"


def format_triggers(views: list[dict[str, Any]]) -> str:
    if not views:
        return "no triggers"
    lines = []
    for view in views:
        state = "active" if view["active"] else "paused"
        last = view["last_run_id"] or "-"
        error = f"  ! {view['last_error']}" if view["last_error"] else ""
        lines.append(
            f"{view['id']}  {state:6}  {view['name']}: "
            f"{target_text(view.get('target'), view['notebook_path'])} on "
            f"{describe_trigger(view)}; last run {last}{error}"
        )
    return "\n".join(lines)


def format_trigger_detail(view: dict[str, Any]) -> str:
    lines = [format_triggers([view]), "events (newest first):"]
    for event in view["events"] or []:
        run = f"run {event['run_id']} {event['run_status'] or ''}" if event["run_id"] else "no run"
        why = f" ({event['reason']})" if event["reason"] else ""
        lines.append(f"  {event['claimed_at']}  {event['key'][:40]}  {event['state']}  {run}{why}")
    if not view["events"]:
        lines.append("  none yet")
    return "\n".join(lines)


class TriggerBaseApp(MLOpsBaseApp):
    """A ``trigger`` subcommand; the default :meth:`run` serves pause, resume and delete."""

    change: ClassVar[str] = ""
    done: ClassVar[str] = ""

    def service(self) -> Any:
        from ..scheduling.trigger_service import TriggerService

        return TriggerService(self.jobs())

    def trigger_id(self, service: Any) -> str:
        return str(service.resolve_id(self.one_argument("trigger id or name")))

    def run(self) -> int:
        service = self.service()
        trigger_id = self.trigger_id(service)
        getattr(service, self.change)(trigger_id)
        print(self.done.format(trigger_id))
        return EXIT_OK


class TriggerAddApp(TriggerBaseApp):
    name = "jupyter-mlops-trigger-add"
    description = """Run a notebook when code, data or a production figure says so.

  --on-commit BRANCH [--paths P ...] [--policy newest|each]   each new commit (from it)
  --on-data PATH_OR_URL                                      a new version of the data
  --on-drift PATH_OR_URL --reference models:/NAME@ALIAS [--column-psi 0.2] [--ks 0.1]
  --on-metric "KEY OP NUMBER" --stream NAME [--for N]        N consecutive points hold
"""
    aliases = {
        **MLOpsBaseApp.aliases,
        "on-commit": "TriggerAddApp.on_commit",
        "paths": "TriggerAddApp.paths",
        "policy": "TriggerAddApp.policy",
        "on-data": "TriggerAddApp.on_data",
        "on-drift": "TriggerAddApp.on_drift",
        "reference": "TriggerAddApp.reference",
        "column-psi": "TriggerAddApp.column_psi",
        "ks": "TriggerAddApp.ks",
        "on-metric": "TriggerAddApp.on_metric",
        "stream": "TriggerAddApp.stream",
        "for": "TriggerAddApp.for_points",
        "branch": "TriggerAddApp.branch",
        "interval": "TriggerAddApp.interval",
        "kernel": "TriggerAddApp.kernel",
        "k": "TriggerAddApp.kernel",
        "gpus": "TriggerAddApp.gpus",
        "timeout": "TriggerAddApp.timeout",
        "tag": "TriggerAddApp.tags",
        "name": "TriggerAddApp.trigger_name",
    }
    flags = {
        **JSON_FLAG,
        "paused": ({"TriggerAddApp": {"paused": True}}, "Create the trigger paused."),
    }

    on_commit = Unicode("", help="Fire on each new commit of this branch.").tag(config=True)
    paths = List(Unicode(), help="Only commits touching these paths (repeatable).").tag(config=True)
    policy = Unicode("newest", help="Several new commits at once: newest or each.").tag(config=True)
    on_data = Unicode("", help="Fire when this dataset's content hash changes.").tag(config=True)
    on_drift = Unicode("", help="Fire when this dataset drifts from the reference's.").tag(
        config=True
    )
    reference = Unicode("", help="models:/NAME@ALIAS whose training data is the reference.").tag(
        config=True
    )
    column_psi = Float(0.2, help="Drift: population stability index threshold.").tag(config=True)
    ks = Float(0.1, help="Drift: Kolmogorov-Smirnov statistic threshold.").tag(config=True)
    on_metric = Unicode("", help="Fire when this condition holds, e.g. 'acc < 0.9'.").tag(
        config=True
    )
    stream = Unicode("", help="The monitored stream of --on-metric.").tag(config=True)
    for_points = Int(1, help="--on-metric: consecutive points the condition must hold.").tag(
        config=True
    )
    branch = Unicode("", help="Data/metric triggers: run this branch's head.").tag(config=True)
    interval = Float(0.0, help="Seconds between two looks (default by kind).").tag(config=True)
    kernel = Unicode("", help="Kernel name (default: the notebook's kernel).").tag(config=True)
    gpus = Int(0, help="Number of GPUs per run.").tag(config=True)
    timeout = Float(0.0, help="Seconds before a run is stopped as timed out.").tag(config=True)
    tags = List(Unicode(), help="Tags for every run (repeatable).").tag(config=True)
    trigger_name = Unicode("", help="Name (default: notebook and event).").tag(config=True)
    paused = Bool(False).tag(config=True)

    takes_parameters = True

    def run(self) -> int:
        from ..scheduling.trigger_service import TriggerSpec, trigger_dict

        notebook = self.one_argument("notebook path")
        spec = TriggerSpec(
            notebook=notebook,
            on_commit=self.on_commit or None,
            paths=list(self.paths),
            policy=self.policy,
            on_data=self.on_data or None,
            on_drift=self.on_drift or None,
            reference=self.reference or None,
            column_psi=self.column_psi,
            ks=self.ks,
            on_metric=self.on_metric or None,
            stream=self.stream or None,
            for_points=self.for_points,
            branch=self.branch or None,
            interval=self.interval or None,
            parameters=self.typed_parameters,
            raw_parameters=self.raw_parameters,
            kernel=self.kernel or None,
            gpus=self.gpus,
            timeout=self.timeout or None,
            tags=list(self.tags),
            name=self.trigger_name or None,
            active=not self.paused,
        )
        trigger = self.service().create(spec)
        view = trigger_dict(trigger)
        if self.json_output:
            print(dumps_json(view, indent=2))
        else:
            print(trigger.id)
            print(
                f"trigger {trigger.id} ({trigger.name}): {describe_trigger(view)}", file=sys.stderr
            )
        return EXIT_OK


class TriggerListApp(TriggerBaseApp):
    name = "jupyter-mlops-trigger-list"
    description = "List triggers with what they watch and their last run."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        return self.print_result(self.service().list(), format_triggers)


class TriggerShowApp(TriggerBaseApp):
    name = "jupyter-mlops-trigger-show"
    description = "Show a trigger: what it watches, its events and their runs."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        service = self.service()
        return self.print_result(service.detail(self.trigger_id(service)), format_trigger_detail)


class TriggerPauseApp(TriggerBaseApp):
    name = "jupyter-mlops-trigger-pause"
    description = "Pause a trigger (nothing fires until it is resumed)."
    change, done = "pause", "trigger {} paused"


class TriggerResumeApp(TriggerBaseApp):
    name = "jupyter-mlops-trigger-resume"
    description = "Resume a paused trigger (a change seen meanwhile fires once)."
    change, done = "resume", "trigger {} resumed"


class TriggerDeleteApp(TriggerBaseApp):
    name = "jupyter-mlops-trigger-delete"
    description = "Delete a trigger (its runs are kept)."
    change, done = "delete", "deleted trigger {}"


class TriggerApp(CommandGroupApp):
    name = "jupyter-mlops-trigger"
    description = "Event triggers: add, list, show, pause, resume, delete."
    subcommands = {
        "add": (TriggerAddApp, "Fire a notebook on a commit, new data, drift or a metric."),
        "list": (TriggerListApp, "List triggers."),
        "show": (TriggerShowApp, "Show one trigger and its events."),
        "pause": (TriggerPauseApp, "Pause a trigger."),
        "resume": (TriggerResumeApp, "Resume a trigger."),
        "delete": (TriggerDeleteApp, "Delete a trigger."),
    }

    show_description = True
