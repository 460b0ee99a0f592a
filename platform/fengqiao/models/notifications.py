"""The message centre (站内信): one row per notification and recipient.

Rows are written by the outbox job after the change they tell about committed; the unique
(event_key, user_id) pair makes a second run of that job deliver nothing new.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    event_key: Mapped[str] = mapped_column(sa.String(120))  # what happened, once per recipient
    kind: Mapped[str] = mapped_column(sa.String(32))  # dispatch, summon, assign, urge, overdue …
    title: Mapped[str] = mapped_column(sa.String(200))  # never another person's personal data
    text: Mapped[str] = mapped_column(sa.Text, default="")  # masked at delivery
    link: Mapped[str] = mapped_column(sa.String(300), default="")  # a path on this site
    case_number: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("event_key", "user_id"),
        sa.Index("ix_notifications_user_unread", "user_id", "read_at", "id"),  # the bell and the list
    )
