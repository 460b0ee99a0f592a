"""Tables of the volunteer plugin (all prefixed ``volunteer_``, created by its own migrations).

Hours are an append-only ledger: an entry is inserted when an organiser confirms it and is
never updated; a correction is a new entry (possibly negative) that names the entry it
corrects and the reason.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from fengqiao.sdk.models import UTCDateTime, declarative_base_for, utcnow
from sqlalchemy.orm import Mapped, mapped_column

Model = declarative_base_for("volunteer")
"""The base of this plugin's models: its tables on a metadata of their own."""


class ReportUnit(Model):
    """A unit (机关/企事业单位) registered with a community for 双报到."""

    __tablename__ = "volunteer_report_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    org: Mapped[str] = mapped_column(sa.String(40))
    org_path: Mapped[str] = mapped_column(sa.String(255), index=True)
    contact_name: Mapped[str | None] = mapped_column(sa.String(50))
    contact_mobile: Mapped[str | None] = mapped_column(sa.String(11))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class Team(Model):
    """A volunteer team (志愿服务队) of a unit, with a leader."""

    __tablename__ = "volunteer_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    org: Mapped[str] = mapped_column(sa.String(40))
    org_path: Mapped[str] = mapped_column(sa.String(255), index=True)
    leader_id: Mapped[int | None] = mapped_column(sa.Integer())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Volunteer(Model):
    """A registered volunteer; ``org`` is the (residence) community."""

    __tablename__ = "volunteer_volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    id_card: Mapped[str] = mapped_column(sa.String(18), unique=True)
    birth_date: Mapped[date] = mapped_column(sa.Date())
    mobile: Mapped[str | None] = mapped_column(sa.String(11))
    org: Mapped[str] = mapped_column(sa.String(40))
    org_path: Mapped[str] = mapped_column(sa.String(255), index=True)
    skills: Mapped[str | None] = mapped_column(sa.String(200))
    availability: Mapped[str | None] = mapped_column(sa.String(200))
    guardian_consent: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    guardian_name: Mapped[str | None] = mapped_column(sa.String(50))
    party_member: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    double_report: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    report_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("volunteer_report_units.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("volunteer_teams.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))


class Activity(Model):
    """A volunteer activity; ``enrolled`` counts places taken (updated conditionally)."""

    __tablename__ = "volunteer_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    org: Mapped[str] = mapped_column(sa.String(40))
    org_path: Mapped[str] = mapped_column(sa.String(255), index=True)
    place: Mapped[str | None] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    quota: Mapped[int] = mapped_column(sa.Integer())
    enrolled: Mapped[int] = mapped_column(sa.Integer(), default=0)
    skills: Mapped[str | None] = mapped_column(sa.String(200))
    insurance: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    adults_only: Mapped[bool] = mapped_column(sa.Boolean(), default=False)  # night or hazardous work
    signup_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))

    @property
    def duration_hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class Enrollment(Model):
    """A volunteer's place (or waiting-list position) in an activity, with attendance."""

    __tablename__ = "volunteer_enrollments"
    __table_args__ = (sa.UniqueConstraint("activity_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_activities.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))  # enrolled | waiting | cancelled
    channel: Mapped[str] = mapped_column(sa.String(16), default="staff")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EnrollmentEvent(Model):
    """What happened to an enrollment, by whom (the roster's history: enrolled, waiting,
    promoted, cancelled, signed in/out)."""

    __tablename__ = "volunteer_enrollment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_enrollments.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    actor: Mapped[str | None] = mapped_column(sa.String(64))  # username; None: the volunteer or the system
    channel: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HoursEntry(Model):
    """One confirmed line of the hours ledger (never updated; corrections are new lines)."""

    __tablename__ = "volunteer_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_volunteers.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("volunteer_activities.id"), index=True)
    served_on: Mapped[date] = mapped_column(sa.Date())
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 1))
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("volunteer_hours.id"))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    confirmed_by: Mapped[str | None] = mapped_column(sa.String(64))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Dispute(Model):
    """A volunteer's objection to a confirmed entry, raised within the dispute window."""

    __tablename__ = "volunteer_disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_hours.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(sa.String(64))
    resolution: Mapped[str | None] = mapped_column(sa.String(500))


class StarAward(Model):
    """A star level reached: announced (公示) until ``notice_ends``, then final."""

    __tablename__ = "volunteer_star_awards"
    __table_args__ = (sa.UniqueConstraint("volunteer_id", "stars"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_volunteers.id"), index=True)
    stars: Mapped[int] = mapped_column(sa.Integer())
    notice_ends: Mapped[date] = mapped_column(sa.Date())
    status: Mapped[str] = mapped_column(sa.String(16), default="notice")  # notice | final
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CertificateRecord(Model):
    """An issued service-record certificate (志愿服务记录证明); the serial is unguessable."""

    __tablename__ = "volunteer_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(32), unique=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_volunteers.id"), index=True)
    total_hours: Mapped[Decimal] = mapped_column(sa.Numeric(8, 1))
    issuer: Mapped[str] = mapped_column(sa.String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by: Mapped[str | None] = mapped_column(sa.String(64))


class WishClaim(Model):
    """Who took on a 微心愿 case (one row per case; the case engine keeps the history)."""

    __tablename__ = "volunteer_wish_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer_volunteers.id"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
