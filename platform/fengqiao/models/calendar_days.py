"""The working-day calendar as data (docs/domain.md, "Working-day calendar"): 放假/调休 days,
entered years, history.

Only the exceptions to "Monday–Friday are working days" are stored: ``holiday`` (放假, on a
weekday or a weekend) and ``workday`` (调休上班日, on a weekend). ``org_code`` NULL is the
national arrangement; a unit's calendar is the national one plus its own and its ancestors'
additions (an autonomous area adds days), so moving a unit needs no calendar change.

Rows are edited in place but never silently: every addition, change and removal leaves a
:class:`CalendarChange` row, so the history survives removals.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow

DAY_KINDS = ("holiday", "workday")
DAY_SOURCES = ("chinese-calendar", "admin", "import")
KIND_LABELS = {"holiday": "放假", "workday": "上班"}
SOURCE_LABELS = {"chinese-calendar": "内置（chinese-calendar）", "admin": "手工录入", "import": "文件导入"}
ACTION_LABELS = {"add": "新增", "update": "修改", "remove": "删除", "import": "导入整年",
                 "seed": "内置数据"}


def org_code_is(column: sa.ColumnElement, org_code: str | None) -> sa.ColumnElement[bool]:
    """Rows of one jurisdiction: ``org_code`` NULL is the national arrangement."""
    return column.is_(None) if org_code is None else column == org_code


class CalendarDay(Base):
    """One day that differs from the Monday–Friday rule, for one jurisdiction."""

    __tablename__ = "calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str | None] = mapped_column(sa.ForeignKey("org_units.code"))
    day: Mapped[date] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    source: Mapped[str] = mapped_column(sa.String(16))
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("org_code", "day"),
        # NULLs are distinct in a unique constraint: the national rows need their own index.
        sa.Index("uq_calendar_days_national_day", "day", unique=True,
                 sqlite_where=sa.text("org_code IS NULL"),
                 postgresql_where=sa.text("org_code IS NULL")),
        sa.CheckConstraint("kind in ('holiday','workday')", name="kind"),
        sa.CheckConstraint("source in ('chinese-calendar','admin','import')", name="source"),
    )

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    def __repr__(self) -> str:
        return f"<CalendarDay {self.org_code or '全国'} {self.day} {self.kind} {self.name}>"


class CalendarYear(Base):
    """A year whose 放假/调休 arrangement has been entered for a jurisdiction.

    Deadlines crossing a year without a complete national row are provisional.
    """

    __tablename__ = "calendar_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str | None] = mapped_column(sa.ForeignKey("org_units.code"))
    year: Mapped[int] = mapped_column()
    complete: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(sa.String(16), default="admin")
    entered_by: Mapped[str | None] = mapped_column(sa.String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("org_code", "year"),
        sa.Index("uq_calendar_years_national_year", "year", unique=True,
                 sqlite_where=sa.text("org_code IS NULL"),
                 postgresql_where=sa.text("org_code IS NULL")),
    )

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


class CalendarChange(Base):
    """Append-only history: who added, changed, removed or imported what, and when.

    ``action``: ``add`` | ``update`` | ``remove`` (one day) or ``import`` | ``seed`` (a
    year marked complete). Its newest id is also the cache stamp of computed calendars.
    """

    __tablename__ = "calendar_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(16))
    org_code: Mapped[str | None] = mapped_column(sa.String(32))
    year: Mapped[int] = mapped_column()
    day: Mapped[date | None] = mapped_column(sa.Date)
    kind: Mapped[str | None] = mapped_column(sa.String(16))
    name: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.String(255), default="")

    __table_args__ = (
        sa.CheckConstraint("action in ('add','update','remove','import','seed')", name="action"),
    )

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)
