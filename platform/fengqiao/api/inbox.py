"""``/api/v1/inbox``: the caller's own message centre (站内信) for integrations and apps."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import login_required
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.errors import APIError
from fengqiao.jsonbody import json_body
from fengqiao.notifications import service
from fengqiao.params import MAX_INT, page_limit


@api_bp.get("/inbox")
@login_required
def list_inbox():
    filters = service.parse_filter(request.args.get("unread"), request.args.get("kind"))
    page = service.page(current_user._get_current_object(), filters, request.args.get("cursor"), page_limit())
    return {"items": [service.to_json(n) for n in page.items], "next_cursor": page.next_cursor,
            "unread": service.unread_count(current_user._get_current_object())}


READ_BODY = {
    "type": "object",
    "properties": {
        "ids": {"type": "array", "maxItems": service.MAX_IDS,
                "items": {"type": "integer", "minimum": 1, "maximum": MAX_INT}},
        "all": {"type": "boolean"},
    },
    "additionalProperties": False,
}


@api_bp.post("/inbox/read")
@login_required
def mark_inbox_read():
    """Mark some of the caller's notifications read (ids of others are ignored), or all."""
    body = json_body(READ_BODY)
    if body.get("all") is True:
        count = service.mark_read(current_user._get_current_object(), everything=True)
    elif body.get("ids"):
        count = service.mark_read(current_user._get_current_object(), list(dict.fromkeys(body["ids"])))
    else:
        raise APIError(422, [("/ids", "请提供要标为已读的消息 ids，或 \"all\": true", "required")])
    return {"marked": count, "unread": service.unread_count(current_user._get_current_object())}


@api_bp.post("/inbox/<int:notification_id>/read")
@login_required
def mark_one_inbox_read(notification_id: int):
    """Mark one of the caller's notifications read; another user's is not found (404)."""
    user = current_user._get_current_object()
    service.open_(user, notification_id)
    return {"marked": 1, "unread": service.unread_count(user)}


KINDS = ", ".join(f"{k}（{v}）" for k, v in service.KIND_LABELS.items())
document("/inbox", "get", "本人的站内消息，最新在前（游标翻页）",
         params=[query("unread", "1：只看未读", {"type": "string", "enum": ["0", "1"]}),
                 query("kind", f"消息类别：{KINDS}，other（其他事项动态）"),
                 query("cursor", "上一页返回的 next_cursor"),
                 query("limit", "每页条数 1–200", {"type": "integer", "minimum": 1, "maximum": 200})],
         responses={200: "{items: [{id, title, text, link, read, at, event, kind, kind_label, case_number, "
                         "created_at}], next_cursor, unread（未读条数，最多计到 100）}；event 与 kind 相同，at 与 "
                         "created_at 相同",
                    401: "未登录", 422: "参数无效"})
document("/inbox/read", "post", "将本人的站内消息标为已读（按 ids，或 all=true 全部）",
         body=READ_BODY,
         responses={200: "{marked, unread}", 400: "CSRF 校验失败（Cookie 会话需 X-CSRFToken）",
                    401: "未登录", 415: "需要 JSON", 422: "参数无效"})
document("/inbox/{notification_id}/read", "post", "将本人的一条站内消息标为已读",
         responses={200: "{marked, unread}", 400: "CSRF 校验失败（Cookie 会话需 X-CSRFToken）",
                    401: "未登录", 404: "消息不存在（或不是本人的）"})
