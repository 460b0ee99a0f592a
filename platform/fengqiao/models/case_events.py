"""A case's history: one row per action, append-only (never updated or deleted)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.models.accounts import User
from fengqiao.models.orgs import OrgUnit


class CaseEvent(Base):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str | None] = mapped_column(sa.String(32))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # fields the action set
    internal: Mapped[bool] = mapped_column(default=False)  # hidden from the resident

    actor: Mapped[User | None] = relationship(lazy="joined")

    def to_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor.username if self.actor else None,
            "action": self.action,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "comment": self.comment,
        }


class CaseParticipant(Base):
    """A unit a case was dispatched to (lead handler or assisting unit).

    Participating units see and act on the case besides the unit that owns it; the owning
    unit stays the same (cases keep their original grid).
    """

    __tablename__ = "case_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    role: Mapped[str] = mapped_column(sa.String(16), default="handler")  # handler | assist | summoned
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # 吹哨报到: a summoned unit must check in by ``checkin_due``; the initiator rates it after.
    checkin_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rating: Mapped[str | None] = mapped_column(sa.String(24))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    org: Mapped[OrgUnit] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("case_id", "org_id", name="case_org"),
        sa.Index("ix_case_participants_org_case", "org_id", "case_id"),  # a unit's cases
    )
