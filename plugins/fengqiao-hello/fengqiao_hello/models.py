"""The plugin's own table. Its name starts with the plugin's name (``hello_``); the table is
created by this plugin's Alembic branch (``migrations/``), never by ``create_all``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, declarative_base_for, utcnow
from sqlalchemy.orm import Mapped, mapped_column

Model = declarative_base_for("hello")
"""The base of this plugin's models: its tables on a metadata of their own."""


class HelloGreeting(Model):
    """One greeting received through the ``hello-greeting`` form (one row per case)."""

    __tablename__ = "hello_greetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "case_number": self.case_number,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
        }
