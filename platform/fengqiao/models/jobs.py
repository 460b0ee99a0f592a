"""The job outbox: a job is a row written in the same transaction as the change it follows.

Only a committed row is ever handed to RQ (or the in-process runner), so a job never runs for
a change that rolled back; a sweep re-dispatches rows Redis lost or a dead worker left.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class JobRecord(Base):
    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))  # a registered job name
    args: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # IDs and plain values only
    queue: Mapped[str] = mapped_column(sa.String(32), default="fengqiao")
    # pending → running → done | failed (after max attempts)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # who may see it
