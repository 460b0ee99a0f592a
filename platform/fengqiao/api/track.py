"""``GET /api/v1/track/{number}?code=…``: a resident follows their case, rates it after
closure and may ask once to reopen it."""

from __future__ import annotations

from flask import request

from fengqiao.access import public
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.cases.reopen import MAX_REASON
from fengqiao.cases.tracking import RATINGS, ask_reopen, find_for_resident, public_view, rate
from fengqiao.jsonbody import json_body
from fengqiao.ratelimit import enforce


@api_bp.get("/track/<number>")
@public
def track_case(number: str):
    enforce("track")
    return public_view(find_for_resident(number, request.args.get("code", "")))


document("/track/{number}", "get", "居民凭查询码查看办理进度（不含工作人员姓名与内部意见）", secured=False,
         params=[query("code", "提交时获得的查询码")],
         responses={200: "状态、公开时间线与答复（replies）", 404: "编号或查询码不正确", 429: "请求过于频繁"})


RATING_BODY = {"type": "object", "properties": {"rating": {"enum": list(RATINGS)}},
               "required": ["rating"], "additionalProperties": False}


@api_bp.post("/track/<number>/rating")
@public
def rate_case(number: str):
    enforce("track")
    case = find_for_resident(number, request.args.get("code", ""))
    body = json_body(RATING_BODY)
    return public_view(rate(case, body["rating"]))


document("/track/{number}/rating", "post", "居民对已办结事项评价（满意/基本满意/不满意，仅一次）", secured=False,
         body=RATING_BODY, params=[query("code", "查询码")],
         responses={200: "评价后的进度", 404: "编号或查询码不正确", 409: "已评价",
                    422: "未办结或选项无效", 429: "请求过于频繁"})


REOPEN_BODY = {
    "type": "object",
    "properties": {"code": {"type": "string", "maxLength": 32, "description": "查询码（也可放在 ?code=）"},
                   "reason": {"type": "string", "maxLength": MAX_REASON, "description": "申请重办的理由"}},
    "required": ["reason"],
    "additionalProperties": False,
}


@api_bp.post("/track/<number>/reopen")
@public
def reopen_case(number: str):
    enforce("track")
    body = json_body(REOPEN_BODY)
    case = find_for_resident(number, body.get("code") or request.args.get("code", ""))
    return public_view(ask_reopen(case, body["reason"]))


document("/track/{number}/reopen", "post",
         "居民申请重办已办结事项（每件仅一次，须在办结后规定天数内；理由必填）", secured=False,
         body=REOPEN_BODY, params=[query("code", "查询码（也可放在请求体 code 中）")],
         responses={200: "重办后的进度", 404: "编号或查询码不正确",
                    409: "未办结（not_closed）、已申请过重办（reopen_limit）或超过申请期限（reopen_window）",
                    422: "理由未填写或过长", 429: "请求过于频繁"})
