"""The plugin's tables (all ``points_…``), created by its own Alembic branch.

Money-like invariants live in the database, not only in Python: ``balance >= 0`` and
``stock >= 0`` are CHECK constraints, and every ledger entry carries a unique ``ref`` so that
a claim is credited, a reservation refunded or a year expired at most once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, declarative_base_for, utcnow
from sqlalchemy.orm import Mapped, mapped_column

Model = declarative_base_for("points")
"""The base of this plugin's models: its tables on a metadata of their own."""


def path_type() -> sa.types.TypeEngine:
    """Materialised org path compared byte-wise (``Scope.clause`` range scans)."""
    return sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")


class PointsAccount(Model):
    """A household's or person's points account, owned by an org unit (社区/村)."""

    __tablename__ = "points_accounts"
    __table_args__ = (sa.CheckConstraint("balance >= 0", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16))  # household | person
    org_code: Mapped[str] = mapped_column(sa.String(32))
    org_path: Mapped[str] = mapped_column(path_type(), index=True)
    balance: Mapped[int] = mapped_column(sa.Integer(), default=0)
    pin_hash: Mapped[str] = mapped_column(sa.String(255))
    pin_failures: Mapped[int] = mapped_column(sa.Integer(), default=0)
    pin_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(sa.Boolean(), default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsRule(Model):
    """One version of a points rule. Editing a rule adds a version (same ``key``) and retires
    the old one, so entries and claims keep the rule version they were made under."""

    __tablename__ = "points_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), index=True)
    version: Mapped[int] = mapped_column(sa.Integer(), default=1)
    org_code: Mapped[str] = mapped_column(sa.String(32))
    org_path: Mapped[str] = mapped_column(path_type(), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    points: Mapped[int] = mapped_column(sa.Integer())
    cap_points: Mapped[int | None] = mapped_column(sa.Integer())
    cap_period: Mapped[str | None] = mapped_column(sa.String(8))  # month | year
    evidence_required: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    proposers: Mapped[str] = mapped_column(sa.String(100), default="grid_worker,staff")
    active: Mapped[bool] = mapped_column(sa.Boolean(), default=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsProduct(Model):
    """A product on the supermarket's shelf: a price in points and a stock that never goes
    below zero."""

    __tablename__ = "points_products"
    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("points > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    points: Mapped[int] = mapped_column(sa.Integer())
    stock: Mapped[int] = mapped_column(sa.Integer(), default=0)
    donor: Mapped[str | None] = mapped_column(sa.String(100))
    org_code: Mapped[str | None] = mapped_column(sa.String(32))
    photo: Mapped[bytes | None] = mapped_column(sa.LargeBinary(), deferred=True)
    photo_type: Mapped[str | None] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(sa.Boolean(), default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsRedemption(Model):
    """A reservation: points held and stock taken at once; then collected at the counter,
    cancelled, or released by the job after N days (both refunded through the ledger)."""

    __tablename__ = "points_redemptions"
    __table_args__ = (sa.Index("ix_points_redemptions_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("points_accounts.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("points_products.id"), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer())
    points: Mapped[int] = mapped_column(sa.Integer())  # total price held
    status: Mapped[str] = mapped_column(sa.String(16))  # reserved | collected | cancelled | expired
    reserved_by: Mapped[str | None] = mapped_column(sa.String(64))  # username; None: the resident
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(sa.String(64))


class PointsLedger(Model):
    """One append-only change of a balance. Never updated or deleted: corrections are new
    entries. ``ref`` (unique) makes each credit/debit/refund happen at most once."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        sa.CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        sa.Index("ix_points_ledger_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("points_accounts.id"))
    points: Mapped[int] = mapped_column(sa.Integer())
    balance_after: Mapped[int] = mapped_column(sa.Integer())
    kind: Mapped[str] = mapped_column(sa.String(16))  # claim | adjustment | redeem | refund | expiry
    reason: Mapped[str] = mapped_column(sa.String(200))
    ref: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_rules.id"))
    claim_number: Mapped[str | None] = mapped_column(sa.String(40))
    redemption_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_redemptions.id"))
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PointsClaim(Model):
    """A claim case's points facts, kept beside the case (the case engine keeps the workflow,
    history and SLA). ``state`` mirrors the case's state for the notice board and the job."""

    __tablename__ = "points_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_accounts.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_rules.id"))
    points: Mapped[int] = mapped_column(sa.Integer(), default=0)
    state: Mapped[str] = mapped_column(sa.String(32), index=True)
    proposer: Mapped[str | None] = mapped_column(sa.String(64))
    first_reviewer: Mapped[str | None] = mapped_column(sa.String(64))
    notice_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsObjection(Model):
    """An objection raised by anyone during a claim's 公示 (it sends the claim back to review)."""

    __tablename__ = "points_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("points_claims.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
