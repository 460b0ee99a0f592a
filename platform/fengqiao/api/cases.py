"""Case lists and details over the API (the case engine adds actions)."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from fengqiao import audit
from fengqiao.access import requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.cases import bulk, categories, engine, queries, queue_order, steps
from fengqiao.cases.export import cases_workbook
from fengqiao.cases.facts import case_facts
from fengqiao.cases.reveal import MAX_POINTER, MAX_REASON, reveal
from fengqiao.cases.visibility import case_definition
from fengqiao.db import utcnow
from fengqiao.errors import APIError
from fengqiao.exports import xlsx_response
from fengqiao.jsonbody import json_body
from fengqiao.masking import mask_data, mask_text
from fengqiao.orgs.scope import scope_for
from fengqiao.params import page_limit


def _filters() -> queries.Filters:
    return categories.parse_queue_filters(request.args, current_user._get_current_object())


def _filtered_cases():
    """The caller's scoped case query with the list's filters (shared by list and export)."""
    return queries.queue_query(current_user._get_current_object(), _filters())


@api_bp.get("/cases")
@requires("cases.view")
def list_cases():
    page = queries.queue_page(current_user._get_current_object(), _filters(),
                              request.args.get("cursor"), page_limit())
    return {"items": [_summary(c) for c in page.items], "next_cursor": page.next_cursor}


def _summary(case) -> dict:
    """The list form with numbers typed into the title masked."""
    body = case.summary_json()
    body["title"] = mask_text(body["title"])
    return body


@api_bp.get("/cases/export.xlsx")
@requires("cases.view")
def export_cases():
    filters = _filters()
    data = cases_workbook(_filtered_cases(), "事项台账", type_=filters.type_, user=current_user._get_current_object())
    audit.record("export.cases", record_ref="cases", detail={"filters": {k: mask_text(v) for k, v in filters.args().items()},
                                                          "view": filters.view})
    return xlsx_response("事项台账.xlsx", data)


@api_bp.get("/cases/<number>")
@requires("cases.view")
def show_case(number: str):
    case = queries.visible_case(number, scope_for(current_user, "cases.view"))
    if case is None:
        raise APIError(404)
    body = case.summary_json()
    body.pop("title")
    definition = case_definition(case, current_user._get_current_object())
    data = mask_data(definition["schema"] if definition else {}, case.data)
    body.update(
        data=data,
        history=[{**e.to_json(), "comment": mask_text(e.comment)} for e in engine.history(case)],
        allowed_actions=[a.name for a in engine.allowed_actions(case, current_user)],
        review_on=case.review_on.isoformat() if case.review_on else None,  # a parked item's review date
        step=steps.step_json(case, utcnow()),  # the step in force: {title, due_at, late} or null
        **case_facts(case),
    )
    if body.get("pending_extension"):
        body["pending_extension"]["reason"] = mask_text(body["pending_extension"]["reason"])
    return body


REVEAL_BODY = {
    "type": "object",
    "properties": {
        "field": {"type": "string", "maxLength": MAX_POINTER},
        "reason": {"type": "string", "maxLength": MAX_REASON},
    },
    "additionalProperties": False,
}


@api_bp.post("/cases/<number>/reveal")
@requires("cases.view")
def reveal_field(number: str):
    """One personal field in full, with a reason; audited (allowed or refused)."""
    user = current_user._get_current_object()
    if queries.visible_case(number, scope_for(user, "cases.view")) is None:
        raise APIError(404)  # before the body: an unseen case says nothing else
    body = json_body(REVEAL_BODY)
    shown = reveal(number, user, body.get("field"), body.get("reason"))
    response = jsonify(shown.to_json())
    response.headers["Cache-Control"] = "no-store"
    return response


ACTION_BODY = {
    "type": "object",
    "properties": {
        "version": {"type": "integer"},
        "comment": {"type": "string", "maxLength": engine.MAX_COMMENT},
        "fields": {"type": "object"},
    },
    "additionalProperties": False,
}


@api_bp.post("/cases/<number>/actions/<action>")
@requires("cases.act")
def act_on_case(number: str, action: str):
    payload = json_body(ACTION_BODY)
    case = engine.perform(number, action, current_user._get_current_object(), payload)
    return {"number": case.number, "state": case.state, "version": case.version,
            "assignee": case.assignee.username if case.assignee else None}


@api_bp.post("/cases/<number>/photos")
@requires("cases.act")
def upload_case_photo(number: str):
    """One photo for a step of the case that asks for files (e.g. 自行处置's after photo):
    returns its id, which the action's field then names (``fengqiao.cases.photos``)."""
    user = current_user._get_current_object()
    case = queries.visible_case(number, scope_for(user, "cases.view"))
    if case is None:
        raise APIError(404)
    return _upload_step_file(case, user, documents=False)


@api_bp.post("/cases/<number>/files")
@requires("cases.act")
def upload_case_file(number: str):
    """One file (a picture, PDF, Word or Excel document) for a step with a file field
    (``contentMediaType "*/*"``): the same checks as a photo; returns its id for the field."""
    user = current_user._get_current_object()
    case = queries.visible_case(number, scope_for(user, "cases.view"))
    if case is None:
        raise APIError(404)
    return _upload_step_file(case, user, documents=True)


def _upload_step_file(case, user, documents: bool):
    file = request.files.get("file")
    if file is None:
        what = "文件" if documents else "照片"
        raise APIError(422, [("/file", f"请选择要上传的{what}（表单字段 file）", "required")])
    saved = engine.upload_photo(case, user, file, documents=documents)
    return {"id": saved.id, "filename": saved.filename, "content_type": saved.content_type}, 201


LIST_PARAMS = [
    query("view", "队列：all 全部（默认）、mine 我的、unclaimed 待认领、overdue 已超期、due_soon 临期、"
                  "escalated 下级上报（上报至本人所在单位）、closed 已办结",
          {"type": "string", "enum": list(queries.VIEWS)}),
    query("q", "搜索：事项编号（完整或前缀）、4 位数字 = 反映人手机尾号、其他 = 标题关键词"),
    query("type", "事项类型"),
    query("category", "类别（表单中的事件类别、诉求类型、纠纷类型或代办事项的取值，如 help；可与 type 同用，"
                      "须为该类型表单的选项之一，否则 422）"),
    query("state", "状态"), query("org", "单位代码（含下级）"),
    query("priority", "紧急程度/诉求类别（时限档位）"), query("assignee", "me = 分配给我的"),
]
document("/cases", "get", "可见事项列表（键集分页，排序随队列：临期/超期按期限先后）",
         responses={200: "{items, next_cursor}", 401: "未登录", 422: "参数错误"},
         params=[*LIST_PARAMS, query("cursor", "上一页返回的 next_cursor（只在同一排序下有效，换了 sort 为 422）"),
                 query("sort", "排序（可选；省略则按队列的默认顺序）：-created/created 提交时间、deadline/-deadline "
                               "办理期限（无期限的排在最后）、number/-number 事项编号",
                       {"type": "string", "enum": list(queue_order.SORTS)}),
                 query("limit", "每页条数 1–200", {"type": "integer"})])
document("/cases/export.xlsx", "get", "按列表相同筛选导出 Excel；只筛选一种事项类型时附带该类型的表单字段（个人信息脱敏）",
         responses={200: "xlsx 文件", 401: "未登录", 422: "参数错误"}, params=LIST_PARAMS)
document("/cases/{number}", "get", "事项详情（个人信息已脱敏）",
         responses={200: "事项", 401: "未登录", 404: "不存在或无权查看"})
document("/cases/{number}/reveal", "post", "查看一个个人信息字段的完整值（须填写理由，记入审计日志）",
         body=REVEAL_BODY,
         responses={200: "{field, value}", 401: "未登录",
                    403: "无查看完整个人信息的权限，或该字段对本单位（承办单位）隐藏（均记入审计日志）",
                    404: "不存在或无权查看", 422: "未填写理由或字段不存在"})
document("/cases/{number}/actions/{action}", "post", "办理事项：认领或按流程流转", body=ACTION_BODY,
         responses={200: "新的状态与版本", 401: "未登录", 403: "当前状态或角色不允许",
                    404: "不存在或无权查看", 409: "已被他人认领 (claimed) 或版本过期 (stale)",
                    422: "意见/字段校验失败"})
document("/cases/{number}/photos", "post", "上传办理环节的照片（multipart 字段 file，仅限图片）；返回的 id 填入操作字段（如自行处置的处置后照片 after_photos）",
         responses={201: "{id, filename, content_type}", 401: "未登录", 403: "当前没有需要上传照片的办理操作",
                    404: "不存在或无权查看", 422: "文件类型、大小或像素不符合要求"})
document("/cases/{number}/files", "post", "上传办理环节的附件（multipart 字段 file：图片、PDF、Word 或 Excel）；"
         "返回的 id 填入该环节的附件字段（contentMediaType \"*/*\"）",
         responses={201: "{id, filename, content_type}", 401: "未登录", 403: "当前没有需要上传附件的办理操作",
                    404: "不存在或无权查看", 422: "文件类型、大小或像素不符合要求"})


BULK_BODY = {
    "type": "object",
    "properties": {
        "cases": {"type": "array", "items": {
            "type": "object",
            "properties": {"number": {"type": "string", "minLength": 1, "maxLength": 40},
                           "version": {"type": "integer"}},
            "required": ["number", "version"],
            "additionalProperties": False,
        }},
        "comment": {"type": "string", "maxLength": engine.MAX_COMMENT},
        "fields": {"type": "object"},
    },
    "required": ["cases"],
    "additionalProperties": False,
}


@api_bp.post("/cases/bulk/<action>")
@requires("cases.act")
def bulk_act(action: str):
    body = json_body(BULK_BODY)
    results = bulk.bulk_perform([(c["number"], c["version"]) for c in body["cases"]], action,
                                current_user._get_current_object(), body)
    return {"results": [r.to_json() for r in results]}


document("/cases/bulk/{action}", "post",
         f"批量办理：认领 (claim)、指派 (assign) 或流程操作，逐件校验、逐件成败（每次最多 {bulk.MAX_BATCH} 件）",
         body=BULK_BODY,
         responses={200: "{results: [{number, ok, state, version} | {number, ok: false, error: {code, message}}]}",
                    401: "未登录", 403: "无办理权限", 422: f"未选择事项、超过 {bulk.MAX_BATCH} 件或请求体不合法"})
