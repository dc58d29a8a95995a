"""Cron schedules: DST-correct fire times, the exactly-once scheduler loop, the service
the CLI and REST API use to manage schedules.

* :mod:`.cron` — cron expressions evaluated in the schedule's IANA time zone;
* :mod:`.scheduler` — :class:`Scheduler`, the loop (in the server and stand-alone);
* :mod:`.service` — :class:`ScheduleService`, validation and CRUD;
* :mod:`jupyter_mlops.store.schedules` — the queries; the per-slot claims are in
  :mod:`jupyter_mlops.store.schedule_fires`.
"""

from .cron import CronError, CronSchedule
from .scheduler import Scheduler, plan_fires
from .service import ScheduleError, ScheduleService, ScheduleSpec, schedule_dict

__all__ = [
    "CronError",
    "CronSchedule",
    "ScheduleError",
    "ScheduleService",
    "ScheduleSpec",
    "Scheduler",
    "plan_fires",
    "schedule_dict",
]
