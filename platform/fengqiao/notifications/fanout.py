"""Who a notification reaches besides the inbox, decided once when it is delivered.

A unit's admin may switch an event kind off for the cases of their subtree (nearest setting
wins over none; any unit on the path switching it off silences it). Personal channels reach
users at the addresses they gave, on the channels they chose (or their unit's defaults);
unit channels reach a unit's group robot. SMS-like channels wait for the end of the unit's
quiet hours unless the matter is urgent (紧急/特急). Each delivery is a row; the rows are
sent by ``notifications.send`` jobs after the creating transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from fengqiao.config import public_base_url
from fengqiao.db import LOCAL_TZ, db, insert, utcnow
from fengqiao.masking import mask_text
from fengqiao.models import (
    Delivery,
    Membership,
    OrgUnit,
    UnitNotificationSettings,
    User,
    UserNotificationPrefs,
)
from fengqiao.notifications.channels import personal_channels, unit_channels
from fengqiao.notifications.sending import enqueue_send
from fengqiao.notifications.service import deliver, kind_labels

URGENT_TIERS = frozenset({"urgent", "critical"})  # 紧急, 特急: sent at night too
DEFAULT_QUIET = ("22:00", "07:00")
OTHER_SWITCH = "other"  # the switch of every kind without a label of its own


def settings_chain(org_id: int | None) -> list[UnitNotificationSettings]:
    """The settings of ``org_id`` and its ancestors, nearest first."""
    if org_id is None:
        return []
    path = db.scalar(sa.select(OrgUnit.path).where(OrgUnit.id == org_id)) or ""
    codes = [c for c in path.strip("/").split("/") if c]
    if not codes:
        return []
    rows = db.execute(sa.select(UnitNotificationSettings, OrgUnit.path).join(
        OrgUnit, OrgUnit.id == UnitNotificationSettings.org_id).where(OrgUnit.code.in_(codes))).all()
    return [row for row, _ in sorted(rows, key=lambda r: -len(r[1]))]


def kind_enabled(kind: str, org_id: int | None) -> bool:
    """Whether no unit on ``org_id``'s path switched ``kind`` off; a kind the inbox has no
    label for (a workflow's own step, a plugin's event) is switched as 「其他事项动态」 (``other``)."""
    switch = kind if kind in kind_labels() else OTHER_SWITCH
    return not any(switch in (s.off_kinds or []) for s in settings_chain(org_id))


def quiet_window(org_id: int | None) -> tuple[str, str]:
    """The quiet hours of the nearest unit on the path that set its own, else the default."""
    return next(((s.quiet_start, s.quiet_end) for s in settings_chain(org_id) if s.quiet_start and s.quiet_end),
                DEFAULT_QUIET)


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def hold_until(now: datetime, window: tuple[str, str]) -> datetime | None:
    """The end of the quiet window ``now`` falls in (as UTC), or None outside it. A window
    may wrap midnight (22:00–07:00); an empty one (start == end) holds nothing."""
    start, end = _hm(window[0]), _hm(window[1])
    if start == end:
        return None
    local = now.astimezone(LOCAL_TZ)
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=LOCAL_TZ).astimezone(now.tzinfo)


def absolute(link: str) -> str:
    """A site path as the URL a phone or mail client can open (``FENGQIAO_PUBLIC_URL``)."""
    if not link.startswith("/") or link.startswith("//"):
        return link
    return public_base_url().rstrip("/") + link


def message_payload(event_key: str, *, kind: str, title: str, text: str, link: str,
                    case_number: str | None = None, urgent: bool = False) -> dict:
    """The stored form of ``fengqiao.sdk.channels.Message`` (masked here, whatever the caller did)."""
    return {"event_id": event_key, "kind": kind, "title": mask_text(title)[:200], "text": mask_text(text),
            "link": absolute(link), "case_number": case_number, "urgent": urgent}


def queue(rows: list[dict]) -> list[int]:
    """Insert delivery rows (a row already there for its event, channel and target is left
    alone) and enqueue a send for each new one, in the caller's transaction."""
    if not rows:
        return []
    now = utcnow()
    values = [{"org_id": None, "urgent": False, "status": "pending", "attempts": 0, "next_attempt_at": now,
               "last_error": "", "response_excerpt": "", "created_at": now, **row} for row in rows]
    written = db.execute(insert(Delivery).values(values).on_conflict_do_nothing(
        index_elements=["event_key", "channel", "target"]).returning(Delivery.id, Delivery.next_attempt_at)).all()
    for delivery_id, due in written:
        if due <= now:  # a held row (quiet hours) is queued by the retry sweep when its time comes
            enqueue_send(delivery_id, 0, due)
    return [delivery_id for delivery_id, _ in written]


