"""``/api/v1/webhooks``: integrators' endpoints registered by a unit admin over the API (the
public contract, docs/notifications.md); the pages at /admin/webhooks do the same for people."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.jsonbody import json_body
from fengqiao.models import OrgUnit, WebhookEndpoint
from fengqiao.orgs import service as orgs
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import keyset_page
from fengqiao.params import page_limit
from fengqiao.webhooks import EVENT_LABELS
from fengqiao.webhooks import service as hooks
from fengqiao.webhooks.payload import unit_json

ENDPOINT_BODY = {
    "type": "object",
    "required": ["url", "events"],
    "properties": {
        "url": {"type": "string", "maxLength": 500},
        "events": {"type": "array", "minItems": 1, "maxItems": len(EVENT_LABELS),
                   "items": {"type": "string", "enum": list(EVENT_LABELS)}},
        "secret": {"type": "string", "maxLength": hooks.MAX_SECRET},
        "name": {"type": "string", "maxLength": hooks.MAX_NAME},
        "org": {"type": "string", "maxLength": 32},
        "personal": {"type": "boolean"},
    },
    "additionalProperties": False,
}


def _units() -> dict[str, OrgUnit]:
    return {u.code: u for u in db.scalars(orgs.units_in(scope_for(current_user, hooks.PERMISSION),
                                                        include_inactive=False))}


def _default_org(units: dict[str, OrgUnit]) -> str:
    """Without ``org``: the admin's own top unit, when there is exactly one."""
    tops = [u for u in units.values() if not any(u.path.startswith(o.path) and u is not o for o in units.values())]
    if len(tops) != 1:
        raise Invalid([("/org", "请指定单位编码（org）", "required")])
    return tops[0].code


def endpoint_json(endpoint) -> dict:
    return {"id": endpoint.id, "name": endpoint.name, "url_host": hooks.host_of(endpoint.url),
            "org": unit_json(db.get(OrgUnit, endpoint.org_id)), "events": list(endpoint.events or []),
            "personal": endpoint.personal, "active": endpoint.active, "created_at": endpoint.created_at.isoformat()}


@api_bp.post("/webhooks")
@requires(hooks.PERMISSION)
def create_webhook():
    body = json_body(ENDPOINT_BODY)
    units = _units()
    secret = body.get("secret")
    problems = []
    if secret is not None and (problem := hooks.secret_problem(secret)):
        problems.append(("/secret", problem, "format"))
    try:
        data = hooks.clean({**body, "org": body.get("org") or _default_org(units),
                            "name": body.get("name") or hooks.host_of(body["url"]) or "webhook"}, units)
    except Invalid as failed:
        raise Invalid([*failed.problems, *problems]) from None
    if problems:
        raise Invalid(problems)
    endpoint, made = hooks.create(data, current_user._get_current_object(), secret=secret)
    db.commit()
    answer = {"id": endpoint.id}
    if secret is None:
        answer["secret"] = made  # generated here: the only time it is shown
    return answer, 201


@api_bp.get("/webhooks")
@requires(hooks.PERMISSION)
def list_webhooks():
    """The endpoints of the caller's units (secrets and full URLs are never listed)."""
    stmt = hooks.visible(scope_for(current_user, hooks.PERMISSION))
    page = keyset_page(stmt, WebhookEndpoint.id, request.args.get("cursor"), page_limit(), descending=False)
    return {"items": [endpoint_json(e) for e in page.items], "next_cursor": page.next_cursor}


document("/webhooks", "post",
         "登记 Webhook 接收地址（单位管理员）：url、events，可选 secret（不填则生成并仅在此次返回）、name、org（单位编码，"
         "缺省为本人管理的唯一顶层单位）、personal（授权推送完整个人信息，记入审计）。内网、本机地址须列入 "
         "FENGQIAO_WEBHOOK_ALLOW_HOSTS",
         body=ENDPOINT_BODY,
         responses={201: "{id}（未提供 secret 时另含 secret）", 400: "CSRF 校验失败（Cookie 会话需 X-CSRFToken）",
                    401: "未登录", 403: "无单位管理权限（orgs.manage）", 415: "需要 JSON",
                    422: "字段校验失败（逐字段说明：地址不可用、事件未知、密钥过短、单位不在管理范围内）"})
document("/webhooks", "get", "本人管理单位的 Webhook 接收地址（不含密钥与完整地址）",
         params=[query("cursor", "上一页返回的 next_cursor"),
                 query("limit", "每页条数 1–200", {"type": "integer", "minimum": 1, "maximum": 200})],
         responses={200: "{items: [{id, name, url_host, org, events, personal, active, created_at}], next_cursor}",
                    401: "未登录", 403: "无单位管理权限（orgs.manage）", 422: "参数无效"})
