"""Firing delay and duplicates of the scheduler: many schedules, several processes, one store.

Creates ``--schedules`` active schedules (default 1,000) that are all due at the same
instants (``--period`` seconds apart, a second-level cron so the benchmark stays short;
``--period 60`` is "every minute"), starts ``--processes`` scheduler processes (default 3)
on one store, lets them fire for ``--duration`` seconds, pauses everything, stops the
processes (SIGTERM) and reads back what fired. The processes use the recording submit
(:mod:`tests.recording`): each fire is a run row linked to its
schedule and slot, created at the moment of the submit, and nothing executes, so the
figures are the scheduler's own: claim, submit call, bookkeeping.

Reported per store (SQLite file; PostgreSQL started for the run like the tests do):

* delay of each fire after its due time: median, p95, max;
* per slot, the delay of the *last* of the N fires (how long one burst of N takes);
* duplicates (a (schedule, slot) with more than one run: must be 0) and missed slots
  (must be 0), and how the fires were shared between the processes.

    python bench/scheduler.py [--schedules 1000] [--processes 3] [--period 10]
                              [--duration 40] [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import postgres
from sqlalchemy import select, update

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jupyter_mlops.scheduling.cron import CronSchedule  # noqa: E402
from jupyter_mlops.store import Run, RunStore  # noqa: E402
from jupyter_mlops.store.models import Schedule, ScheduleFire  # noqa: E402
from tests.recording import add_recorded_schedules, start_recording_schedulers  # noqa: E402

UTC = timezone.utc


def stop_workers(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0 or "Traceback" in err:
            print(f"  scheduler process exited {proc.returncode}: {err[-2000:]}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench(name: str, url: str, args: argparse.Namespace) -> None:
    store = RunStore(url)  # migrated here, before the processes start
    cron = f"* * * * * */{args.period}" if args.period < 60 else "* * * * *"
    every = CronSchedule.parse(cron, "UTC")
    first = every.next_after(datetime.now(UTC) + timedelta(seconds=8))
    ids = add_recorded_schedules(store, args.schedules, cron, first)
    procs = start_recording_schedulers(url, args.processes)
    try:
        end = first + timedelta(seconds=args.duration - args.period / 2)  # between slots
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))
        with store.writing() as session:
            session.execute(update(Schedule).values(active=False))
        paused_at = datetime.now(UTC)
        time.sleep(3)
    finally:
        stop_workers(procs)

    with store.reading() as session:
        rows = session.execute(select(Run.schedule_id, Run.scheduled_for, Run.created_at)).all()
        holders = Counter(session.scalars(select(ScheduleFire.holder)).all())
    store.close()

    per_slot = Counter((sid, slot) for sid, slot, _ in rows)
    duplicates = sum(n - 1 for n in per_slot.values() if n > 1)
    slots = every.slots(first, paused_at - timedelta(seconds=1))
    expected = {(sid, slot) for sid in ids for slot in slots}
    missing = len(expected - set(per_slot))
    delays = [(created - slot).total_seconds() for _, slot, created in rows]
    burst: dict[datetime, float] = defaultdict(float)
    for _, slot, created in rows:
        burst[slot] = max(burst[slot], (created - slot).total_seconds())

    print(f"\n{name}: {args.schedules} schedules every {args.period} s, {args.processes} processes")
    print(f"  fires            {len(rows)} over {len(slots)} slots (expected {len(expected)})")
    print(f"  duplicates       {duplicates}")
    print(f"  missed slots     {missing}")
    if delays:
        print(
            f"  delay after due  min {min(delays) * 1000:.0f} ms, "
            f"median {statistics.median(delays) * 1000:.0f} ms, "
            f"p95 {pct(delays, 0.95) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
        )
        print(
            "  last fire of each slot  "
            + ", ".join(f"{burst[s] * 1000:.0f} ms" for s in sorted(burst))
        )
    print("  fires per process " + ", ".join(f"{h} {n}" for h, n in sorted(holders.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--period", type=int, default=10, help="seconds (divides 60, or 60)")
    parser.add_argument("--duration", type=int, default=40, help="seconds of firing")
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    if args.period != 60 and 60 % args.period:
        parser.error("--period must divide 60 (second-level cron) or be 60")
    print(f"machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    for name in args.stores.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory(prefix="mlops-bench-sched-") as tmp:
                bench("SQLite", f"sqlite:///{Path(tmp) / 'mlops.db'}", args)
        elif name == "postgresql":
            with postgres() as url:
                bench("PostgreSQL", url, args)
        else:
            parser.error(f"unknown store {name!r}")


if __name__ == "__main__":
    main()
