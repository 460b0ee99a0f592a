"""Webhook endpoints: validation, writes and audit rows (the caller commits).

An endpoint belongs to a unit; the admins whose ``orgs.manage`` scope holds that unit see and
change it, like other unit configuration. The secret is generated here, shown once (at
creation or regeneration) and never again. Granting personal data, regenerating the secret,
deleting, resending and every change are audited; audit rows carry the URL's host only (a
query string may hold a receiver's token) and never the secret.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from fengqiao import audit
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Conflict, Invalid, NotFound
from fengqiao.models import Delivery, OrgUnit, WebhookEndpoint
from fengqiao.notifications.fanout import queue
from fengqiao.orgs.scope import Scope
from fengqiao.webhooks import CHANNEL, EVENT_LABELS, PING
from fengqiao.webhooks.payload import envelope, unit_json
from fengqiao.webhooks.urls import url_problem

PERMISSION = "orgs.manage"
MAX_NAME = 100


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


@dataclass
class EndpointInput:
    name: str
    org: OrgUnit | None
    url: str
    events: list[str]
    personal: bool
    active: bool = True


def clean(values: dict, allowed_units: dict[str, OrgUnit], *, need_unit: bool = True) -> EndpointInput:
    """The submitted fields, checked; every problem reported at once (``Invalid``, 422)."""
    problems = []
    name = (values.get("name") or "").strip()
    if not name:
        problems.append(("/name", "请填写名称", "required"))
    elif len(name) > MAX_NAME:
        problems.append(("/name", f"名称最多 {MAX_NAME} 个字符", "too_long"))
    org = None
    if need_unit:
        org = allowed_units.get(values.get("org") or "")
        if org is None:
            problems.append(("/org", "请选择有权限管理的单位", "unknown_org"))
    url = (values.get("url") or "").strip()
    if (problem := url_problem(url)) is not None:
        problems.append(("/url", problem, "url"))
    events = [e for e in values.get("events") or [] if e]
    if not events:
        problems.append(("/events", "请至少选择一个事件", "required"))
    elif any(e not in EVENT_LABELS for e in events):
        problems.append(("/events", "包含未知的事件，请从列表中选择", "enum"))
    if problems:
        raise Invalid(problems)
    ordered = [e for e in EVENT_LABELS if e in events]
    return EndpointInput(name, org, url, ordered, bool(values.get("personal")), bool(values.get("active", True)))


def visible(scope: Scope) -> sa.Select:
    """Endpoints of units in ``scope`` (the list; page by ``WebhookEndpoint.id``)."""
    return (sa.select(WebhookEndpoint).join(OrgUnit, OrgUnit.id == WebhookEndpoint.org_id)
            .where(scope.clause(OrgUnit.path)))


def visible_endpoint(endpoint_id: int | None, scope: Scope) -> WebhookEndpoint:
    """One endpoint the scope covers; ``NotFound`` otherwise (never says it exists)."""
    found = db.scalar(visible(scope).where(WebhookEndpoint.id == endpoint_id)) if endpoint_id is not None else None
    if found is None:
        raise NotFound()
    return found


def _audit(action: str, endpoint: WebhookEndpoint, **detail) -> None:
    audit.record(action, org=db.get(OrgUnit, endpoint.org_id), record_ref=f"webhook:{endpoint.id}",
                 detail={"name": endpoint.name, "host": host_of(endpoint.url), **detail})


MIN_SECRET, MAX_SECRET = 16, 128  # a caller's own secret (the JSON API)


def secret_problem(secret: object) -> str | None:
    """Why a caller-chosen secret is refused (Chinese), or None."""
    if not isinstance(secret, str) or not MIN_SECRET <= len(secret) <= MAX_SECRET or not secret.isascii() \
            or any(c.isspace() or not c.isprintable() for c in secret):
        return f"密钥应为 {MIN_SECRET}–{MAX_SECRET} 个可见 ASCII 字符"
    return None


def create(data: EndpointInput, user, secret: str | None = None) -> tuple[WebhookEndpoint, str]:
    """A new active endpoint and its secret: the caller's (the JSON API) or a new one (to show once)."""
    secret = secret or new_secret()
    endpoint = WebhookEndpoint(org_id=data.org.id, name=data.name, url=data.url, secret=secret, events=data.events,
                               personal=data.personal, active=True, created_by=getattr(user, "id", None),
                               created_at=utcnow())
    db.add(endpoint)
    db.flush()
    _audit("webhook.create", endpoint, events=data.events, unit=data.org.code, personal=data.personal)
    if data.personal:
        _audit("webhook.personal_grant", endpoint)
    return endpoint, secret


