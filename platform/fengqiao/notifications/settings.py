"""What reaches whom, as people set it: a user's own addresses and channels, a unit's
switches (event kinds off, default channels, quiet hours, group-robot configuration), and
the delivery list admins watch (the dead-letter list) with its resend.

Validation and writes only: nothing here commits (the request does), every problem is an
``Invalid`` naming its field in Chinese, an object outside the caller's units is
``NotFound`` (never forbidden), and every change that matters is audited without the
personal values themselves. Unit settings and deliveries belong to admins holding
``orgs.manage`` on the unit (``MANAGE``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from fengqiao import audit
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Invalid, NotFound
from fengqiao.masking import mask_email, mask_mobile, mask_text
from fengqiao.models import (
    Delivery,
    OrgUnit,
    UnitNotificationSettings,
    User,
    UserNotificationPrefs,
    WebhookEndpoint,
)
from fengqiao.notifications.channels import personal_channels, unit_channels
from fengqiao.notifications.fanout import message_payload, queue, quiet_window
from fengqiao.notifications.protocol import Channel
from fengqiao.notifications.service import OTHER_KIND, kind_label, kind_labels
from fengqiao.orgs.scope import Scope, scope_for
from fengqiao.outbound import url_problem
from fengqiao.pagination import Page, keyset_page
from fengqiao.params import parse_int
from fengqiao.validation import validate

MANAGE = "orgs.manage"  # unit admins: their units' switches and deliveries
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
MOBILE = re.compile(r"1[3-9][0-9]{9}")
HHMM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
CHANNEL_NAME = re.compile(r"[a-z0-9_.\-]{1,40}")
KEEP: Any = object()  # "leave this value as it is" (a form's blank secret, an omitted API key)
MAX_RESEND = 200  # rows resent in one request
DEAD_COUNT_CAP = 999

EMAIL_MESSAGE = "电子邮箱格式不正确，例如 name@example.com"
MOBILE_MESSAGE = "手机号码应为 11 位数字，以 13–19 开头"
TIME_MESSAGE = "时间格式应为 HH:MM（24 小时制），例如 22:00"

# The event kinds a unit may switch off: the inbox's kinds, and 'other' for everything else
# (a workflow's own transition names, plugins' events).
OTHER = "other"
STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "dead": "失败"}
TEST_KIND = "test"


# Kinds the inbox labels alike, told apart where they are switched separately.
SWITCH_LABELS = {"approve_extension": "延期审批（同意）", "reject_extension": "延期审批（不同意）"}


def kind_choices() -> dict[str, str]:
    return {**kind_labels(), **SWITCH_LABELS, OTHER: f"其他{OTHER_KIND}"}


def event_label(kind: str) -> str:
    if kind == TEST_KIND:
        return "测试消息"
    return kind_label(kind)


MASKERS = {"email": mask_email, "mobile": mask_mobile}


def _channel_rows(channels: dict[str, Channel]) -> list[dict]:
    return [{"name": n, "label": c.label or n, "address_field": c.address_field} for n, c in sorted(channels.items())]


# ---- a user's own preferences ------------------------------------------------------------------


def prefs_of(user: User) -> UserNotificationPrefs | None:
    return db.get(UserNotificationPrefs, user.id)


def prefs_json(user: User) -> dict:
    """The user's settings as shown anywhere: addresses masked, never in full."""
    prefs = prefs_of(user)
    return {"email": mask_email(prefs.email) if prefs and prefs.email else "",
            "mobile": mask_mobile(prefs.mobile) if prefs and prefs.mobile else "",
            "channels": list(prefs.channels) if prefs and prefs.channels is not None else None,
            "available_channels": _channel_rows(personal_channels())}


def _clean_address(field: str, value: Any, problems: list) -> Any:
    if value is KEEP:
        return KEEP
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append((f"/{field}", "请填写文本", "type"))
        return KEEP
    value = value.strip()
    if field == "mobile":
        value = value.replace(" ", "").replace("-", "")
        if value and not MOBILE.fullmatch(value):
            problems.append(("/mobile", MOBILE_MESSAGE, "format"))
    elif value and (len(value) > 254 or not EMAIL.fullmatch(value)):
        problems.append(("/email", EMAIL_MESSAGE, "format"))
    return value


