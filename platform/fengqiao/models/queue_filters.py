"""A staff member's saved queue filters (保存的筛选): a name and the query string it applies.

Each row belongs to one account and is only ever read or deleted through it (another user's
id is a 404, like one that never existed). The query string is stored as typed and checked
again every time it is applied: a unit or type may have gone since it was saved.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class SavedQueueFilter(Base):
    __tablename__ = "saved_queue_filters"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(20))
    query: Mapped[str] = mapped_column(sa.String(1000))  # "view=overdue&type=grid_incident&sort=deadline"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # names are unique per user; the same index lists a user's filters
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)
