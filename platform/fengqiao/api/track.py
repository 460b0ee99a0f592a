"""``GET /api/v1/track/{number}?code=…``: a resident follows their case."""

from __future__ import annotations

from flask import request

from fengqiao.access import public
from fengqiao.api import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.cases.tracking import find_for_resident, public_view
from fengqiao.ratelimit import enforce


@api_bp.get("/track/<number>")
@public
def track_case(number: str):
    enforce("track")
    return public_view(find_for_resident(number, request.args.get("code", "")))


document("/track/{number}", "get", "居民凭查询码查看办理进度（不含工作人员姓名与内部意见）", secured=False,
         params=[query("code", "提交时获得的查询码")],
         responses={200: "状态与公开时间线", 404: "编号或查询码不正确", 429: "请求过于频繁"})