def save_prefs(user: User, *, email: Any = KEEP, mobile: Any = KEEP, channels: Any = KEEP) -> list[str]:
    """Set the user's addresses (``""`` clears one, ``KEEP`` leaves it) and channels (a list
    of personal channel names, or None for the unit's defaults). Returns the fields changed
    (audited by name only: the addresses are personal data)."""
    problems: list = []
    email = _clean_address("email", email, problems)
    mobile = _clean_address("mobile", mobile, problems)
    if channels is not KEEP and channels is not None:
        known = personal_channels()
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            problems.append(("/channels", "渠道应为渠道名称的列表", "type"))
        else:
            unknown = [c for c in channels if c not in known]
            if unknown:
                problems.append(("/channels", f"渠道 {'、'.join(unknown[:5])} 未安装或已停用", "choice"))
            channels = sorted(set(channels))
    if problems:
        raise Invalid(problems)
    prefs = prefs_of(user)
    if prefs is None:
        prefs = UserNotificationPrefs(user_id=user.id, email="", mobile="", channels=None)
        db.add(prefs)
    changed = []
    for name, value in (("email", email), ("mobile", mobile), ("channels", channels)):
        if value is not KEEP and getattr(prefs, name) != value:
            setattr(prefs, name, value)
            changed.append(name)
    if changed:
        prefs.updated_at = utcnow()
        audit.record("notify.prefs", user=user, org=user.memberships[0].org if user.memberships else None,
                     record_ref=f"user:{user.username}", field=",".join(changed),
                     detail={"changed": changed,
                             "channels": "unit-defaults" if prefs.channels is None else list(prefs.channels)})
    return changed


# ---- a unit's settings ---------------------------------------------------------------------------


def manage_scope(user) -> Scope:
    return scope_for(user, MANAGE)


def manageable_units(user) -> list[OrgUnit]:
    """Active units in the admin's subtrees, in tree order (the unit picker)."""
    scope = manage_scope(user)
    return list(db.scalars(sa.select(OrgUnit).where(scope.clause(OrgUnit.path), OrgUnit.active)
                           .order_by(OrgUnit.path)))


def unit_for(user, code: str | None) -> OrgUnit:
    """The unit ``code`` when it is in the admin's scope, else NotFound (whether it exists or not)."""
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code)) if code else None
    if unit is None or not unit.active or not manage_scope(user).contains(unit.path):
        raise NotFound()
    return unit


def settings_of(unit: OrgUnit) -> UnitNotificationSettings | None:
    return db.get(UnitNotificationSettings, unit.id)


def _settings_row(unit: OrgUnit) -> UnitNotificationSettings:
    """The unit's row, created on its first save with no quiet hours of its own: it keeps
    following the unit above (a community configuring its robot must not freeze its street's
    quiet hours into its own row)."""
    row = settings_of(unit)
    if row is None:
        row = UnitNotificationSettings(org_id=unit.id, off_kinds=[], default_channels=[],
                                       quiet_start=None, quiet_end=None, channel_config={})
        db.add(row)
    return row


def unit_json(unit: OrgUnit) -> dict:
    """A unit's settings for display: secrets of channel configurations are never included."""
    row = settings_of(unit)
    own = bool(row and row.quiet_start and row.quiet_end)
    inherited_start, inherited_end = quiet_window(unit.parent_id)
    return {"unit": unit.code, "off_kinds": list(row.off_kinds or []) if row else [],
            "default_channels": list(row.default_channels or []) if row else [],
            "quiet_start": row.quiet_start if own else "", "quiet_end": row.quiet_end if own else "",
            "quiet_inherited": not own, "inherited_quiet": f"{inherited_start}–{inherited_end}",
            "channels": {name: shown_config(channel, (row.channel_config or {}).get(name) if row else None)
                         for name, channel in sorted(unit_channels().items())}}


