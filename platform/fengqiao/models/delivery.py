"""Delivery beyond the inbox: channel messages, webhook endpoints, who wants what, and
cases accepted from external systems (issue 21).

A ``Delivery`` is one message for one channel and one target (a user's address, a unit's
group robot, a webhook endpoint), unique per (event_key, channel, target) so the job that
creates them may run twice. It carries its own retry state: ``pending`` rows are sent when
``next_attempt_at`` has come, ``sent`` rows are done, ``dead`` rows wait in the dead-letter
list for an admin to resend.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(120))
    channel: Mapped[str] = mapped_column(sa.String(40))  # email, sms, wecom, dingtalk, webhook …
    target: Mapped[str] = mapped_column(sa.String(120))  # "user:<id>", "unit:<id>", "endpoint:<id>", "case:<id>"
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))  # whose admins see it
    kind: Mapped[str] = mapped_column(sa.String(40))  # the event: dispatch, summon, case.closed …
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # the message, masked unless granted
    urgent: Mapped[bool] = mapped_column(default=False)  # 紧急/特急: quiet hours do not hold it
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    response_code: Mapped[int | None] = mapped_column()
    response_excerpt: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("event_key", "channel", "target"),
        sa.Index("ix_deliveries_due", "status", "next_attempt_at"),  # the retry sweep
        sa.Index("ix_deliveries_org_status", "org_id", "status", "id"),  # the dead-letter list
        sa.Index("ix_deliveries_target", "target", "id"),  # an endpoint's delivery log
    )


class UserNotificationPrefs(Base):
    """A user's own addresses and the channels they want besides the inbox (personal data:
    masked wherever shown, changes audited)."""

    __tablename__ = "user_notification_prefs"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    mobile: Mapped[str] = mapped_column(sa.String(20), default="")
    channels: Mapped[list | None] = mapped_column(sa.JSON)  # personal channels chosen; None: the unit's defaults
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UnitNotificationSettings(Base):
    """A unit's switches: events it turned off (for cases in its subtree), the personal
    channels its staff get by default, its quiet hours and its group robots' configuration."""

    __tablename__ = "unit_notification_settings"

    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id", ondelete="CASCADE"), primary_key=True)
    off_kinds: Mapped[list] = mapped_column(sa.JSON, default=list)
    default_channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    quiet_start: Mapped[str | None] = mapped_column(sa.String(5))  # local HH:MM; None: the unit above's
    quiet_end: Mapped[str | None] = mapped_column(sa.String(5))
    channel_config: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {channel: {"url", "secret", …}}
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookEndpoint(Base):
    """An integrator's receiver: the events it wants about cases in ``org_id``'s subtree."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(128))  # the HMAC key, shown once at creation
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    personal: Mapped[bool] = mapped_column(default=False)  # granted unmasked personal fields (audited)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class ExternalOrder(Base):
    """A case accepted from an external system (a 12345 platform) under its own number:
    unique per (source, number), so sending the same order twice opens one case."""

    __tablename__ = "external_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(40))
    number: Mapped[str] = mapped_column(sa.String(64))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("source", "number"),)
