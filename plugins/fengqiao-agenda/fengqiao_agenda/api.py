"""JSON routes under ``/api/v1/p/agenda/``, each described for the OpenAPI document."""

from __future__ import annotations

from fengqiao.sdk.privacy import mask_mobile, mask_name
from fengqiao.sdk.web import current_user, document, json_body, paginate, query, requires
from flask import Blueprint

from fengqiao_agenda import items
from fengqiao_agenda.models import STATUSES, AgendaItem

api = Blueprint("agenda_api", __name__)
TAG = "agenda"


def item_json(item: AgendaItem) -> dict:
    """An item as staff see it: the proposer's name and number masked."""
    return {"id": item.id, "org": item.org_code, "topic": item.topic, "details": item.details,
            "proposer": mask_name(item.proposer), "mobile": mask_mobile(item.mobile) if item.mobile else None,
            "status": item.status, "meeting_on": item.meeting_on.isoformat() if item.meeting_on else None,
            "reply": item.reply, "created_at": item.created_at.isoformat()}


@api.get("/items")
@requires(items.MANAGE)
def list_items():
    page = paginate(items.items_in(status=None), AgendaItem.id, limit=50)
    return {"items": [item_json(i) for i in page.items], "next_cursor": page.next_cursor}


@api.get("/items/<int:item_id>")
@requires(items.MANAGE)
def show_item(item_id: int):
    return item_json(items.item_in_scope(item_id))


DECISION_BODY = {
    "type": "object",
    "required": ["decision"],
    "properties": {
        "decision": {"enum": ["accept", "decline"], "title": "采纳（accept）或不予采纳（decline）"},
        "meeting_on": {"type": "string", "format": "date", "title": "议事会日期（采纳时必填）"},
        "reply": {"type": "string", "maxLength": 1000, "title": "答复（不予采纳时必填）"},
    },
    "additionalProperties": False,
}


@api.post("/items/<int:item_id>/decision")
@requires(items.MANAGE)
def decide(item_id: int):
    found = items.item_in_scope(item_id)
    body = json_body(DECISION_BODY)
    items.decide(found, body["decision"], reply=body.get("reply", ""), meeting_on=body.get("meeting_on", ""),
                 actor=current_user.username)
    return item_json(found)


ITEM = "{id, org, topic, details, proposer (已脱敏), mobile (已脱敏), status, meeting_on, reply, created_at}"
document("/p/agenda/items", "get", "本辖区的居民议题（最新在前，每页 50 条）", tag=TAG,
         params=[query("cursor", "上一页返回的 next_cursor（不填为第一页）")],
         responses={200: f"{{items: [{ITEM}], next_cursor}}", 401: "需登录", 403: "需要 agenda.manage 权限",
                    422: "翻页参数无效"})
document("/p/agenda/items/{item_id}", "get", "一个居民议题", tag=TAG,
         responses={200: ITEM, 401: "需登录", 403: "需要 agenda.manage 权限", 404: "不存在或不在辖区内"})
document("/p/agenda/items/{item_id}/decision", "post", "采纳（列入议事会议程）或不予采纳（附答复）", tag=TAG,
         body=DECISION_BODY,
         responses={200: ITEM, 401: "需登录", 403: "需要 agenda.manage 权限", 404: "不存在或不在辖区内",
                    409: f"已处理过（{'、'.join(STATUSES.values())}）", 422: "字段错误（/decision、/meeting_on、/reply）"})
