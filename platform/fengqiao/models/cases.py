"""The case row: what every submission opens and every queue lists.

The form engine and case engine extend it; the columns here are the ones the public
contract names for a case (number, type, state, org, assignee, version …).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.models.accounts import User
from fengqiao.models.orgs import OrgUnit


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    tracking_code: Mapped[str] = mapped_column(sa.String(16))
    type: Mapped[str] = mapped_column(sa.String(64), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    phone_tail: Mapped[str] = mapped_column(sa.String(4), default="", index=True)  # for search
    state: Mapped[str] = mapped_column(sa.String(32), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    form_key: Mapped[str | None] = mapped_column(sa.String(64))
    form_version: Mapped[int | None]
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    workflow_version: Mapped[int] = mapped_column(default=1)  # the case type version it follows
    priority: Mapped[str] = mapped_column(sa.String(24), default="")  # the SLA tier it fell in
    # The clock (cases/sla.py): deadline = start + limit + credit (pauses and extensions),
    # in the limit's unit, so a calendar change can recompute it.
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # 按期办结率
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    sla_status: Mapped[str] = mapped_column(sa.String(16), default="none")
    sla_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_limit: Mapped[dict | None] = mapped_column(sa.JSON)  # {"working_days": n} | {"hours": h}
    sla_credit: Mapped[float] = mapped_column(sa.Float, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pending_extension: Mapped[dict | None] = mapped_column(sa.JSON)  # {"amount", "reason", "by"}
    # Metrics keep the first clock (cases/sla.py): ``due_at`` is the case's deadline as
    # leaders count it — moved by approved extensions and approved pauses only, never by a
    # rework step's deadline or a reopening — and ``first_closed_at`` its first closure.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    first_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_seconds: Mapped[float] = mapped_column(sa.Float, default=0, server_default="0")
    extension_count: Mapped[int] = mapped_column(default=0, server_default="0")  # approved 延期
    extended_total: Mapped[float] = mapped_column(sa.Float, default=0, server_default="0")
    # A step's own limit (签收 within 2 h, 回访 within 1 day …), beside the case deadline.
    step_name: Mapped[str | None] = mapped_column(sa.String(32))
    step_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_on: Mapped[date | None] = mapped_column(sa.Date)  # a parked (挂账) item's review date
    review_reminded_on: Mapped[date | None] = mapped_column(sa.Date)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # cool-down of 上报
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalated_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    urge_count: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    on_board: Mapped[bool] = mapped_column(default=False)  # published on the 回音壁
    version: Mapped[int] = mapped_column(default=1)
    rating: Mapped[str | None] = mapped_column(sa.String(24))  # the resident's, after closure
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first claim/sign-in
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    org: Mapped[OrgUnit] = relationship(lazy="joined", foreign_keys=[org_id])
    assignee: Mapped[User | None] = relationship(lazy="joined")
    escalated_to: Mapped[OrgUnit | None] = relationship(foreign_keys=[escalated_to_id])

    # Open cases are ``closed_at IS NULL``: the queues' views and the sweeps start there.
    __table_args__ = (
        sa.Index("ix_cases_open_deadline", "closed_at", "deadline"),
        sa.Index("ix_cases_open_assignee", "closed_at", "assignee_id"),
        # The 临期 tab: the few open cases the clock marked due soon, by deadline.
        sa.Index("ix_cases_due_soon", "deadline",
                 sqlite_where=sa.text("closed_at IS NULL AND sla_status = 'due_soon'"),
                 postgresql_where=sa.text("closed_at IS NULL AND sla_status = 'due_soon'")),
        # "which cases were merged into this one" on every case page; few cases are merged.
        sa.Index("ix_cases_merged_into", "merged_into_id",
                 sqlite_where=sa.text("merged_into_id IS NOT NULL"),
                 postgresql_where=sa.text("merged_into_id IS NOT NULL")),
    )

    def summary_json(self) -> dict:
        """The list form of a case (README.md, "API"): no ``data`` and no ``history``."""
        return {
            "number": self.number,
            "type": self.type,
            "title": self.title,
            "state": self.state,
            "org": self.org.code,
            "assignee": self.assignee.username if self.assignee else None,
            "form_key": self.form_key,
            "form_version": self.form_version,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "deadline_provisional": self.deadline_provisional,
            "sla_status": self.sla_status,
            "priority": self.priority,
            "version": self.version,
        }



# 重复投诉率 asks, per case of the period, whether the same requester (phone tail) had a case of
# the same unit and type first closed shortly before (cases/metrics.py ``_repeats``): this index
# finds those few earlier cases by their closing time (51 s → 1.3 s for the county dashboard of
# a month at 1M cases).
sa.Index("ix_cases_repeat_probe", Case.phone_tail, Case.org_id, Case.type, Case.first_closed_at,
         sqlite_where=Case.phone_tail != "", postgresql_where=Case.phone_tail != "")
