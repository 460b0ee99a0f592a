"""Sending delivery rows, with retries and a dead-letter list.

``notifications.send`` sends one row when it is due: the channel's answer decides what
follows (sent; retried after a backoff or the channel's own ``RetryAfter``; dead at once on
a permanent failure or after ``MAX_ATTEMPTS``). The periodic ``notifications.retry_due``
re-queues rows whose time has come (retries, and SMS held through quiet hours). The message
goes out before the job's transaction commits, so a crash in between sends it again:
receivers drop duplicates by the message's event id (docs/notifications.md).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.jobs.outbox import enqueue
from fengqiao.jobs.registry import job, periodic
from fengqiao.models import Delivery, OrgUnit, UnitNotificationSettings, User, UserNotificationPrefs
from fengqiao.notifications.channels import channel_named
from fengqiao.notifications.protocol import (
    Channel,
    Delivered,
    Failed,
    Message,
    Recipient,
    Result,
    RetryAfter,
)

log = logging.getLogger(__name__)
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)  # after the 1st … 5th failed attempt
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1  # then the row is dead-lettered
MAX_RETRY_AFTER = 6 * 3600  # a channel's own RetryAfter is capped at this
RETRY_EVERY = 30  # seconds between sweeps for due rows


def recipient_for(row: Delivery, channel: Channel) -> Recipient | None:
    """The row's target as the channel sees it; None when the address or configuration is gone."""
    kind, _, ident = row.target.partition(":")
    if kind == "user":
        found = db.execute(sa.select(User.display_name, User.username, UserNotificationPrefs).join(
            UserNotificationPrefs, UserNotificationPrefs.user_id == User.id)
            .where(User.id == int(ident), User.active.is_(True))).first()
        if found is None:
            return None
        address = getattr(found[2], channel.address_field or "", "")
        return Recipient("user", found[0] or found[1], address) if address else None
    if kind == "unit":
        found = db.execute(sa.select(OrgUnit.name, UnitNotificationSettings.channel_config).join(
            UnitNotificationSettings, UnitNotificationSettings.org_id == OrgUnit.id)
            .where(OrgUnit.id == int(ident))).first()
        config = (found[1] or {}).get(channel.name) if found else None
        return Recipient("unit", found[0], "", dict(config)) if config and config.get("enabled") else None
    if kind == "case":
        from fengqiao.notifications.residents import resident_recipient

        return resident_recipient(int(ident))
    return None


def _attempt(row: Delivery) -> Result:
    if row.channel == "webhook":
        from fengqiao.webhooks.sender import send_webhook

        return send_webhook(row)
    channel = channel_named(row.channel)
    if channel is None:
        return Failed(f"渠道 {row.channel} 未安装或已停用")
    recipient = recipient_for(row, channel)
    if recipient is None:
        return Failed("收件地址或渠道配置已不存在")
    try:
        return channel.send(recipient, Message(**row.payload))
    except Exception as exc:  # a channel's bug or a network error: transient until proven otherwise
        log.warning("channel %s failed on delivery %s: %s", row.channel, row.id, exc)
        return RetryAfter(f"{exc.__class__.__name__}: {exc}"[:500])


def record(row: Delivery, result: Result, now=None) -> None:
    """Write the outcome of one attempt on the row."""
    now = now or utcnow()
    row.attempts += 1
    row.response_code = result.response_code
    row.response_excerpt = (result.excerpt or "")[:1000]
    if isinstance(result, Delivered):
        row.status, row.sent_at, row.last_error = "sent", now, ""
        return
    row.last_error = result.reason[:500]
    if isinstance(result, Failed) or row.attempts >= MAX_ATTEMPTS:
        row.status = "dead"
        return
    wait = result.seconds if result.seconds is not None else BACKOFF_SECONDS[row.attempts - 1]
    row.next_attempt_at = now + timedelta(seconds=min(max(wait, 1), MAX_RETRY_AFTER))


@job("notifications.send", queue="fengqiao-high")
def send(delivery_id: int) -> dict:
    """Send delivery ``delivery_id`` if it is pending and due (a duplicate job finds it done)."""
    row = db.get(Delivery, delivery_id, with_for_update=True)
    now = utcnow()
    if row is None or row.status != "pending" or row.next_attempt_at > now:
        return {"skipped": True}
    record(row, _attempt(row), now)
    if row.status == "dead":
        log.warning("delivery %s (%s → %s) dead-lettered: %s", row.id, row.channel, row.target, row.last_error)
    return {"status": row.status, "attempts": row.attempts}


@job("notifications.retry_due")
def retry_due() -> dict:
    """Queue a send for every pending row whose time has come (once per row and attempt)."""
    rows = db.execute(sa.select(Delivery.id, Delivery.attempts, Delivery.next_attempt_at).where(
        Delivery.status == "pending", Delivery.next_attempt_at <= utcnow())
        .order_by(Delivery.next_attempt_at).limit(1000)).all()
    for delivery_id, attempts, due in rows:
        enqueue_send(delivery_id, attempts, due)
    return {"queued": len(rows)}


def enqueue_send(delivery_id: int, attempts: int, due: datetime) -> None:
    """Queue one attempt: once per row, attempt and due time (a row held through quiet hours
    or waiting for a retry gets a new job when its time comes, not the spent one)."""
    enqueue("notifications.send", dedupe_key=f"send:{delivery_id}:{attempts}:{int(due.timestamp())}",
            delivery_id=delivery_id)


periodic("notifications.retry_due", RETRY_EVERY)


def resend(row: Delivery) -> None:
    """Put a dead (or sent) row back in line: a fresh set of attempts, starting now."""
    now = utcnow()
    row.status, row.attempts, row.next_attempt_at, row.last_error = "pending", 0, now, ""
    enqueue("notifications.send", dedupe_key=f"resend:{row.id}:{now.timestamp()}", delivery_id=row.id)
