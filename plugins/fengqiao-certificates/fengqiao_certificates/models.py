"""The plugin's tables (``certificates_…``), created by its own Alembic branch.

A *list* belongs to one jurisdiction (an org unit code, or ``national`` for the State
Council's batch) and has versions: one draft at a time, published versions are frozen.
Items hang off a list version. Requests and issued certificates keep copies of names so that
later list versions never rewrite what was decided.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, declarative_base_for, utcnow
from sqlalchemy.orm import Mapped, mapped_column, relationship

Model = declarative_base_for("certificates")
"""The base of this plugin's models: its tables on a metadata of their own."""

NATIONAL = "national"  # the org code of lists that apply everywhere (民发〔2020〕20号)
MAY_ISSUE, MUST_NOT_ISSUE = "may_issue", "must_not_issue"
KINDS = {MAY_ISSUE: "可以出具", MUST_NOT_ISSUE: "不应出具"}
DRAFT, PUBLISHED = "draft", "published"


class CertificateList(Model):
    """One version of a jurisdiction's list."""

    __tablename__ = "certificates_lists"
    __table_args__ = (sa.UniqueConstraint("org_code", "version", name="uq_certificates_lists_org_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    version: Mapped[int] = mapped_column(sa.Integer())
    status: Mapped[str] = mapped_column(sa.String(16), default=DRAFT)
    # The org code while this version is the unit's draft, NULL once published: the unique
    # key makes "one draft per unit" hold when two people open a draft at the same moment.
    draft_of: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    effective_from: Mapped[date | None] = mapped_column(sa.Date())
    source_document: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by: Mapped[str | None] = mapped_column(sa.String(64))

    items: Mapped[list[CertificateItem]] = relationship(
        back_populates="list", order_by="CertificateItem.position, CertificateItem.id",
        cascade="all, delete-orphan")


class CertificateItem(Model):
    """One entry of a list: a certificate that may be issued, or one that must not be."""

    __tablename__ = "certificates_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates_lists.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer(), default=0)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(100))
    applicants: Mapped[str] = mapped_column(sa.String(200), default="")
    materials: Mapped[str] = mapped_column(sa.Text(), default="")
    time_limit_days: Mapped[int | None] = mapped_column(sa.Integer())  # 0 = 当场出具
    template: Mapped[str] = mapped_column(sa.Text(), default="")
    reason: Mapped[str] = mapped_column(sa.Text(), default="")
    referral: Mapped[str] = mapped_column(sa.Text(), default="")

    list: Mapped[CertificateList] = relationship(back_populates="items")

    def to_json(self) -> dict:
        out: dict = {"id": self.id, "name": self.name, "kind": self.kind}
        if self.kind == MUST_NOT_ISSUE:
            out["referral"] = self.referral
        else:
            out["time_limit_days"] = self.time_limit_days
        return out


class CertificateRequest(Model):
    """What a ``certificate-request`` case asked for and how the plugin routed it (metrics)."""

    __tablename__ = "certificates_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    org_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    requested: Mapped[str] = mapped_column(sa.String(100))
    demanding_agency: Mapped[str] = mapped_column(sa.String(100), default="")  # who asked the resident for it
    item_id: Mapped[int | None] = mapped_column(sa.Integer())
    item_name: Mapped[str | None] = mapped_column(sa.String(100))
    match: Mapped[str] = mapped_column(sa.String(20))  # may_issue | must_not_issue | unlisted
    outcome: Mapped[str] = mapped_column(sa.String(20), default="pending")  # issued | refused | pending
    refused_by: Mapped[str | None] = mapped_column(sa.String(20))  # listed | street | staff
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 letters a person cannot misread
CODE_LENGTH = 16


def new_verify_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class IssuedCertificate(Model):
    """A certificate handed out: the serial is unique, one per case, never reused.

    The serial is for people (sequential, printed as 编号); anyone verifies with
    ``verify_code``, random and printed beside the QR code, so serials cannot be walked."""

    __tablename__ = "certificates_issued"
    __table_args__ = (sa.UniqueConstraint("org_code", "year", "sequence", name="uq_certificates_issued_org_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(40), unique=True)
    verify_code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_verify_code)
    case_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    org_code: Mapped[str] = mapped_column(sa.String(32))
    year: Mapped[int] = mapped_column(sa.Integer())
    sequence: Mapped[int] = mapped_column(sa.Integer())
    issuer_name: Mapped[str] = mapped_column(sa.String(100))
    item_name: Mapped[str] = mapped_column(sa.String(100))
    holder_name: Mapped[str] = mapped_column(sa.String(50))
    holder_id_card: Mapped[str] = mapped_column(sa.String(18), default="")
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text(), default="")
    issued_on: Mapped[date] = mapped_column(sa.Date())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by: Mapped[str | None] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(sa.String(64))
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(200))
