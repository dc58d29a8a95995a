"""``jupyter mlops schedule ...`` and ``jupyter mlops scheduler``.

  jupyter mlops schedule add train.ipynb --cron "0 3 * * *" --tz Europe/Berlin \\
      --branch main -p lr 0.01 --catchup once --concurrency skip
  jupyter mlops schedule list | show ID | pause ID | resume ID | delete ID | run-now ID
  jupyter mlops scheduler          # fire due schedules until SIGTERM

Bad input (cron expression, time zone, notebook, branch, parameters, kernel) exits with
code 2 and writes nothing.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from traitlets import Bool, Float, Int, List, Unicode

from ..cli import (
    _JSON_FLAG,
    EXIT_OK,
    EXIT_USAGE,
    CommandGroupApp,
    MLOpsBaseApp,
    SubmittingApp,
    _fail,
)


class ScheduleBaseApp(MLOpsBaseApp):
    def service(self) -> Any:
        from .service import ScheduleService

        return ScheduleService(self.jobs())

    def schedule_id(self, service: Any) -> str:
        return str(service.resolve_id(self.one_argument("schedule id or name")))


def _split_parameters(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """``-p NAME VALUE`` pairs (papermill's syntax), taken out before traitlets sees argv."""
    params: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("-p", "--parameter"):
            if i + 2 >= len(argv):
                print(f"error: {argv[i]} needs a name and a value: -p NAME VALUE", file=sys.stderr)
                sys.exit(EXIT_USAGE)
            params[argv[i + 1]] = argv[i + 2]
            i += 3
        else:
            rest.append(argv[i])
            i += 1
    return params, rest


def _local(value: str | None, tz: str) -> str:
    if not value:
        return "-"
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(tz))
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


class ScheduleAddApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-add"
    description = """Schedule a notebook with a cron expression (evaluated in --tz).

  jupyter mlops schedule add train.ipynb --cron "0 3 * * *" --tz Europe/Berlin -p lr 0.01
  --branch main         run the branch's head commit at fire time (GitOps), not the file
  --catchup skip|once|all [--max-catchup N]   slots missed while no scheduler ran
  --concurrency allow|skip|queue              while the previous run is still active
"""
    aliases = {
        **MLOpsBaseApp.aliases,
        "cron": "ScheduleAddApp.cron",
        "tz": "ScheduleAddApp.tz",
        "timezone": "ScheduleAddApp.tz",
        "branch": "ScheduleAddApp.branch",
        "kernel": "ScheduleAddApp.kernel",
        "k": "ScheduleAddApp.kernel",
        "gpus": "ScheduleAddApp.gpus",
        "timeout": "ScheduleAddApp.timeout",
        "tag": "ScheduleAddApp.tags",
        "catchup": "ScheduleAddApp.catchup",
        "max-catchup": "ScheduleAddApp.max_catchup",
        "concurrency": "ScheduleAddApp.concurrency",
        "name": "ScheduleAddApp.schedule_name",
    }
    flags = {
        **_JSON_FLAG,
        "paused": ({"ScheduleAddApp": {"paused": True}}, "Create the schedule paused."),
    }

    cron = Unicode("", help="Cron expression (5 fields, or 6 with seconds last).").tag(config=True)
    tz = Unicode("", help="IANA time zone of the cron expression (default: this machine's).").tag(
        config=True
    )
    branch = Unicode("", help="Run the head of this git branch instead of the working copy.").tag(
        config=True
    )
    kernel = Unicode("", help="Kernel name (default: the notebook's kernel).").tag(config=True)
    gpus = Int(0, help="Number of GPUs per run.").tag(config=True)
    timeout = Float(0.0, help="Seconds before a run is stopped as timed out.").tag(config=True)
    tags = List(Unicode(), help="Tags for every run (repeatable).").tag(config=True)
    catchup = Unicode("skip", help="Missed slots: skip, once or all.").tag(config=True)
    max_catchup = Int(10, help="With --catchup all: at most this many missed slots.").tag(
        config=True
    )
    concurrency = Unicode("allow", help="allow, skip or queue.").tag(config=True)
    schedule_name = Unicode("", help="Name (default: the notebook's name).").tag(config=True)
    paused = Bool(False).tag(config=True)

    raw_parameters: dict[str, str]

    def parse_command_line(self, argv: list[str] | None = None) -> None:
        self.raw_parameters, rest = _split_parameters(list(sys.argv[1:] if argv is None else argv))
        super().parse_command_line(rest)

    def run(self) -> int:
        from .service import ScheduleSpec

        notebook = self.one_argument("notebook path")
        if not self.cron:
            _fail('--cron is required, e.g. --cron "0 3 * * *" (daily at 03:00)')
        service = self.service()
        schedule = service.create(
            ScheduleSpec(
                notebook=notebook,
                cron=self.cron,
                timezone=self.tz or None,
                branch=self.branch or None,
                raw_parameters=self.raw_parameters,
                kernel=self.kernel or None,
                gpus=self.gpus,
                timeout=self.timeout or None,
                tags=list(self.tags),
                catchup=self.catchup,
                max_catchup=self.max_catchup,
                concurrency=self.concurrency,
                name=self.schedule_name or None,
                active=not self.paused,
            )
        )
        view = service.get(schedule.id)
        if self.json_output:
            print(json.dumps(view, indent=2))
        else:
            print(schedule.id)
            state = "paused" if not schedule.active else "next run"
            print(
                f"schedule {schedule.id} ({schedule.name}): {schedule.cron} in "
                f"{schedule.timezone}; {state} "
                f"{_local(view['next_fire_at'], schedule.timezone) if schedule.active else ''}",
                file=sys.stderr,
            )
        return EXIT_OK


class ScheduleListApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-list"
    description = "List schedules with their next fire time and last run."
    flags = dict(_JSON_FLAG)

    def run(self) -> int:
        rows = self.service().list()
        if self.json_output:
            print(json.dumps(rows, indent=2))
            return EXIT_OK
        headers = ["ID", "NAME", "STATE", "CRON", "TZ", "SOURCE", "NEXT", "LAST RUN", "STATUS"]
        lines = [
            [
                r["id"],
                r["name"],
                "active" if r["active"] else "paused",
                r["cron"],
                r["timezone"],
                f"branch {r['branch']}" if r["branch"] else "working copy",
                _local(r["next_fire_at"], r["timezone"]),
                r["last_run_id"] or "-",
                r["last_run_status"] or "-",
            ]
            for r in rows
        ]
        widths = [max(len(str(x)) for x in col) for col in zip(headers, *lines, strict=False)]
        out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
        out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
        print("\n".join(out) if lines else out[0] + "\n(no schedules)")
        return EXIT_OK


class ScheduleShowApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-show"
    description = "Show a schedule: settings, next fire times, recent slots and runs."
    flags = dict(_JSON_FLAG)

    def run(self) -> int:
        service = self.service()
        d = service.detail(self.schedule_id(service))
        if self.json_output:
            print(json.dumps(d, indent=2))
            return EXIT_OK
        tz = d["timezone"]
        out = [
            f"schedule     {d['id']} ({d['name']})",
            f"state        {'active' if d['active'] else 'paused'}",
            f"notebook     {d['notebook']}",
            f"source       {'branch ' + d['branch'] if d['branch'] else 'working copy'}",
            f"cron         {d['cron']}  ({tz})",
            f"catch-up     {d['catchup']}"
            + (f" (at most {d['max_catchup']})" if d["catchup"] == "all" else ""),
            f"concurrency  {d['concurrency']}",
            f"kernel       {d['kernel'] or '(notebook default)'}  gpus {d['gpus']}  "
            f"timeout {d['timeout_s'] or 'none'}",
            f"tags         {', '.join(d['tags']) or '-'}",
            f"last run     {d['last_run_id'] or '-'} ({d['last_run_status'] or '-'})",
            "parameters",
            *(f"  {k} = {json.dumps(v)}" for k, v in d["parameters"].items()),
            "next fire times" if d["active"] else "fire times (when resumed)",
            *(f"  {_local(t, tz)}" for t in d["upcoming"]),
            "recent slots",
        ]
        for f in d["fires"]:
            line = f"  {_local(f['slot'], tz)}  {f['state']:<8} {f['run_id'] or '-':<12}"
            line += f" {f['run_status'] or ''}"
            if f["reason"]:
                line += f"  {f['reason']}"
            out.append(line)
        if not d["fires"]:
            out.append("  (none yet)")
        print("\n".join(out))
        return EXIT_OK


class SchedulePauseApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-pause"
    description = "Pause a schedule (no slot fires until it is resumed)."

    def run(self) -> int:
        service = self.service()
        schedule = service.pause(self.schedule_id(service))
        print(f"schedule {schedule.id} paused")
        return EXIT_OK


class ScheduleResumeApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-resume"
    description = "Resume a paused schedule (missed slots follow its catch-up policy)."

    def run(self) -> int:
        service = self.service()
        schedule = service.resume(self.schedule_id(service))
        print(f"schedule {schedule.id} resumed")
        return EXIT_OK


class ScheduleDeleteApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-delete"
    description = "Delete a schedule (its runs are kept)."

    def run(self) -> int:
        service = self.service()
        schedule_id = self.schedule_id(service)
        service.delete(schedule_id)
        print(f"deleted schedule {schedule_id}")
        return EXIT_OK


class ScheduleRunNowApp(SubmittingApp, ScheduleBaseApp):
    name = "jupyter-mlops-schedule-run-now"
    description = "Run a schedule's notebook once, now (prints the run id)."
    flags = dict(SubmittingApp.flags)

    def run(self) -> int:
        service = self.service()
        submission = service.run_now(self.schedule_id(service), "cli")
        print(submission.run.id)
        return self.follow(submission)


class ScheduleApp(CommandGroupApp):
    name = "jupyter-mlops-schedule"
    description = "Cron schedules: add, list, show, pause, resume, delete, run-now."
    subcommands = {
        "add": (ScheduleAddApp, "Schedule a notebook."),
        "list": (ScheduleListApp, "List schedules."),
        "show": (ScheduleShowApp, "Show one schedule."),
        "pause": (SchedulePauseApp, "Pause a schedule."),
        "resume": (ScheduleResumeApp, "Resume a schedule."),
        "delete": (ScheduleDeleteApp, "Delete a schedule."),
        "run-now": (ScheduleRunNowApp, "Run a schedule's notebook now."),
    }

    show_description = True


class SchedulerApp(MLOpsBaseApp):
    name = "jupyter-mlops-scheduler"
    description = """Fire due schedules until stopped (SIGTERM or Ctrl-C end it cleanly).

Any number of schedulers (and jupyter servers with the extension) may share one store:
each slot fires exactly once. Schedules added or changed elsewhere are seen within a
second."""
    aliases = {
        **MLOpsBaseApp.aliases,
        "poll-interval": "SchedulerApp.poll_interval",
        "misfire-grace": "SchedulerApp.misfire_grace",
        "claim-timeout": "SchedulerApp.claim_timeout",
    }

    poll_interval = Float(1.0, help="Longest sleep between looks at the store (s).").tag(
        config=True
    )
    misfire_grace = Float(
        60.0, help="A slot seen later than this (s) is missed: its catch-up policy applies."
    ).tag(config=True)
    claim_timeout = Float(
        120.0, help="A claimed slot with no run after this long (s) is recorded as failed."
    ).tag(config=True)

    def run(self) -> int:
        from ..store.schedules import ScheduleStore
        from .scheduler import Scheduler

        if self.extra_args:
            _fail(f"unexpected arguments: {self.extra_args}")
        logging.basicConfig(
            level=logging.INFO,
            stream=sys.stderr,
            format="[%(asctime)s %(name)s] %(message)s",
        )
        jobs = self.jobs()
        scheduler = Scheduler(
            ScheduleStore(self.store),
            jobs.submit,
            poll_interval=self.poll_interval,
            misfire_grace=self.misfire_grace,
            claim_timeout=self.claim_timeout,
            reconcile=jobs.reconcile,
        )

        def stop(signum: int, _frame: Any) -> None:
            logging.getLogger("jupyter_mlops.scheduler").info(
                "%s received: stopping", signal.Signals(signum).name
            )
            scheduler.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        url = self.store.engine.url.render_as_string(hide_password=True)
        print(f"scheduler {scheduler.holder} on {url}", file=sys.stderr, flush=True)
        scheduler.run()
        return EXIT_OK
