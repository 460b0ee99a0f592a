"""Org units over the API, scoped to what the caller may see."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.errors import APIError
from fengqiao.jsonbody import json_body
from fengqiao.models import OrgUnit
from fengqiao.orgs import service
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import keyset_page
from fengqiao.params import page_limit

NEW_UNIT = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 32},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "level": {"enum": service.LEVELS},
        "kind": {"enum": ["territorial", "department"]},
        "parent": {"type": "string", "minLength": 1, "maxLength": 32},
    },
    "required": ["code", "name", "level", "parent"],
    "additionalProperties": False,
}


@api_bp.get("/orgs")
@requires("orgs.view")
def list_orgs():
    scope = scope_for(current_user, "orgs.view")
    stmt = service.units_in(scope).order_by(None)
    page = keyset_page(stmt, OrgUnit.id, request.args.get("cursor"), page_limit(), descending=False)
    return {"items": [u.to_json() for u in page.items], "next_cursor": page.next_cursor}


def _visible_unit(code: str, permission: str = "orgs.view") -> OrgUnit:
    unit = service.get_by_code(code)
    if unit is None or not scope_for(current_user, permission).contains(unit.path):
        raise APIError(404)
    return unit


@api_bp.get("/orgs/<code>")
@requires("orgs.view")
def show_org(code: str):
    return _visible_unit(code).to_json()


@api_bp.post("/orgs")
@requires("orgs.manage")
def create_org():
    body = json_body(NEW_UNIT)
    parent = service.get_by_code(body["parent"])
    if parent is None or not scope_for(current_user, "orgs.manage").contains(parent.path):
        raise APIError(422, [("/parent", f"上级单位代码 {body['parent']!r} 不存在", "unknown_org")])
    unit = service.create_unit(
        body["code"], body["name"], body["level"], body["parent"], body.get("kind", "territorial")
    )
    return unit.to_json(), 201


document("/orgs", "get", "可见组织机构（键集分页）", responses={200: "{items, next_cursor}", 401: "未登录"},
         params=[query("cursor", "翻页"), query("limit", "每页条数", {"type": "integer"})])
document("/orgs/{code}", "get", "组织机构详情", responses={200: "单位", 401: "未登录", 404: "不存在或无权查看"})
document("/orgs", "post", "新建组织机构", body=NEW_UNIT,
         responses={201: "单位", 401: "未登录", 403: "无权限", 422: "字段错误"})
