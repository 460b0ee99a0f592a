"""Forms: an editable draft plus immutable numbered versions; submissions pin a version."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.models.accounts import User


class Form(Base):
    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    access: Mapped[str] = mapped_column(sa.String(16), default="staff")
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # active | archived
    source: Mapped[str] = mapped_column(sa.String(64), default="admin")  # core | plugin:<name> | admin
    # The definition being edited (key/title/schema/ui/...); None once published unchanged.
    draft: Mapped[dict | None] = mapped_column(sa.JSON)
    draft_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    latest_version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.number"
    )

    __table_args__ = (
        sa.CheckConstraint("access in ('public','staff')", name="access"),
        sa.CheckConstraint("status in ('active','archived')", name="status"),
    )


class FormVersion(Base):
    """A published version. Never updated after insert: old submissions render with it."""

    __tablename__ = "form_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"), index=True)
    number: Mapped[int]
    definition: Mapped[dict] = mapped_column(sa.JSON)
    breaking: Mapped[bool] = mapped_column(default=False)
    changes: Mapped[list] = mapped_column(sa.JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    form: Mapped[Form] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("form_id", "number", name="form_number"),)


class Submission(Base):
    """What was submitted, against which version, by whom; immutable."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(sa.ForeignKey("form_versions.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    data: Mapped[dict] = mapped_column(sa.JSON)
    channel: Mapped[str] = mapped_column(sa.String(16), default="web")  # web | api
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(128))
    # Whose key it is: an HMAC of the form and the caller (a user, or an anonymous client's
    # address), so a key never reaches another caller's case and no address is kept in clear.
    idempotency_scope: Mapped[str | None] = mapped_column(sa.String(64))
    # SHA-256 of the request (body and ``org``): the same key with another request is refused.
    idempotency_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    form_version: Mapped[FormVersion] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("idempotency_scope", "idempotency_key"),)


class FormDraftData(Base):
    """A signed-in user's half-filled form, saved to resume later (not validated)."""

    __tablename__ = "form_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    version_number: Mapped[int]
    fields: Mapped[dict] = mapped_column(sa.JSON)  # the raw posted fields (name -> [values])
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("form_id", "user_id", name="form_user"),)


class Attachment(Base):
    """An uploaded file, stored under a random name outside the web root."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("submissions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseCounter(Base):
    """Per prefix and day, the last case sequence number issued (readable case numbers)."""

    __tablename__ = "case_counters"

    prefix: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    day: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
