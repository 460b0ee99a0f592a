"""Changing the stored calendar: single days added or removed, years marked complete.

Each change leaves a ``calendar_changes`` row (who, when, what; removals included); the
change of ``calendar_days``/``calendar_years`` itself moves the ``calendar`` cache's stamp
(:mod:`fengqiao.caches`). Nothing here commits: the request or command commits, then calls
:func:`~fengqiao.workcalendar.snapshots.announce_calendar_changed`.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.models import CalendarChange, CalendarDay, CalendarYear, OrgUnit
from fengqiao.models.calendar_days import KIND_LABELS, org_code_is
from fengqiao.workcalendar.rules import WEEKDAY_NAMES

MAX_NAME = 64


def record_change(action: str, year: int, actor: str | None, org_code: str | None = None,
                  day: CalendarDay | None = None, note: str = "") -> None:
    """Add the history row of one change (who, when, what)."""
    db.add(CalendarChange(
        action=action, year=year, actor=actor, org_code=org_code, note=note[:255],
        day=day.day if day else None, kind=day.kind if day else None,
        name=day.name if day else None, source=day.source if day else None,
    ))


def mark_year_complete(year: int, org_code: str | None, source: str, actor: str | None) -> None:
    """Record that a jurisdiction's arrangement for ``year`` has been entered in full."""
    record = db.scalar(sa.select(CalendarYear).where(
        org_code_is(CalendarYear.org_code, org_code), CalendarYear.year == year))
    if record is None:
        record = CalendarYear(org_code=org_code, year=year)
        db.add(record)
    record.complete = True
    record.source = source
    record.entered_by = actor
    record.entered_at = utcnow()


def day_problems(day: date, kind: str, name: str) -> list[tuple[str, str]]:
    """``(field, message)`` for each rule a 放假/上班 day breaks; empty when it is valid."""
    problems = []
    if kind not in KIND_LABELS:
        problems.append(("kind", "类型应为「放假」或「上班」"))
    elif kind == "workday" and day.weekday() < 5:
        problems.append(("kind", f"{day.isoformat()} 是{WEEKDAY_NAMES[day.weekday()]}，"
                                 "「上班」只用于周六、周日的调休上班日"))
    if len(name) > MAX_NAME:
        problems.append(("name", f"名称最多 {MAX_NAME} 个字符"))
    return problems


def unit_exists(org_code: str) -> bool:
    return db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == org_code)) is not None


def add_day(day: date, kind: str, name: str = "", org_code: str | None = None,
            actor: str | None = None) -> CalendarDay:
    """Add one 放假/上班 day for a jurisdiction (does not mark its year complete). No commit."""
    name = (name or "").strip()
    if org_code is not None and not unit_exists(org_code):
        raise Invalid([("/org", f"单位 {org_code} 不存在", "unknown")])
    problems = [(f"/{f}", m, "invalid") for f, m in day_problems(day, kind, name)]
    if problems:
        raise Invalid(problems)
    existing = db.scalar(sa.select(CalendarDay).where(
        org_code_is(CalendarDay.org_code, org_code), CalendarDay.day == day))
    if existing is not None:
        raise Invalid([("/day", f"{day.isoformat()} 已有安排（{existing.kind_label}"
                                         f"{'：' + existing.name if existing.name else ''}），请先删除",
                                 "duplicate")])
    row = CalendarDay(org_code=org_code, day=day, kind=kind, name=name, source="admin",
                      created_by=actor, created_at=utcnow())
    db.add(row)
    record_change("add", day.year, actor, org_code, row)
    db.flush()
    return row


def remove_day(row: CalendarDay, actor: str | None = None, note: str = "") -> int:
    """Delete a day, keeping a ``remove`` history row; returns its year. No commit."""
    record_change("remove", row.day.year, actor, row.org_code, row, note)
    db.delete(row)
    db.flush()
    return row.day.year
