"""The calendar's rules as pure computation: working days, office hours, deadlines.

A :class:`WorkCalendar` is an immutable snapshot of one jurisdiction's special days; its
methods touch no database, so the case engine can compute thousands of deadlines from one
snapshot (:mod:`fengqiao.workcalendar.snapshots` loads and caches them).

- Monday–Friday are working days, except the stored ``holiday`` days (放假); stored
  ``workday`` days (调休上班日, always a weekend) are working days too.
- A year whose national arrangement is not complete counts as Monday–Friday minus the
  fixed-date statutory days (元旦 1/1, 劳动节 5/1–5/2, 国庆 10/1–10/3), and any deadline
  counted through such a year is ``provisional``.
- Working-day limits start the *next* working day after ``start`` and end at the close
  (17:30 local) of the Nth; office hours are 08:30–12:00 and 14:00–17:30 (local).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from fengqiao.db import LOCAL_TZ

CLOSE_OF_DAY = time(17, 30)
OFFICE_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))

# Statutory days on a fixed solar date: the fallback for a year not yet entered.
FIXED_DATE_HOLIDAYS: Mapping[tuple[int, int], str] = {
    (1, 1): "元旦",
    (5, 1): "劳动节", (5, 2): "劳动节",
    (10, 1): "国庆节", (10, 2): "国庆节", (10, 3): "国庆节",
}

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@dataclass(frozen=True)
class Deadline:
    """When a limit ends (aware, Asia/Shanghai) and whether it rests on a guessed year."""

    at: datetime
    provisional: bool = False

    def __str__(self) -> str:
        return self.at.isoformat() + (" (provisional)" if self.provisional else "")


def to_local(value: datetime | date) -> datetime:
    """An aware Asia/Shanghai datetime; naive datetimes are local time, dates are midnight."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=LOCAL_TZ)
    if value.tzinfo is None:
        return value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(LOCAL_TZ)


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


@dataclass(frozen=True)
class WorkCalendar:
    """One jurisdiction's calendar: its special days and the nationally complete years."""

    special: Mapping[date, str] = field(default_factory=dict)  # day → "holiday" | "workday"
    complete_years: frozenset[int] = frozenset()

    def is_complete(self, year: int) -> bool:
        return year in self.complete_years

    def is_working_day(self, day: date | datetime) -> bool:
        if isinstance(day, datetime):
            day = to_local(day).date()
        kind = self.special.get(day)
        if kind is not None:
            return kind == "workday"
        if day.weekday() >= 5:
            return False
        return day.year in self.complete_years or (day.month, day.day) not in FIXED_DATE_HOLIDAYS

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def _provisional(self, first: date, last: date) -> bool:
        return any(y not in self.complete_years for y in range(first.year, last.year + 1))

    def add_working_days(self, start: datetime | date, n: int, close: time = CLOSE_OF_DAY) -> Deadline:
        """The close of the Nth working day after ``start``'s day (counting starts next day).

        ``n == 0`` is a same-day limit: the close of ``start``'s day when that is a working
        day not yet closed, else the close of the next working day.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, not {n!r}")
        local = to_local(start)
        today = local.date()
        if n == 0:
            first = today
            if self.is_working_day(today) and local.time() < close:
                target = today
            else:
                target = self.next_working_day(today)
        else:
            first = today + timedelta(days=1)
            target = today
            for _ in range(n):
                target = self.next_working_day(target)
        at = datetime.combine(target, close, tzinfo=LOCAL_TZ)
        return Deadline(at, self._provisional(first, target))

    def add_working_hours(self, start: datetime | date, hours: float | timedelta) -> Deadline:
        """``hours`` of office time (08:30–12:00, 14:00–17:30 on working days) after ``start``."""
        remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        if remaining < timedelta(0):
            raise ValueError("hours must not be negative")
        moment = to_local(start)
        day = first = moment.date()
        while True:
            if self.is_working_day(day):
                for opens, closes in OFFICE_HOURS:
                    period_end = datetime.combine(day, closes, tzinfo=LOCAL_TZ)
                    if moment >= period_end:
                        continue
                    begin = max(moment, datetime.combine(day, opens, tzinfo=LOCAL_TZ))
                    available = period_end - begin
                    if remaining <= available:
                        return Deadline(begin + remaining, self._provisional(first, day))
                    remaining -= available
                    moment = period_end
            day += timedelta(days=1)
            moment = datetime.combine(day, time(0), tzinfo=LOCAL_TZ)

    def working_days_between(self, start: datetime | date, end: datetime | date) -> int:
        """Working days after ``start``'s local day up to and including ``end``'s (the way
        limits count: a case closed the day it came in took 0); 0 when ``end`` is not after
        ``start``."""
        first, last = to_local(start).date(), to_local(end).date()
        return sum(1 for i in range(1, (last - first).days + 1)
                   if self.is_working_day(first + timedelta(days=i)))
