"""``jupyter mlops schedule add | list | show | pause | resume | delete | run-now``.

  jupyter mlops schedule add train.ipynb --cron "0 3 * * *" --tz Europe/Berlin \\
      --branch main -p lr 0.01 --catchup once --concurrency skip
  jupyter mlops schedule list | show ID | pause ID | resume ID | delete ID | run-now ID

Bad input (cron expression, time zone, notebook, branch, parameters, kernel) exits with
code 2 and writes nothing.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from traitlets import Bool, Float, Int, List, Unicode

from ..finite_json import dumps_json
from .base import EXIT_OK, JSON_FLAG, CommandGroupApp, MLOpsBaseApp, fail
from .follow import SubmittingApp
from .text import format_schedule_detail, format_schedules, local_time


class ScheduleBaseApp(MLOpsBaseApp):
    """A ``schedule`` subcommand. Its default :meth:`run` serves those that name one
    schedule and make one change (pause, resume, delete): ``change`` is the
    :class:`~jupyter_mlops.scheduling.service.ScheduleService` method to call with the
    schedule's id, ``done`` the line printed after (``{}``: the id)."""

    change: ClassVar[str] = ""
    done: ClassVar[str] = ""

    def service(self) -> Any:
        from ..scheduling.service import ScheduleService

        return ScheduleService(self.jobs())

    def schedule_id(self, service: Any) -> str:
        return str(service.resolve_id(self.one_argument("schedule id or name")))

    def run(self) -> int:
        service = self.service()
        schedule_id = self.schedule_id(service)
        getattr(service, self.change)(schedule_id)
        print(self.done.format(schedule_id))
        return EXIT_OK


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
        **JSON_FLAG,
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

    takes_parameters = True

    def run(self) -> int:
        from ..scheduling.service import ScheduleSpec

        notebook = self.one_argument("notebook path")
        if not self.cron:
            fail('--cron is required, e.g. --cron "0 3 * * *" (daily at 03:00)')
        service = self.service()
        schedule = service.create(
            ScheduleSpec(
                notebook=notebook,
                cron=self.cron,
                timezone=self.tz or None,
                branch=self.branch or None,
                parameters=self.typed_parameters,
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
            print(dumps_json(view, indent=2))
        else:
            print(schedule.id)
            state = "paused" if not schedule.active else "next run"
            print(
                f"schedule {schedule.id} ({schedule.name}): {schedule.cron} in "
                f"{schedule.timezone}; {state} "
                f"{local_time(view['next_fire_at'], schedule.timezone) if schedule.active else ''}",
                file=sys.stderr,
            )
        return EXIT_OK


class ScheduleListApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-list"
    description = "List schedules with their next fire time and last run."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        return self.print_result(self.service().list(), format_schedules)


class ScheduleShowApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-show"
    description = "Show a schedule: settings, next fire times, recent slots and runs."
    flags = dict(JSON_FLAG)

    def run(self) -> int:
        service = self.service()
        return self.print_result(service.detail(self.schedule_id(service)), format_schedule_detail)


class SchedulePauseApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-pause"
    description = "Pause a schedule (no slot fires until it is resumed)."
    change, done = "pause", "schedule {} paused"


class ScheduleResumeApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-resume"
    description = "Resume a paused schedule (missed slots follow its catch-up policy)."
    change, done = "resume", "schedule {} resumed"


class ScheduleDeleteApp(ScheduleBaseApp):
    name = "jupyter-mlops-schedule-delete"
    description = "Delete a schedule (its runs are kept)."
    change, done = "delete", "deleted schedule {}"


class ScheduleRunNowApp(SubmittingApp, ScheduleBaseApp):
    name = "jupyter-mlops-schedule-run-now"
    description = "Run a schedule's notebook once, now (prints the run id)."
    flags = dict(SubmittingApp.flags)
    command_path = ("schedule", "run-now")

    def submit(self) -> int:
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
