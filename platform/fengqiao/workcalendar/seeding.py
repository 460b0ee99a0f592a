"""The national arrangement from the ``chinese_calendar`` package: library data, so seeded
by ``fengqiao db upgrade`` and the demo loader rather than by a migration."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.models import CalendarChange, CalendarDay, CalendarYear

CHINESE_CALENDAR_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def chinese_calendar_years() -> list[int]:
    """The years the installed ``chinese_calendar`` package knows."""
    from chinese_calendar import constants

    return sorted({d.year for d in constants.holidays} | {d.year for d in constants.workdays})


def seed_from_chinese_calendar(years: Iterable[int] | None = None) -> list[int]:
    """Copy ``chinese_calendar``'s 放假 and 调休 days as national rows and mark those years
    complete; returns the years it seeded. No commit: the caller commits, then announces
    those years (:func:`~fengqiao.workcalendar.snapshots.announce_calendar_changed`).

    Idempotent, and never overrides people: a year that already has a national
    ``calendar_years`` record (seeded, imported or entered) is skipped, and a day that
    already has a national row is kept as it is. December days of the year before a seeded
    year (New-Year holidays announced with the next year's arrangement) are added when
    missing.
    """
    import chinese_calendar
    from chinese_calendar import constants

    known = chinese_calendar_years()
    wanted = set(known) if years is None else set(years) & set(known)
    recorded = set(db.scalars(sa.select(CalendarYear.year).where(CalendarYear.org_code.is_(None))))
    todo = sorted(wanted - recorded)
    if not todo:
        return []
    library = {d: ("holiday", n) for d, n in constants.holidays.items()}
    library.update({d: ("workday", n) for d, n in constants.workdays.items()})
    existing = set(db.scalars(sa.select(CalendarDay.day).where(
        CalendarDay.org_code.is_(None),
        CalendarDay.day >= date(todo[0] - 1, 12, 1), CalendarDay.day <= date(todo[-1], 12, 31))))
    version = getattr(chinese_calendar, "__version__", "")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for year in todo:
        days = sorted(d for d in library if d.year == year or (d.year == year - 1 and d.month == 12))
        added = 0
        for day in days:
            if day in existing:
                continue
            kind, name = library[day]
            rows.append({"org_code": None, "day": day, "kind": kind,
                         "name": CHINESE_CALENDAR_NAMES.get(name, name), "source": "chinese-calendar",
                         "created_by": None, "created_at": now})
            existing.add(day)
            added += 1
        db.add(CalendarYear(org_code=None, year=year, complete=True, source="chinese-calendar",
                            entered_by=None, entered_at=now))
        changes.append({"action": "seed", "year": year, "actor": None, "org_code": None, "at": now,
                        "note": f"chinese-calendar {version}：{added} 天"})
    if rows:
        db.execute(sa.insert(CalendarDay), rows)
    db.execute(sa.insert(CalendarChange), changes)
    db.flush()
    return todo
