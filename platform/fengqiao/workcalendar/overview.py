"""What has been entered: years per jurisdiction, a year's days, recent changes (read only;
the admin page and ``fengqiao calendar years`` show these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import CalendarChange, CalendarDay, CalendarYear, OrgUnit
from fengqiao.models.calendar_days import org_code_is
from fengqiao.workcalendar.rules import today_local


def complete_years(org_code: str | None = None) -> set[int]:
    return set(db.scalars(sa.select(CalendarYear.year).where(
        org_code_is(CalendarYear.org_code, org_code), CalendarYear.complete)))


def missing_years(today: date | None = None) -> list[int]:
    """This year and next year, if their national arrangement has not been entered."""
    today = today or today_local()
    done = complete_years()
    return [y for y in (today.year, today.year + 1) if y not in done]


@dataclass(frozen=True)
class YearStatus:
    org_code: str | None
    org_name: str
    year: int
    complete: bool
    source: str | None
    entered_by: str | None
    entered_at: datetime | None
    holidays: int
    workdays: int


def year_overview(today: date | None = None) -> list[YearStatus]:
    """Every (jurisdiction, year) with rows or a year record, plus this and next year."""
    today = today or today_local()
    counts: dict[tuple[str | None, int], dict[str, int]] = {}
    year_of = sa.extract("year", CalendarDay.day)
    query = sa.select(CalendarDay.org_code, year_of, CalendarDay.kind, sa.func.count()).group_by(
        CalendarDay.org_code, year_of, CalendarDay.kind)
    for org_code, year, kind, n in db.execute(query):
        counts.setdefault((org_code, int(year)), {})[kind] = n
    records = {(r.org_code, r.year): r for r in db.scalars(sa.select(CalendarYear))}
    keys = set(counts) | set(records) | {(None, today.year), (None, today.year + 1)}
    names = dict(db.execute(sa.select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.code.in_({k[0] for k in keys if k[0]}))).all())
    result = []
    for org_code, year in sorted(keys, key=lambda k: (k[0] or "", -k[1])):
        record = records.get((org_code, year))
        kinds = counts.get((org_code, year), {})
        result.append(YearStatus(
            org_code, names.get(org_code, org_code) if org_code else "全国", year,
            bool(record and record.complete), record.source if record else None,
            record.entered_by if record else None, record.entered_at if record else None,
            kinds.get("holiday", 0), kinds.get("workday", 0)))
    return result


def days_of_year(year: int, org_code: str | None = None, *, all_orgs: bool = False) -> list[CalendarDay]:
    query = sa.select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    if not all_orgs:
        query = query.where(org_code_is(CalendarDay.org_code, org_code))
    return list(db.scalars(query.order_by(CalendarDay.day, CalendarDay.org_code)))


def recent_changes(limit: int = 30) -> list[CalendarChange]:
    return list(db.scalars(sa.select(CalendarChange).order_by(CalendarChange.id.desc()).limit(limit)))
