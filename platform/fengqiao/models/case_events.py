"""A case's history: one row per action, append-only (never updated or deleted)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.models.accounts import User


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
