"""``/api/v1/me/notification-settings`` (the caller's own addresses and channels, masked
out) and ``/api/v1/admin/deliveries`` (the delivery and dead-letter list of the caller's
units). Logic: ``fengqiao.notifications.settings``."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import login_required, requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.jsonbody import json_body
from fengqiao.notifications import settings as svc
from fengqiao.params import page_limit

PREFS_BODY = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "maxLength": 254},
        "mobile": {"type": "string", "maxLength": 20},
        "channels": {"type": ["array", "null"], "maxItems": 20, "items": {"type": "string", "maxLength": 40}},
    },
    "additionalProperties": False,
}


@api_bp.get("/me/notification-settings")
@login_required
def get_notification_settings():
    return svc.prefs_json(current_user._get_current_object())


@api_bp.put("/me/notification-settings")
@login_required
def put_notification_settings():
    """Omitted fields keep their value; "" clears an address; channels null = the unit's defaults."""
    body = json_body(PREFS_BODY)
    user = current_user._get_current_object()
    changed = svc.save_prefs(user, email=body.get("email", svc.KEEP), mobile=body.get("mobile", svc.KEEP),
                             channels=body["channels"] if "channels" in body else svc.KEEP)
    return {**svc.prefs_json(user), "changed": changed}


@api_bp.get("/admin/deliveries")
@requires(svc.MANAGE)
def list_deliveries():
    user = current_user._get_current_object()
    filters = svc.parse_filter(request.args.get("status"), request.args.get("channel"))
    page = svc.delivery_page(user, filters, request.args.get("cursor"), page_limit())
    labels = svc.target_labels(page.items)
    return {"items": [svc.delivery_json(row, labels) for row in page.items], "next_cursor": page.next_cursor}


PREFS_OUT = ("{email（脱敏）, mobile（脱敏）, channels（渠道名列表；null 表示按单位默认）, "
             "available_channels: [{name, label, address_field}]}")
document("/me/notification-settings", "get", "本人的通知设置（联系方式脱敏显示）",
         responses={200: PREFS_OUT, 401: "未登录"})
document("/me/notification-settings", "put",
         "修改本人的通知设置：省略的字段保持不变；email/mobile 传空字符串表示清除；channels 为 null 表示按单位默认",
         body=PREFS_BODY,
         responses={200: PREFS_OUT[:-1] + ", changed（修改了哪些字段）}",
                    400: "CSRF 校验失败（Cookie 会话需 X-CSRFToken）", 401: "未登录", 415: "需要 JSON",
                    422: "字段错误（邮箱格式、11 位手机号码、未安装的渠道）"})
document("/admin/deliveries", "get", "本人管理范围内单位的通知投递记录，最新在前（游标翻页）；status=dead 即失败待重发列表",
         params=[query("status", "状态：pending（待发送）、sent（已发送）、dead（失败）",
                       {"type": "string", "enum": list(svc.STATUS_LABELS)}),
                 query("channel", "渠道名称，如 sms、wecom、webhook"),
                 query("cursor", "上一页返回的 next_cursor"),
                 query("limit", "每页条数 1–200", {"type": "integer", "minimum": 1, "maximum": 200})],
         responses={200: "{items: [{id, created_at, channel, channel_label, target（收件对象名称，不含联系方式）, "
                         "target_kind, kind, kind_label, status, status_label, attempts, next_attempt_at, sent_at, "
                         "last_error, response_code, case_number}], next_cursor}",
                    401: "未登录", 403: "无权限", 422: "参数无效"})