def save_unit_settings(unit: OrgUnit, *, off_kinds: list[str], default_channels: list[str],
                       quiet_start: str, quiet_end: str) -> list[str]:
    """Write the unit's switches, default channels and quiet hours; returns what changed."""
    problems = []
    kinds = kind_choices()
    bad = [k for k in off_kinds if k not in kinds]
    if bad:
        problems.append(("/off_kinds", "包含未知的事件类别", "choice"))
    known = personal_channels()
    missing = [c for c in default_channels if c not in known]
    if missing:
        problems.append(("/default_channels", f"渠道 {'、'.join(missing[:5])} 未安装或已停用", "choice"))
    quiet_start, quiet_end = (v.strip() if isinstance(v, str) else v for v in (quiet_start, quiet_end))
    if quiet_start or quiet_end:  # both blank: follow the unit above
        for field, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
            if not isinstance(value, str) or not HHMM.fullmatch(value):
                problems.append((f"/{field}", TIME_MESSAGE if value else "请同时填写开始和结束时间，或都留空以沿用上级",
                                 "format" if value else "required"))
    if problems:
        raise Invalid(problems)
    row = _settings_row(unit)
    new = {"off_kinds": sorted(set(off_kinds)), "default_channels": sorted(set(default_channels)),
           "quiet_start": quiet_start or None, "quiet_end": quiet_end or None}
    changed = [name for name, value in new.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, new[name])
    if changed:
        row.updated_at = utcnow()
        audit.record("notify.unit_settings", org=unit, record_ref=f"unit:{unit.code}", field=",".join(changed),
                     detail={"changed": changed, **{k: new[k] for k in changed}})
    return changed


# ---- a unit channel's configuration (generated from its config_schema) --------------------------


@dataclass(frozen=True)
class ConfigField:
    key: str
    title: str
    kind: str  # "string" | "boolean" | "url"
    secret: bool
    required: bool
    description: str = ""
    max_length: int = 2000


def config_fields(channel: Channel) -> list[ConfigField]:
    schema = channel.config_schema or {}
    required = set(schema.get("required") or [])
    found = []
    for key, prop in (schema.get("properties") or {}).items():
        if key == "enabled" or not isinstance(prop, dict):
            continue
        is_url = prop.get("format") in ("uri", "url") or key == "url" or key.endswith("_url")
        kind = "boolean" if prop.get("type") == "boolean" else ("url" if is_url else "string")
        limit = prop.get("maxLength") if isinstance(prop.get("maxLength"), int) else 2000
        found.append(ConfigField(key, str(prop.get("title") or key), kind, bool(prop.get("writeOnly")),
                                 key in required, str(prop.get("description") or ""), limit))
    return found


def shown_config(channel: Channel, config: dict | None) -> dict:
    """A stored configuration as it may be shown: secrets only as "set" or not."""
    config = config if isinstance(config, dict) else {}
    values: dict[str, Any] = {"enabled": bool(config.get("enabled"))}
    for field in config_fields(channel):
        if field.secret:
            values[field.key] = None
            values[f"{field.key}_set"] = bool(config.get(field.key))
        else:
            values[field.key] = config.get(field.key, False if field.kind == "boolean" else "")
    return values


def _coerce(channel: Channel, raw: dict, old: dict) -> tuple[dict, list]:
    """Form values → the configuration (blank secrets keep the stored one)."""
    values: dict[str, Any] = {}
    problems = []
    for field in config_fields(channel):
        given = raw.get(field.key)
        if field.kind == "boolean":
            values[field.key] = given in (True, "on", "1", "true")
            continue
        text = given.strip() if isinstance(given, str) else ""
        if field.secret and not text:
            if old.get(field.key):
                values[field.key] = old[field.key]
            continue
        if not text:
            continue
        problem = url_problem(text, unresolved_ok=True) if field.kind == "url" else None
        if problem:
            problems.append((f"/{field.key}", problem, "format"))
        values[field.key] = text
    return values, problems


