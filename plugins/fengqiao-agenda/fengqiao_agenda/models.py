"""The plugin's one table, ``agenda_items``, on the plugin's own metadata."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, declarative_base_for, utcnow
from sqlalchemy.orm import Mapped, mapped_column

Model = declarative_base_for("agenda")

STATUSES = {"proposed": "待议", "scheduled": "已列入议程", "declined": "不予采纳"}


class AgendaItem(Model):
    """A topic a resident proposed for their community's 居民议事会, and its decision.

    The unit is kept by code (``org_code``), never as a copy of its path: scope checks go
    through ``fengqiao.sdk.orgs``, so a unit that moves needs nothing here."""

    __tablename__ = "agenda_items"
    __table_args__ = (sa.CheckConstraint("status IN ('proposed', 'scheduled', 'declined')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(unique=True)  # the intake form's submission
    org_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    topic: Mapped[str] = mapped_column(sa.String(100))
    details: Mapped[str] = mapped_column(sa.Text, default="")
    proposer: Mapped[str] = mapped_column(sa.String(50))  # personal: shown masked
    mobile: Mapped[str] = mapped_column(sa.String(11), default="")  # personal: shown masked
    status: Mapped[str] = mapped_column(sa.String(16), default="proposed")
    meeting_on: Mapped[date | None] = mapped_column(sa.Date())
    reply: Mapped[str] = mapped_column(sa.Text, default="")  # the answer given to the resident
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))  # username
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
