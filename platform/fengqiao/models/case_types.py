"""Versions of case-type definitions (workflow + SLA), as imported from files or edited.

A case pins the version it started with (``cases.workflow_version``), so editing a workflow
never strands an open case: it keeps its version unless an admin migrates it explicitly.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class CaseTypeVersion(Base):
    __tablename__ = "case_type_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), index=True)
    number: Mapped[int]
    definition: Mapped[dict] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(64))  # "core", a plugin name, or "admin"
    digest: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the canonical JSON
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (sa.UniqueConstraint("key", "number", name="key_number"),)


class CaseTypeDraft(Base):
    """The one unpublished draft of a case type, edited in the admin pages until published.

    A draft never affects a case: only publishing turns it into the next
    :class:`CaseTypeVersion`. ``base_number`` is the version it was started from (None: a type
    never published, which exists only as this draft).
    """

    __tablename__ = "case_type_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    definition: Mapped[dict] = mapped_column(sa.JSON)
    base_number: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