def save_channel_config(unit: OrgUnit, name: str, raw: dict) -> None:
    """Validate a unit channel's configuration against its ``config_schema`` and store it."""
    channel = unit_channels().get(name)
    if channel is None:
        raise NotFound()
    row = _settings_row(unit)
    old = dict((row.channel_config or {}).get(name) or {})
    values, problems = _coerce(channel, raw, old)
    enabled = raw.get("enabled") in (True, "on", "1", "true")
    if enabled:  # a switched-off configuration may stay incomplete
        for field in config_fields(channel):
            if field.required and values.get(field.key) in (None, ""):
                problems.append((f"/{field.key}", f"启用前请填写「{field.title}」", "required"))
    if not problems:
        schema = dict(channel.config_schema or {"type": "object"})
        if not enabled:
            schema.pop("required", None)
        schema.setdefault("properties", {})
        try:
            validate(schema, {"enabled": enabled, **values} if "enabled" in schema["properties"] else values)
        except Invalid as failed:
            problems.extend(failed.problems)
    if problems:
        raise Invalid(problems)
    new = {"enabled": enabled, **values}
    if new == old:
        return
    changed = sorted(k for k in set(new) | set(old) if new.get(k) != old.get(k))
    row.channel_config = {**(row.channel_config or {}), name: new}  # a new dict: JSON columns track assignment
    row.updated_at = utcnow()
    audit.record("notify.channel_config", org=unit, record_ref=f"unit:{unit.code}", field=name,
                 detail={"channel": name, "changed": changed, "enabled": enabled})


def send_test(unit: OrgUnit, name: str, user) -> int | None:
    """Queue a test message to the unit's group on channel ``name``; its delivery id (the
    result shows on the delivery list)."""
    channel = unit_channels().get(name)
    if channel is None:
        raise NotFound()
    row = settings_of(unit)
    config = (row.channel_config or {}).get(name) if row else None
    if not isinstance(config, dict) or not config.get("enabled"):
        raise Invalid([("/channel", f"请先启用并保存「{channel.label or name}」的配置，再发送测试消息", "disabled")])
    key = f"test:{unit.id}:{name}:{secrets.token_hex(6)}"
    payload = message_payload(key, kind=TEST_KIND, title="枫桥测试消息",
                              text=f"这是{unit.name}在枫桥发送的测试消息，收到即表示{channel.label or name}配置正确。",
                              link="/admin/notifications/deliveries")
    ids = queue([{"event_key": key, "channel": name, "target": f"unit:{unit.id}", "org_id": unit.id,
                  "kind": TEST_KIND, "payload": payload}])
    audit.record("notify.test", user=user, org=unit, record_ref=f"unit:{unit.code}", field=name,
                 detail={"channel": name})
    return ids[0] if ids else None


# ---- the delivery list (dead letters) ------------------------------------------------------------


def _top_level(scope: Scope) -> bool:
    """A county-level admin (a subtree rooted at a top unit) also sees rows tied to no unit."""
    return any(p.count("/") == 2 for p in scope.paths)


def visible_deliveries(user) -> sa.Select:
    scope = manage_scope(user)
    stmt = sa.select(Delivery).outerjoin(OrgUnit, Delivery.org_id == OrgUnit.id)
    unit_rows = sa.and_(Delivery.org_id.is_not(None), scope.clause(OrgUnit.path))
    return stmt.where(sa.or_(unit_rows, Delivery.org_id.is_(None)) if _top_level(scope) else unit_rows)


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    channel: str | None = None

    def args(self) -> dict:
        return {k: v for k, v in (("status", self.status), ("channel", self.channel)) if v}


def parse_filter(status: str | None, channel: str | None) -> DeliveryFilter:
    problems = []
    if status and status not in STATUS_LABELS:
        problems.append(("/status", "状态只能是 pending（待发送）、sent（已发送）或 dead（失败）", "choice"))
    if channel and not CHANNEL_NAME.fullmatch(channel):
        problems.append(("/channel", "渠道名称无效", "choice"))
    if problems:
        raise Invalid(problems)
    return DeliveryFilter(status or None, channel or None)


def delivery_page(user, filters: DeliveryFilter, cursor: str | None, limit: int) -> Page:
    """The admin's deliveries, newest first (keyset on id)."""
    stmt = visible_deliveries(user)
    if filters.status:
        stmt = stmt.where(Delivery.status == filters.status)
    if filters.channel:
        stmt = stmt.where(Delivery.channel == filters.channel)
    return keyset_page(stmt, Delivery.id, cursor, limit)


