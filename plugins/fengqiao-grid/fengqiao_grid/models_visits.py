"""The grid worker's day, as tables (all ``grid_…``, created by ``grid_0002``): 走访 records
with their photos, 巡查 logs, 民情日记 entries and the monthly 矛盾纠纷排查 return.

Each row names its grid (``grid_code``) as it was when it was written: a visit made in grid 1
stays grid 1's work when the address is later moved to grid 2 (the worker's month does not
change after the fact). Scope is checked on that grid.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, utcnow
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao_grid.models import Model, _in

PURPOSES = {"home_visit": "入户走访", "safety_check": "安全隐患排查", "dispute_check": "矛盾纠纷排查",
            "special_care": "特殊群体服务", "other": "其他"}
# The category of the 网格事件上报 case a visit spawns (the form's own enum values).
CASE_CATEGORY = {"home_visit": "民生服务", "safety_check": "安全隐患", "dispute_check": "矛盾纠纷",
                 "special_care": "民生服务", "other": "其他"}
# How often a household is due a visit, in days, by the care tags of the people living there
# (the shortest wins); a household without care tags every DEFAULT_VISIT_DAYS.
VISIT_EVERY_DAYS = {"alone_elderly": 7, "advanced_age": 14, "disabled": 30, "low_income": 30,
                    "extreme_poverty": 30, "child_in_difficulty": 30, "entitled": 30}
DEFAULT_VISIT_DAYS = 90


class GridVisit(Model):
    """One 走访: a household (or a unit) at an address, on a day, for a purpose. ``case_number``
    is the case spawned from it (网格事件上报), which links the case to the address and household."""

    __tablename__ = "grid_visits"
    __table_args__ = (sa.CheckConstraint(_in("purpose", PURPOSES), name="purpose"),
                      sa.Index("ix_grid_visits_grid_day", "grid_code", "visited_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = mapped_column(sa.String(32))
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_addresses.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid_households.id"), index=True)
    establishment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid_establishments.id"), index=True)
    visited_on: Mapped[date] = mapped_column(sa.Date())
    purpose: Mapped[str] = mapped_column(sa.String(16))
    findings: Mapped[str] = mapped_column(sa.Text(), default="")
    case_number: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    worker: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GridVisitPhoto(Model):
    """A photo of a visit, checked by its content and re-encoded without metadata."""

    __tablename__ = "grid_visit_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_visits.id"), index=True)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GridPatrol(Model):
    """One 巡查: a walk through the grid (route or area as text) and what was found."""

    __tablename__ = "grid_patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    patrolled_on: Mapped[date] = mapped_column(sa.Date())
    route: Mapped[str] = mapped_column(sa.String(200))
    findings: Mapped[str] = mapped_column(sa.Text(), default="")
    worker: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GridDiaryEntry(Model):
    """One 民情日记 entry: what the worker heard or saw, optionally about one household."""

    __tablename__ = "grid_diary_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    written_on: Mapped[date] = mapped_column(sa.Date())
    text: Mapped[str] = mapped_column(sa.Text())
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid_households.id"))
    worker: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GridDisputeReturn(Model):
    """The monthly 矛盾纠纷排查 return of a grid: the disputes found (count and text), or a
    零报告 (nothing found) that the worker confirmed explicitly. One per grid and month."""

    __tablename__ = "grid_dispute_returns"
    __table_args__ = (
        sa.UniqueConstraint("grid_code", "month"),
        sa.CheckConstraint("(zero_report AND items_count = 0 AND confirmed) OR (NOT zero_report AND items_count > 0)",
                           name="zero_or_items"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = mapped_column(sa.String(32))
    month: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM
    zero_report: Mapped[bool] = mapped_column(sa.Boolean())
    confirmed: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    items_count: Mapped[int] = mapped_column(sa.Integer(), default=0)
    items_text: Mapped[str] = mapped_column(sa.Text(), default="")
    recorded_by: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
