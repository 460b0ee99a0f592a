"""``GET /api/v1/metrics``: the dashboard's numbers as JSON; ``POST …/ledgers`` queues a 台账."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.cases import ledgers, metrics
from fengqiao.jsonbody import json_body
from fengqiao.orgs.scope import scope_for


@api_bp.get("/metrics")
@requires("metrics.view")
def get_metrics():
    scope = scope_for(current_user, metrics.PERMISSION)
    filters = metrics.resolve_filters(
        scope, org=request.args.get("org", ""), type_=request.args.get("type", ""),
        start=request.args.get("from", ""), end=request.args.get("to", ""),
        category=request.args.get("category", ""))
    return metrics.cached(scope, filters)


LEDGER_BODY = {
    "type": "object",
    "properties": {
        "kind": {"enum": list(ledgers.KINDS)},
        "org": {"type": "string"},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "type": {"type": "string"},
        "category": {"type": "string"},
    },
    "required": ["kind"],
    "additionalProperties": False,
}


@api_bp.post("/metrics/ledgers")
@requires("metrics.view")
def request_ledger():
    body = json_body(LEDGER_BODY)
    user = current_user._get_current_object()
    filters = metrics.resolve_filters(
        scope_for(user, metrics.PERMISSION), org=body.get("org", ""), type_=body.get("type", ""),
        start=body.get("from", ""), end=body.get("to", ""), category=body.get("category", ""))
    job_id = ledgers.request_ledger(user, body["kind"], filters)
    return {"job": job_id, "status_url": f"/api/v1/jobs/{job_id}"}, 202


_FILTERS = [query("org", "单位代码（含下级），默认为本人可见的全部单位"),
            query("from", "开始日期 YYYY-MM-DD（含），本地时间；与 to 都不填时为本月"),
            query("to", "结束日期 YYYY-MM-DD（不含）"),
            query("type", "事项类型，如 grid_incident"),
            query("category", "类别，如 help（须为所选类型表单的类别选项之一）")]
document("/metrics", "get", "统计指标：受理、办结、办结率、按期办结率（首次办结）、满意率、办理时长（不含暂停）、超期、类别、每日序列、下级单位；"
         "rates 含响应率、自行处置率、就地化解率、退单率、重办率、重复投诉率、调解成功率、解决率（各含 part、whole、rate）",
         responses={200: "指标（各项口径见 basis）", 401: "未登录", 403: "无统计权限",
                    422: "日期、单位、类型或类别有误（中文说明）"}, params=_FILTERS)
document("/metrics/ledgers", "post", "生成标准台账 Excel（后台任务；用 GET /jobs/{id} 查看进度并下载）",
         body=LEDGER_BODY, responses={202: "{job, status_url}", 401: "未登录", 403: "无统计权限",
                                      415: "不是 JSON", 422: "台账种类、日期、单位或类型有误"})