def dead_count(user) -> int:
    """Dead rows the admin may resend, counted up to a cap (the admin home's badge)."""
    capped = visible_deliveries(user).where(Delivery.status == "dead").with_only_columns(Delivery.id) \
        .limit(DEAD_COUNT_CAP + 1).subquery()
    return db.scalar(sa.select(sa.func.count()).select_from(capped)) or 0


def channel_names(user) -> list[str]:
    """Channels to filter by: those installed, plus webhooks."""
    return sorted({*personal_channels(), *unit_channels(), "webhook"})


def channel_label(name: str) -> str:
    if name == "webhook":
        return "接口推送"
    from fengqiao.notifications.channels import active_channels

    channel = active_channels().get(name)
    return (channel.label or name) if channel else name


def target_labels(rows: list[Delivery]) -> dict[str, str]:
    """How each row's target is shown: a user's display name, a unit's name, 「居民」, an
    endpoint's name; never an address."""
    ids: dict[str, set[int]] = {"user": set(), "unit": set(), "endpoint": set()}
    for row in rows:
        kind, _, ident = row.target.partition(":")
        number = parse_int(ident)
        if kind in ids and number is not None:
            ids[kind].add(number)
    labels: dict[str, str] = {}
    if ids["user"]:
        for uid, display, username in db.execute(sa.select(User.id, User.display_name, User.username)
                                                 .where(User.id.in_(ids["user"]))):
            labels[f"user:{uid}"] = display or username
    if ids["unit"]:
        for oid, name in db.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids["unit"]))):
            labels[f"unit:{oid}"] = name
    if ids["endpoint"]:
        for eid, name in db.execute(sa.select(WebhookEndpoint.id, WebhookEndpoint.name)
                                    .where(WebhookEndpoint.id.in_(ids["endpoint"]))):
            labels[f"endpoint:{eid}"] = f"接口：{name}"
    for row in rows:
        if row.target.startswith("case:"):
            labels[row.target] = "居民"
        labels.setdefault(row.target, "（已删除）")
    return labels


def delivery_json(row: Delivery, labels: dict[str, str]) -> dict:
    return {"id": row.id, "created_at": row.created_at.isoformat(), "channel": row.channel,
            "target": labels.get(row.target, ""), "target_kind": row.target.partition(":")[0],
            "channel_label": channel_label(row.channel), "kind": row.kind, "kind_label": event_label(row.kind),
            "status": row.status,
            "status_label": STATUS_LABELS.get(row.status, row.status), "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at.isoformat() if row.status == "pending" else None,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "last_error": mask_text(row.last_error), "response_code": row.response_code,
            "case_number": (row.payload or {}).get("case_number")}


def resend_many(user, ids: list[int]) -> int:
    """Put the admin's dead or sent rows among ``ids`` back in line (pending ones are left
    alone); an id outside the admin's units is NotFound, like a missing one, and nothing is
    resent then. One audit row per resent delivery. Returns how many."""
    from fengqiao.notifications.sending import resend

    ids = list(dict.fromkeys(ids))
    if not ids:
        return 0
    if len(ids) > MAX_RESEND:
        raise Invalid([("/ids", f"一次最多重新发送 {MAX_RESEND} 条", "max")])
    visible = db.scalars(visible_deliveries(user).where(Delivery.id.in_(ids)).order_by(Delivery.id)).all()
    if len(visible) != len(ids):
        raise NotFound()
    rows = [row for row in visible if row.status in ("dead", "sent")]
    units = {u.id: u for u in db.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_({r.org_id for r in rows if r.org_id})))}
    for row in rows:
        previous = row.status
        resend(row)
        audit.record("notify.resend", user=user, org=units.get(row.org_id), record_ref=f"delivery:{row.id}",
                     field=row.channel, detail={"channel": row.channel, "kind": row.kind, "was": previous})
    return len(rows)


def delivery_for(user, delivery_id: int) -> Delivery:
    row = db.scalar(visible_deliveries(user).where(Delivery.id == delivery_id))
    if row is None:
        raise NotFound()
    return row
