"""Staff accounts over the API, scoped to the caller's org subtrees."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.accounts import directory
from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.accounts.service import announce_user_created, create_user
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.errors import APIError
from fengqiao.jsonbody import json_body
from fengqiao.models import User
from fengqiao.orgs.scope import scope_for
from fengqiao.orgs.service import get_by_code
from fengqiao.pagination import keyset_page
from fengqiao.params import page_limit

NEW_USER = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 64},
        "password": {"type": "string", "minLength": 1, "maxLength": 128},
        "role": {"enum": list(ROLE_LABELS)},
        "org": {"type": "string", "minLength": 1, "maxLength": 32},
        "display_name": {"type": "string", "maxLength": 64},
    },
    "required": ["username", "password", "role", "org"],
    "additionalProperties": False,
}


@api_bp.get("/users")
@requires("users.view")
def list_users():
    stmt = directory.users_in(scope_for(current_user, "users.view"))
    page = keyset_page(stmt, User.id, request.args.get("cursor"), page_limit(), descending=False)
    return {"items": [directory.user_json(u) for u in page.items], "next_cursor": page.next_cursor}


@api_bp.get("/users/<username>")
@requires("users.view")
def show_user(username: str):
    user = directory.visible_user(username, scope_for(current_user, "users.view"))
    if user is None:
        raise APIError(404)
    return directory.user_json(user)


@api_bp.post("/users")
@requires("users.manage")
def create_user_api():
    body = json_body(NEW_USER)
    org = get_by_code(body["org"])
    if org is None or not scope_for(current_user, "users.manage").contains(org.path):
        raise APIError(422, [("/org", f"组织机构代码 {body['org']!r} 不存在", "unknown_org")])
    user = create_user(
        body["username"], body["password"], body["role"], body["org"], body.get("display_name", "")
    )
    announce_user_created(user)
    return directory.user_json(user), 201



document("/users", "get", "可见用户（键集分页）", responses={200: "{items, next_cursor}", 401: "未登录"},
         params=[query("cursor", "翻页"), query("limit", "每页条数", {"type": "integer"})])
document("/users/{username}", "get", "用户详情", responses={200: "用户", 401: "未登录", 404: "不存在或无权查看"})
document("/users", "post", "新建用户", body=NEW_USER,
         responses={201: "用户", 401: "未登录", 403: "无权限", 422: "字段错误"})
