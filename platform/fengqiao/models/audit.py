"""The audit log: who saw or took out personal data, when, why and from where.

Append-only: the code has no update or delete path, and the database refuses both
(triggers created by migration ``0009_audit_log`` on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(150), default="")  # as it was then
    action: Mapped[str] = mapped_column(sa.String(48), index=True)  # case.reveal, export.cases …
    outcome: Mapped[str] = mapped_column(sa.String(16), default="ok")  # ok | denied
    case_number: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    record: Mapped[str] = mapped_column(sa.String(200), default="")  # form:key, submission:12 …
    field: Mapped[str] = mapped_column(sa.String(200), default="")  # a JSON pointer
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # counts, filters (never values)
    client_addr: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")


class CaseAnonymisation(Base):
    """A case whose personal data the retention job replaced; it is never processed twice."""

    __tablename__ = "case_anonymisations"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    anonymised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_days: Mapped[int]  # the retention rule that applied
