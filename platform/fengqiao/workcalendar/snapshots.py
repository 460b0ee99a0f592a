"""Calendar snapshots per jurisdiction, in the per-process ``calendar`` cache.

Any change of ``calendar_days`` or ``calendar_years`` replaces the cache's stamp
(:mod:`fengqiao.caches`), so a change made by another process (web, CLI, RQ worker) is seen
by the next request, and a request costs no calendar query while nothing changed.

A unit's calendar is the national rows plus the additions of the unit and its ancestors
(``org_codes`` root → leaf, or a materialized path); the most specific row wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from fengqiao import caches, signals
from fengqiao.db import current_session, db
from fengqiao.models import CalendarDay, CalendarYear, OrgUnit
from fengqiao.workcalendar.rules import Deadline, WorkCalendar

OrgCodes = str | Sequence[str] | None


def org_codes_of(org: OrgCodes) -> tuple[str, ...]:
    """``None`` (national), a materialized path ``/339901/339901001/``, one code, or codes."""
    if org is None:
        return ()
    if isinstance(org, str):
        return tuple(c for c in org.split("/") if c)
    path = getattr(org, "path", None)
    if isinstance(path, str):
        return org_codes_of(path)
    return tuple(org)


def jurisdiction_of(code: str) -> tuple[str, ...] | None:
    """The codes root → leaf of the unit ``code`` (its calendar's sources); None if unknown."""
    path = db.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == code))
    return org_codes_of(path) if path else None


def _build(codes: tuple[str, ...]) -> WorkCalendar:
    rank = {None: 0, **{code: i + 1 for i, code in enumerate(codes)}}
    query = sa.select(CalendarDay.day, CalendarDay.kind, CalendarDay.org_code).where(
        sa.or_(CalendarDay.org_code.is_(None), CalendarDay.org_code.in_(codes))
        if codes else CalendarDay.org_code.is_(None)
    )
    special: dict[date, str] = {}
    for day, kind, _org in sorted(db.execute(query), key=lambda r: rank[r.org_code]):
        special[day] = kind  # later = more specific jurisdiction: wins
    complete = db.scalars(
        sa.select(CalendarYear.year).where(CalendarYear.org_code.is_(None), CalendarYear.complete)
    )
    return WorkCalendar(special, frozenset(complete))


def load_calendar(org_codes: OrgCodes = None) -> WorkCalendar:
    """The calendar snapshot for a jurisdiction (national when ``None``); cached per process."""
    codes = org_codes_of(org_codes)
    return caches.cached(current_session(), caches.CALENDAR, codes, lambda: _build(codes))


def invalidate_cache() -> None:
    """Forget every cached snapshot (changes are detected anyway; this frees memory) and let
    the rest of this request see the change it made."""
    current_app.extensions["fengqiao.caches"].clear(caches.CALENDAR)
    caches.forget_stamps()


def announce_calendar_changed(years: Iterable[int], org_code: str | None = None) -> None:
    """After commit: drop cached snapshots and send ``calendar_changed`` (years, org)."""
    years = sorted(set(years))
    if not years:
        return
    invalidate_cache()
    signals.send(signals.calendar_changed, years=years, org=org_code)


def is_working_day(day: date | datetime, org_codes: OrgCodes = None) -> bool:
    return load_calendar(org_codes).is_working_day(day)


def add_working_days(start: datetime | date, n: int, org_codes: OrgCodes = None) -> Deadline:
    """End of the Nth working day after ``start`` (17:30 local), provisional if guessed."""
    return load_calendar(org_codes).add_working_days(start, n)


def add_working_hours(start: datetime | date, hours: float | timedelta,
                      org_codes: OrgCodes = None) -> Deadline:
    """``hours`` of office time after ``start`` (acknowledgement limits)."""
    return load_calendar(org_codes).add_working_hours(start, hours)


def working_days_between(start: datetime | date, end: datetime | date, org_codes: OrgCodes = None,
                         calendar: WorkCalendar | None = None) -> int:
    """Working days from ``start`` to ``end`` as limits count them (see
    :meth:`WorkCalendar.working_days_between`). Pass a loaded ``calendar`` to count many
    spans without a query each."""
    return (calendar or load_calendar(org_codes)).working_days_between(start, end)