def update(endpoint: WebhookEndpoint, data: EndpointInput) -> None:
    before = {"name": endpoint.name, "url": endpoint.url, "events": list(endpoint.events or []),
              "active": endpoint.active}
    granted_before = endpoint.personal
    endpoint.name, endpoint.url, endpoint.events, endpoint.active = data.name, data.url, data.events, data.active
    endpoint.personal = data.personal
    after = {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
    changed = sorted(k for k in before if before[k] != after[k])
    if changed:
        _audit("webhook.update", endpoint, changed=changed, events=endpoint.events, active=endpoint.active)
    if endpoint.personal != granted_before:
        _audit("webhook.personal_grant" if endpoint.personal else "webhook.personal_revoke", endpoint)


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    endpoint.secret = new_secret()
    _audit("webhook.secret_rotate", endpoint)
    return endpoint.secret


def delete(endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint; its pending deliveries become dead (the log stays)."""
    _audit("webhook.delete", endpoint, events=list(endpoint.events or []))
    db.execute(sa.update(Delivery).where(Delivery.channel == CHANNEL, Delivery.target == f"endpoint:{endpoint.id}",
                                         Delivery.status == "pending")
               .values(status="dead", last_error="推送地址已删除"))
    db.delete(endpoint)
    db.flush()


def deliveries(endpoint: WebhookEndpoint) -> sa.Select:
    """The endpoint's delivery log (page by ``Delivery.id``, newest first)."""
    return sa.select(Delivery).where(Delivery.channel == CHANNEL, Delivery.target == f"endpoint:{endpoint.id}")


def delivery_of(endpoint: WebhookEndpoint, delivery_id: int | None) -> Delivery:
    found = db.scalar(deliveries(endpoint).where(Delivery.id == delivery_id)) if delivery_id is not None else None
    if found is None:
        raise NotFound()
    return found


def resend(endpoint: WebhookEndpoint, row: Delivery) -> None:
    """Put a dead or sent delivery back in line (the same event id and body, signed anew)."""
    from fengqiao.notifications.sending import resend as put_back

    if row.status not in ("dead", "sent"):
        raise Conflict("该推送正在等待发送，无需重新发送")
    if not endpoint.active:
        raise Conflict("推送地址已停用，请先启用再重新发送")
    _audit("webhook.resend", endpoint, delivery=row.id, event=row.kind)
    put_back(row)


def ping(endpoint: WebhookEndpoint) -> int | None:
    """Queue a ``ping`` event to the endpoint; returns the delivery's id."""
    if not endpoint.active:
        raise Conflict("推送地址已停用，请先启用再发送测试事件")
    event_id = f"ping:{endpoint.id}:{uuid.uuid4().hex}"
    unit = db.get(OrgUnit, endpoint.org_id)
    body = envelope(event_id, PING, utcnow(), {"endpoint": {"id": endpoint.id, "name": endpoint.name,
                                                            "org": unit_json(unit)}})
    ids = queue([{"event_key": event_id, "channel": CHANNEL, "target": f"endpoint:{endpoint.id}",
                  "org_id": endpoint.org_id, "kind": PING, "payload": body}])
    _audit("webhook.ping", endpoint)
    return ids[0] if ids else None
