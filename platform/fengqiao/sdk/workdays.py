"""The official working-day calendar (with 调休 and each jurisdiction's local arrangements) and
local time: deadlines in working days, periods in 北京时间."""

from __future__ import annotations

from datetime import date, datetime

from fengqiao.db import LOCAL_TZ

__all__ = ["LOCAL_TZ", "add_working_days", "is_working_day", "today_local", "working_days_between"]


def _calendar_org(org: str | None):
    from fengqiao.workcalendar import jurisdiction_of

    return jurisdiction_of(org) if org else None


def add_working_days(start: datetime | date, n: int, org: str | None = None) -> datetime:
    """The close (17:30 北京时间) of the Nth working day after ``start`` on the official calendar,
    as the unit ``org`` sees it (its local arrangements; national when None)."""
    from fengqiao.workcalendar import add_working_days as add

    return add(start, n, _calendar_org(org)).at


def working_days_between(start: datetime | date, end: datetime | date, org: str | None = None) -> int:
    """Working days after ``start``'s day up to and including ``end``'s (same day: 0)."""
    from fengqiao.workcalendar import working_days_between as between

    return between(start, end, _calendar_org(org))


def is_working_day(day: date | datetime, org: str | None = None) -> bool:
    """Whether ``day`` is a working day for the unit ``org`` (national calendar when None)."""
    from fengqiao.workcalendar import is_working_day as working

    return working(day, _calendar_org(org))


def today_local() -> date:
    """Today in 北京时间 (periods, notice windows and ``YYYY-MM`` months count in local time)."""
    from fengqiao.workcalendar import today_local as today

    return today()
