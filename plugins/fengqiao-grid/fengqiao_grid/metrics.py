"""Figures of a grid's month, and who is due a visit: computed from the records, never typed in.

- households / people: the households with at least one resident on the reference day, and
  those residents (stays open that day);
- visits: the visits of the month; visit days: the distinct days with a visit (the documents'
  "每月入户走访不少于 X 天", X the plugin setting ``visit_days_target``);
- coverage: the share (0..1) of those households visited in the ``coverage_days`` (setting)
  days ending on the reference day;
- dispute_return: the month's 矛盾纠纷排查 return (a 零报告 counts as filed), or None;
- care households overdue: households whose residents carry care tags and whose last visit is
  older than the tag's frequency (``VISIT_EVERY_DAYS``; the shortest tag wins).

The reference day is the month's last day, or today for the current month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.plugin import plugin_settings
from fengqiao.sdk.workdays import today_local

from fengqiao_grid.models import GridAddress, GridPerson, GridResidence
from fengqiao_grid.models_visits import (
    DEFAULT_VISIT_DAYS,
    VISIT_EVERY_DAYS,
    GridDisputeReturn,
    GridVisit,
)

DEFAULT_TARGET, DEFAULT_COVERAGE_DAYS = 20, 90


def settings() -> tuple[int, int]:
    """(visit-days target a month, coverage window in days) from the plugin's settings."""
    saved = plugin_settings("grid")
    return int(saved.get("visit_days_target", DEFAULT_TARGET)), int(saved.get("coverage_days", DEFAULT_COVERAGE_DAYS))


def month_bounds(month: str) -> tuple[date, date]:
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def reference_day(month: str) -> date:
    first, last = month_bounds(month)
    today = today_local()
    return today if first <= today <= last else last


@dataclass(frozen=True)
class DueHousehold:
    household_id: int
    address_id: int
    label: str
    tags: tuple[str, ...]  # the care tags of its residents
    every: int  # days between visits
    last_visit: date | None
    due_on: date  # last visit + every (the reference day when never visited)

    @property
    def care(self) -> bool:
        return bool(self.tags)

    def due(self, day: date) -> bool:
        return self.last_visit is None or self.due_on <= day


def households_on(grid: str, day: date) -> list[DueHousehold]:
    """Every household of the grid with residents on ``day``, its care tags, visit frequency
    and last visit (up to ``day``), in one pass of three queries."""
    stays = db.execute(
        sa.select(GridResidence.household_id, GridResidence.address_id, GridAddress.label, GridPerson.care_tags)
        .join(GridAddress, GridAddress.id == GridResidence.address_id)
        .join(GridPerson, GridPerson.id == GridResidence.person_id)
        .where(GridAddress.grid_code == grid, GridResidence.moved_in_on <= day,
               sa.or_(GridResidence.moved_out_on.is_(None), GridResidence.moved_out_on > day))).all()
    found: dict[int, tuple[int, str, set[str]]] = {}
    for household_id, address_id, label, tags in stays:
        entry = found.setdefault(household_id, (address_id, label, set()))
        entry[2].update(t for t in (tags or "").split(",") if t in VISIT_EVERY_DAYS)
    last = dict(db.execute(
        sa.select(GridVisit.household_id, sa.func.max(GridVisit.visited_on))
        .where(GridVisit.household_id.in_(list(found) or [0]), GridVisit.visited_on <= day)
        .group_by(GridVisit.household_id)).all())
    out = []
    for household_id, (address_id, label, tags) in found.items():
        every = min((VISIT_EVERY_DAYS[t] for t in tags), default=DEFAULT_VISIT_DAYS)
        seen = last.get(household_id)
        out.append(DueHousehold(household_id, address_id, label, tuple(sorted(tags)), every, seen,
                                seen + timedelta(days=every) if seen else day))
    return sorted(out, key=lambda h: (h.due_on, -len(h.tags), h.label))


def people_on(grid: str, day: date) -> int:
    return db.scalar(
        sa.select(sa.func.count(sa.distinct(GridResidence.person_id)))
        .join(GridAddress, GridAddress.id == GridResidence.address_id)
        .where(GridAddress.grid_code == grid, GridResidence.moved_in_on <= day,
               sa.or_(GridResidence.moved_out_on.is_(None), GridResidence.moved_out_on > day))) or 0


def grid_metrics(grid: str, month: str) -> dict:
    """The figures of ``grid`` for ``month`` (``YYYY-MM``); see the module's note."""
    target, window = settings()
    first, last = month_bounds(month)
    day = reference_day(month)
    households = households_on(grid, day)
    since = day - timedelta(days=window - 1)
    visited = set(db.scalars(
        sa.select(GridVisit.household_id).distinct()
        .where(GridVisit.grid_code == grid, GridVisit.household_id.is_not(None),
               GridVisit.visited_on >= since, GridVisit.visited_on <= day)))
    covered = sum(1 for h in households if h.household_id in visited)
    in_month = (GridVisit.grid_code == grid, GridVisit.visited_on >= first, GridVisit.visited_on <= last)
    visits = db.scalar(sa.select(sa.func.count()).select_from(GridVisit).where(*in_month)) or 0
    days = db.scalar(sa.select(sa.func.count(sa.distinct(GridVisit.visited_on))).where(*in_month)) or 0
    workers = [{"worker": w, "visits": n, "visit_days": d} for w, n, d in db.execute(
        sa.select(GridVisit.worker, sa.func.count(), sa.func.count(sa.distinct(GridVisit.visited_on)))
        .where(*in_month).group_by(GridVisit.worker).order_by(GridVisit.worker))]
    overdue = [h for h in households if h.care and (h.last_visit is None or h.due_on < day)]
    filed = db.scalar(sa.select(GridDisputeReturn).where(GridDisputeReturn.grid_code == grid,
                                                         GridDisputeReturn.month == month))
    return {"grid": grid, "month": month, "as_of": day.isoformat(), "households": len(households),
            "people": people_on(grid, day), "visits": visits,
            "coverage": round(covered / len(households), 4) if households else 0.0,
            "coverage_days": window, "households_visited": covered,
            "visit_days": days, "visit_days_target": target, "workers": workers,
            "dispute_return": None if filed is None else {"zero_report": filed.zero_report,
                                                          "items_count": filed.items_count},
            "care_households": sum(1 for h in households if h.care), "care_overdue": len(overdue),
            "care_overdue_households": [{"household": h.household_id, "address": h.label,
                                         "last_visit": h.last_visit.isoformat() if h.last_visit else None,
                                         "every_days": h.every} for h in overdue[:50]]}
