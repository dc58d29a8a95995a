"""Cron expressions evaluated in a schedule's IANA time zone, correct across DST changes.

A schedule's *slots* are instants (UTC). Cron fields describe local wall-clock times in the
schedule's zone, so twice a year a wall time does not exist (spring forward) or exists twice
(fall back). The rules are those of Vixie cron / cronie:

* a wall time in the **gap** (e.g. 02:30 on the night clocks jump from 02:00 to 03:00) fires
  at the moment of the jump when the hour field is fixed (``30 2 * * *`` still runs that day,
  at 03:00); with a wildcard hour field (``*``, ``*/2``) it simply does not exist, since the
  job runs every hour of real time anyway;
* a wall time that occurs **twice** (e.g. 02:30 on the night clocks go back from 03:00 to
  02:00) fires once, at its first occurrence, when the hour field is fixed (a daily job runs
  once a day); with a wildcard hour field it fires at both occurrences (an hourly job runs
  every real hour).

``croniter`` iterates naive wall times; this module maps each to its instants and handles the
two cases above. Seconds are supported as a 6th field (``* * * * * */2``: every 2 s).
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CronError", "CronSchedule", "local_zone_name", "validate_timezone"]

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_WINDOW = timedelta(hours=3)
"""Larger than any DST shift (at most 2 h, Antarctica/Troll): how far around an instant
to look for a transition."""
_ONE_US = timedelta(microseconds=1)
_MAX_STEPS = 100_000


class CronError(ValueError):
    """A cron expression or time zone that cannot be used (message names the problem)."""


def validate_timezone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise CronError("time zone must be an IANA name such as 'Europe/Berlin' or 'UTC'")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CronError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin', "
            "'America/New_York' or 'UTC'"
        ) from None


def local_zone_name() -> str:
    """This machine's IANA zone (``TZ``, ``/etc/timezone``, ``/etc/localtime``), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name:
            try:
                ZoneInfo(name)
                return name
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return "UTC"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime; cron slots are computed from aware instants")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class CronSchedule:
    """A validated cron expression in a time zone; slots are aware UTC datetimes."""

    expr: str
    tz_name: str
    tz: ZoneInfo = field(repr=False, compare=False)
    wildcard_hour: bool = field(repr=False, compare=False)
    _local: threading.local = field(
        default_factory=threading.local, init=False, repr=False, compare=False
    )

    @classmethod
    def parse(cls, expr: str, tz_name: str = "UTC") -> CronSchedule:
        from croniter import croniter

        if not isinstance(expr, str) or not expr.strip():
            raise CronError("the cron expression is empty; e.g. '0 3 * * *' (daily at 03:00)")
        text = " ".join(expr.split())
        expanded = ALIASES.get(text.lower(), text)
        fields = expanded.split()
        if expanded.startswith("@") or len(fields) not in (5, 6):
            raise CronError(
                f"invalid cron expression {expr!r}: expected 5 fields (minute hour day month "
                "weekday), 6 with seconds last, or an alias such as @daily"
            )
        try:
            croniter(expanded, datetime(2000, 1, 1))
        except Exception as err:  # croniter's errors are ValueErrors with a reason
            raise CronError(f"invalid cron expression {expr!r}: {err}") from None
        tz = validate_timezone(tz_name)
        cron = cls(
            expr=expanded, tz_name=tz_name.strip(), tz=tz, wildcard_hour=fields[1].startswith("*")
        )
        try:  # e.g. "0 0 30 2 *" parses but never fires
            cron.next_after(datetime(2000, 1, 1, tzinfo=timezone.utc))
        except Exception as err:
            raise CronError(f"cron expression {expr!r} never fires: {err}") from None
        return cron

    # -- wall time <-> instants ----------------------------------------------------------

    def _wall(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz).replace(tzinfo=None)

    def _instants(self, wall: datetime) -> list[datetime]:
        """The slot instants of one matching wall time (0, 1 or 2 of them)."""
        first = wall.replace(tzinfo=self.tz, fold=0).astimezone(timezone.utc)
        second = wall.replace(tzinfo=self.tz, fold=1).astimezone(timezone.utc)
        if first == second:
            return [first]
        exists_first = self._wall(first) == wall
        exists_second = self._wall(second) == wall
        if exists_first and exists_second:  # repeated wall time (fall back)
            early, late = sorted((first, second))
            return [early, late] if self.wildcard_hour else [early]
        if self.wildcard_hour:  # wall time in the gap (spring forward)
            return []
        return [self._transition(min(first, second), max(first, second))]

    def _transition(self, before: datetime, after: datetime) -> datetime:
        """The first instant in (before, after] with ``after``'s UTC offset (bisection)."""
        target = after.astimezone(self.tz).utcoffset()
        lo, hi = before, after
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            mid = mid.replace(microsecond=0)
            if mid <= lo:
                break
            if mid.astimezone(self.tz).utcoffset() == target:
                hi = mid
            else:
                lo = mid
        return hi.replace(microsecond=0)

    def _offset(self, instant: datetime) -> timedelta:
        return instant.astimezone(self.tz).utcoffset() or timedelta(0)

    def _croniter(self) -> Any:
        """This thread's iterator over the expression (expanding it costs ~0.15 ms, so it
        is done once per thread and reset with ``set_current``)."""
        it = getattr(self._local, "it", None)
        if it is None:
            from croniter import croniter

            it = self._local.it = croniter(self.expr, datetime(2000, 1, 1))
        return it

    def _iter(self, wall: datetime, forward: bool):  # type: ignore[no-untyped-def]
        it = self._croniter()
        it.set_current(wall, force=True)
        step = it.get_next if forward else it.get_prev
        for _ in range(_MAX_STEPS):
            yield step(datetime)
        raise CronError(f"cron expression {self.expr!r}: no slot within {_MAX_STEPS} steps")

    # -- slots -----------------------------------------------------------------------------

    def next_after(self, after: datetime) -> datetime:
        """The first slot strictly after ``after``."""
        t = _utc(after)
        best: datetime | None = None
        for wall in self._iter(self._wall(t), forward=True):
            later = [i for i in self._instants(wall) if i > t]
            if later:
                best = min(later)
                break
        assert best is not None
        # Clocks going back between t and best repeat wall times *before* t's wall time,
        # which the forward iteration above never visits: look at the repeated range.
        end = min(best, t + _WINDOW)
        if self.wildcard_hour and self._offset(end) < self._offset(t):
            change = self._transition(t, end)
            start = self._wall(change) - _ONE_US
            for wall in self._iter(start, forward=True):
                if wall >= self._wall(best):
                    break
                repeated = [i for i in self._instants(wall) if i > t]
                if repeated:
                    best = min(best, *repeated)
                    break
        return best

    def prev_before(self, before: datetime) -> datetime | None:
        """The last slot strictly before ``before`` (None if there is none)."""
        t = _utc(before)
        best: datetime | None = None
        start = self._wall(t)
        for wall in self._iter(start, forward=False):
            earlier = [i for i in self._instants(wall) if i < t]
            if earlier:
                best = max(earlier)
                break
        assert best is not None
        # Clocks that went back between best and t: the first occurrences of the repeated
        # wall times lie *after* t's wall time, which backward iteration never visits.
        begin = max(best, t - _WINDOW)
        if self._offset(begin) > self._offset(t):
            change = self._transition(begin, t)
            old_wall_end = (change - _ONE_US).astimezone(self.tz).replace(tzinfo=None)
            for wall in self._iter(old_wall_end + _ONE_US, forward=False):
                if wall < start:
                    break
                first = [i for i in self._instants(wall) if i < t]
                if first:
                    best = max(best, *first)
                    break
        return best

    def latest_at_or_before(self, instant: datetime) -> datetime | None:
        return self.prev_before(_utc(instant) + _ONE_US)

    def slots(self, start: datetime, end: datetime, *, limit: int = 10_000) -> list[datetime]:
        """Slots in ``[start, end]`` in order (at most ``limit``, the earliest)."""
        return self.slots_and_next(start, end, limit=limit)[0]

    def slots_and_next(
        self, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> tuple[list[datetime], datetime]:
        """Slots in ``[start, end]`` (at most ``limit``) and the first slot after them."""
        out: list[datetime] = []
        current = self.next_after(_utc(start) - _ONE_US)
        end = _utc(end)
        while current <= end and len(out) < limit:
            out.append(current)
            current = self.next_after(current)
        return out, current
