"""Published forms and submissions over the API."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import public
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.errors import APIError
from fengqiao.forms import store
from fengqiao.forms.submit import idempotency, submit
from fengqiao.jsonbody import json_body
from fengqiao.params import int_arg
from fengqiao.ratelimit import client_address, enforce

JSON_BODY_LIMIT = 1024 * 1024  # form data is text; files go through uploads


def _version_param() -> int | None:
    return int_arg("version", minimum=1, message="version 应为正整数")


@api_bp.get("/forms")
@public
def list_forms():
    return [
        {"key": f.key, "title": f.title, "version": f.latest_version, "access": f.access}
        for f in store.usable_forms(current_user)
    ]


@api_bp.get("/forms/<key>")
@public
def show_form(key: str):
    version = store.require_usable(key, current_user, _version_param())
    d = version.definition
    return {
        "key": d["key"], "title": d["title"], "version": version.number,
        "access": d["access"], "case_type": d.get("case_type"),
        "schema": d["schema"], "ui": d.get("ui", {}),
    }


@api_bp.post("/forms/<key>/submissions")
@public
def create_submission(key: str):
    user = current_user._get_current_object()  # the busiest route: resolve the proxy once
    version = store.require_usable(key, user, _version_param())
    if request.content_length is not None and request.content_length > JSON_BODY_LIMIT:
        raise APIError(413)
    data = json_body()
    if not isinstance(data, dict):
        raise APIError(422, [("", "提交内容应为 JSON 对象", "type")])
    enforce("public_submit")  # anonymous callers only: staff sessions and tokens pass
    key_header = request.headers.get("Idempotency-Key")
    if key_header is not None and not (1 <= len(key_header) <= 128):
        raise APIError(422, [("/Idempotency-Key", "Idempotency-Key 长度应为 1–128", "maxLength")])
    org = request.args.get("org")
    # Scoped to the caller and this form: a key replays only the caller's own case.
    scoped = (idempotency(key_header, version.definition["key"], user, client_address(), data, org)
              if key_header else None)
    result = submit(version, data, user, "api", org, scoped)
    body = {"case_number": result.case_number, "tracking_code": result.tracking_code}
    if result.case_number is None:  # an intake-only form: no case, the record is the plugin's
        body["submission_id"] = result.submission_id
    return body, 200 if result.replayed else 201


document("/forms", "get", "调用方可用的已发布表单", responses={200: "[{key,title,version,access}]"}, secured=False)
document("/forms/{key}", "get", "表单最新（或指定）版本的定义", secured=False,
         params=[query("version", "版本号", {"type": "integer"})],
         responses={200: "{key,title,version,schema,ui}", 401: "工作人员表单需登录", 404: "不存在", 410: "已停用"})
document("/forms/{key}/submissions", "post", "提交表单并生成事项", secured=False,
         body={"type": "object", "description": "表单数据，按表单 schema 校验"},
         params=[query("org", "受理单位代码（社区/村等属地单位）。未填时：地址字段（address 控件）为标准地址的由该地址所在网格受理，否则工作人员为本人所在单位，其他提交人为表单的受理单位（accepting_unit）；表单未指定受理单位时须填写，否则 422 /org"),
                 query("version", "按指定版本校验", {"type": "integer"}),
                 {"name": "Idempotency-Key", "in": "header", "required": False,
                  "description": "按调用方（登录用户或匿名客户端地址）和表单区分；同一键、不同内容返回 422 idempotency_mismatch",
                  "schema": {"type": "string", "minLength": 1, "maxLength": 128}}],
         responses={201: "{case_number, tracking_code}；仅登记、不生成事项的表单（opens_case: false）为 "
                         "{case_number: null, tracking_code: null, submission_id}", 200: "同一调用方在同一表单以同一 Idempotency-Key 重放相同内容", 400: "JSON 格式错误",
                    401: "需登录", 404: "表单不存在", 410: "表单已停用", 413: "内容过大",
                    415: "非 JSON", 422: "字段校验失败", 429: "请求过于频繁"})


MAX_SEARCH_PAGES = 100


@api_bp.get("/communities")
@public
def community_search():
    """Communities/villages by name (or their street's name), one page: the chooser of a
    public form that names no accepting unit. Rate-limited like the other public reads."""
    from fengqiao.cases.routing import search_communities

    enforce("public_read")
    page = int_arg("page", minimum=1, message="页码应为正整数") or 1
    if page > MAX_SEARCH_PAGES:
        raise APIError(422, [("/page", f"页码不能超过 {MAX_SEARCH_PAGES}", "maximum")])
    q = request.args.get("q", "")
    if len(q) > 50:
        raise APIError(422, [("/q", "搜索内容最多 50 个字符", "maxLength")])
    rows, more = search_communities(q, page)
    return {"items": [{"code": u.code, "name": u.name, "street": u.parent.name if u.parent else ""} for u in rows],
            "page": page, "next_page": page + 1 if more else None}


document("/communities", "get", "按名称搜索社区（村），供居民选择受理社区（分页）", secured=False,
         params=[query("q", "社区（村）或所属街道（乡镇）名称的一部分"), query("page", "页码，从 1 开始", {"type": "integer"})],
         responses={200: "{items: [{code, name, street}], page, next_page}", 422: "参数无效", 429: "请求过于频繁"})