def _unit_defaults(user_ids: list[int]) -> dict[int, set[str]]:
    """Each user's default personal channels: those of the units they belong to."""
    rows = db.execute(sa.select(Membership.user_id, UnitNotificationSettings.default_channels).join(
        UnitNotificationSettings, UnitNotificationSettings.org_id == Membership.org_id)
        .where(Membership.user_id.in_(user_ids))).all()
    found: dict[int, set[str]] = {}
    for user_id, channels in rows:
        found.setdefault(user_id, set()).update(channels or [])
    return found


def personal_rows(event_key: str, usernames: Iterable[str], payload: dict, *, org_id: int | None,
                  urgent: bool, now: datetime) -> list[dict]:
    channels = personal_channels()
    names = sorted({n for n in usernames if n and n != "reporter"})
    if not channels or not names:
        return []
    users = db.execute(sa.select(User.id, UserNotificationPrefs).outerjoin(
        UserNotificationPrefs, UserNotificationPrefs.user_id == User.id)
        .where(User.username.in_(names), User.active.is_(True))).all()
    defaults = _unit_defaults([u for u, prefs in users if prefs is None or prefs.channels is None])
    held = hold_until(now, quiet_window(org_id)) if not urgent else None
    rows = []
    for user_id, prefs in users:
        if prefs is None:
            continue  # no address given: the inbox only
        chosen = set(prefs.channels) if prefs.channels is not None else defaults.get(user_id, set())
        for name in sorted(chosen & set(channels)):
            channel = channels[name]
            if not getattr(prefs, channel.address_field or "", ""):
                continue
            rows.append({"event_key": event_key, "channel": name, "target": f"user:{user_id}", "org_id": org_id,
                         "kind": payload["kind"][:40], "payload": payload, "urgent": urgent,
                         "next_attempt_at": held if channel.quiet_hours and held else now})
    return rows


def unit_rows(event_key: str, unit_ids: Iterable[int], payload: dict, *, urgent: bool, now: datetime) -> list[dict]:
    channels = unit_channels()
    ids = sorted(set(unit_ids))
    if not channels or not ids:
        return []
    rows = []
    for settings in db.scalars(sa.select(UnitNotificationSettings).where(UnitNotificationSettings.org_id.in_(ids))):
        for name, config in sorted((settings.channel_config or {}).items()):
            if name in channels and isinstance(config, dict) and config.get("enabled"):
                rows.append({"event_key": event_key, "channel": name, "target": f"unit:{settings.org_id}",
                             "org_id": settings.org_id, "kind": payload["kind"][:40], "payload": payload,
                             "urgent": urgent, "next_attempt_at": now})
    return rows


def notify_users(event_key: str, usernames: Iterable[str], *, kind: str, title: str, text: str, link: str,
                 org_id: int | None = None, org_code: str | None = None, units: Iterable[int] = (),
                 case_number: str | None = None, urgent: bool = False) -> int:
    """The inbox rows and channel deliveries of one event; nothing at all when a unit on the
    path of ``org_id`` switched ``kind`` off. Returns the inbox rows written now."""
    if org_id is None and org_code:
        org_id = db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == org_code))
    if not kind_enabled(kind, org_id):
        return 0
    usernames = list(usernames)
    written = deliver(event_key, usernames, kind=kind, title=title, text=text, link=link, case_number=case_number)
    now = utcnow()
    payload = message_payload(event_key, kind=kind, title=title, text=text, link=link, case_number=case_number,
                              urgent=urgent)
    queue([*personal_rows(event_key, usernames, payload, org_id=org_id, urgent=urgent, now=now),
           *unit_rows(event_key, units, payload, urgent=urgent, now=now)])
    return written
