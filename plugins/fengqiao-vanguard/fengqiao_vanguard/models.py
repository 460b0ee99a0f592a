"""Tables of the vanguard plugin (all prefixed ``vanguard_``; created by its own migrations).

Points are exact decimals in the database (``NUMERIC(8,2)``) handed to Python as floats;
scoring sums them as ``Decimal`` so 89.9 stays 89.9.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, declarative_base_for, utcnow
from sqlalchemy.orm import Mapped, mapped_column, relationship

Model = declarative_base_for("vanguard")
"""The base of this plugin's models: its tables on a metadata of their own."""

POINTS = sa.Numeric(8, 2, asdecimal=False)

KINDS = {"basic": "基本指标", "bonus": "加分项", "deduction": "扣分项", "veto": "一票否决"}
MEMBER_TYPES = {"employed": "在职党员", "retired": "离退休党员", "mobile": "流动党员", "other": "其他"}
EVENT_STATUS = {"pending": "待审核", "approved": "已通过", "rejected": "未通过"}
EVENT_SOURCES = {"member": "党员申报", "branch": "支部记录", "volunteer": "志愿服务自动生成"}
POSTS = {
    "theory": "理论宣传岗", "patrol": "治安联防岗", "civility": "文明劝导岗",
    "sanitation": "环境卫生督导岗", "care": "关爱互助岗",
}


class IndicatorSet(Model):
    """One version of a branch's or jurisdiction's indicator set (``org_code`` "" = everywhere).

    Drafts are edited freely; a published version never changes, and a year is scored
    against the version in force for the member's unit (nearest unit up the tree wins)."""

    __tablename__ = "vanguard_indicator_sets"
    __table_args__ = (sa.UniqueConstraint("org_code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(100))
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(12), default="draft")
    effective_from: Mapped[date | None] = mapped_column(sa.Date)
    bands: Mapped[list] = mapped_column(sa.JSON)
    bonus_cap: Mapped[float] = mapped_column(POINTS)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by: Mapped[str | None] = mapped_column(sa.String(80))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="set", order_by="Indicator.position", cascade="all, delete-orphan")


class Indicator(Model):
    """An item of a set: basic (weight = max points), bonus (capped), deduction, veto."""

    __tablename__ = "vanguard_indicators"
    __table_args__ = (sa.UniqueConstraint("set_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(sa.ForeignKey("vanguard_indicator_sets.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(12))
    max_points: Mapped[float] = mapped_column(POINTS)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    set: Mapped[IndicatorSet] = relationship(back_populates="indicators")

    def to_json(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name, "kind": self.kind,
                "max_points": self.max_points}


class Member(Model):
    """A party member scored by a branch (only what scoring needs; the party system is the record)."""

    __tablename__ = "vanguard_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    org_code: Mapped[str] = mapped_column(sa.String(40), index=True)
    org_path: Mapped[str] = mapped_column(sa.String(255), index=True)
    member_type: Mapped[str] = mapped_column(sa.String(12))
    id_card: Mapped[str | None] = mapped_column(sa.String(18), index=True)
    mobile: Mapped[str | None] = mapped_column(sa.String(11), index=True)
    username: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    posts: Mapped[list] = mapped_column(sa.JSON, default=list)
    commitments: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScoreEvent(Model):
    """A proposed change to a member's score; counts only once approved. Never deleted."""

    __tablename__ = "vanguard_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("vanguard_members.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("vanguard_indicators.id"))
    points: Mapped[float] = mapped_column(POINTS)
    reason: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[str | None] = mapped_column(sa.String(500))
    period: Mapped[str] = mapped_column(sa.String(7))
    year: Mapped[int] = mapped_column(sa.Integer, index=True)
    status: Mapped[str] = mapped_column(sa.String(12), index=True, default="pending")
    source: Mapped[str] = mapped_column(sa.String(12))
    volunteer_entry_id: Mapped[int | None] = mapped_column(sa.Integer, unique=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(80))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str | None] = mapped_column(sa.Text)

    member: Mapped[Member] = relationship()
    indicator: Mapped[Indicator] = relationship()


class EventHistory(Model):
    """Append-only: who proposed, approved or rejected an event, when, and why."""

    __tablename__ = "vanguard_event_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("vanguard_events.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str | None] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(20))
    comment: Mapped[str | None] = mapped_column(sa.Text)


class Notice(Model):
    """A quarterly 公示 of a branch's scores: a snapshot, open to objections for a window."""

    __tablename__ = "vanguard_notices"
    __table_args__ = (sa.UniqueConstraint("org_code", "year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str] = mapped_column(sa.String(40))
    org_path: Mapped[str] = mapped_column(sa.String(255), index=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    quarter: Mapped[int] = mapped_column(sa.Integer)
    rows: Mapped[list] = mapped_column(sa.JSON)
    published_by: Mapped[str | None] = mapped_column(sa.String(80))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    objection_ends: Mapped[datetime] = mapped_column(UTCDateTime())


class Objection(Model):
    """An objection raised against a notice during its window (anyone may raise one)."""

    __tablename__ = "vanguard_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("vanguard_notices.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    contact: Mapped[str | None] = mapped_column(sa.String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(12), default="open")
    resolved_by: Mapped[str | None] = mapped_column(sa.String(80))
    resolution: Mapped[str | None] = mapped_column(sa.Text)


class Rating(Model):
    """A member's annual star rating, fixed by the branch from the year's final score."""

    __tablename__ = "vanguard_ratings"
    __table_args__ = (sa.UniqueConstraint("member_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("vanguard_members.id"))
    year: Mapped[int] = mapped_column(sa.Integer)
    score: Mapped[float] = mapped_column(POINTS)
    stars: Mapped[int] = mapped_column(sa.Integer)
    vetoed: Mapped[bool] = mapped_column(sa.Boolean)
    rated_by: Mapped[str | None] = mapped_column(sa.String(80))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    member: Mapped[Member] = relationship()
