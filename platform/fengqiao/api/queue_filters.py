"""``/api/v1/me/queue-filters``: the caller's saved queue filters (保存的筛选), the same rows
as the chips on /queues. Logic: ``fengqiao.cases.saved_filters`` (scoped by user: another
user's id is 404)."""

from __future__ import annotations

from flask_login import current_user

from fengqiao.access import requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document
from fengqiao.cases import saved_filters
from fengqiao.jsonbody import json_body

SAVE_BODY = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 100},  # 20 characters: checked with a Chinese message
        "filter": {"type": "object", "additionalProperties": False,
                   "properties": {k: {"type": "string", "maxLength": 200} for k in saved_filters.FILTER_KEYS}},
    },
    "additionalProperties": False,
}


def _json(row) -> dict:
    return {"id": row.id, "name": row.name, "query": row.query, "created_at": row.created_at.isoformat()}


@api_bp.get("/me/queue-filters")
@requires("cases.view")
def list_queue_filters():
    return {"items": [_json(r) for r in saved_filters.list_for(current_user._get_current_object())]}


@api_bp.post("/me/queue-filters")
@requires("cases.view")
def save_queue_filter():
    body = json_body(SAVE_BODY)
    row = saved_filters.create(current_user._get_current_object(), body["name"], body.get("filter") or {})
    return _json(row), 201


@api_bp.delete("/me/queue-filters/<int:filter_id>")
@requires("cases.view")
def delete_queue_filter(filter_id: int):
    saved_filters.delete(current_user._get_current_object(), filter_id)
    return "", 204


FILTER_OUT = "{id, name, query（队列的查询字符串，如 view=overdue&sort=deadline）, created_at}"
document("/me/queue-filters", "get", "本人保存的队列筛选（按保存先后）",
         responses={200: "{items: [" + FILTER_OUT + "]}", 401: "未登录", 403: "无查看事项的权限"})
document("/me/queue-filters", "post",
         f"保存一个队列筛选：名称必填、最多 {saved_filters.MAX_NAME} 个字、本人名下不重复，每人最多 "
         f"{saved_filters.MAX_FILTERS} 个；filter 为队列参数（view、q、type、category、state、org、priority、sort），"
         "按队列的规则校验",
         body=SAVE_BODY,
         responses={201: FILTER_OUT, 400: "CSRF 校验失败（Cookie 会话需 X-CSRFToken）", 401: "未登录",
                    403: "无查看事项的权限", 415: "需要 JSON", 422: "名称或筛选条件有误（逐项说明）"})
document("/me/queue-filters/{filter_id}", "delete", "删除本人保存的一个队列筛选",
         responses={204: "已删除", 400: "CSRF 校验失败（Cookie 会话需 X-CSRFToken）", 401: "未登录",
                    403: "无查看事项的权限", 404: "不存在（或不是本人的）"})
