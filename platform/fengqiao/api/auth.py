"""``POST /api/v1/auth/token``: exchange a username and password for a bearer token."""

from __future__ import annotations

from fengqiao.access import public
from fengqiao.accounts.service import LoginFailed, authenticate, issue_token
from fengqiao.api import api_bp, json_body
from fengqiao.api.openapi import document
from fengqiao.errors import APIError
from fengqiao.ratelimit import enforce

TOKEN_REQUEST = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 64},
        "password": {"type": "string", "minLength": 1, "maxLength": 128},
    },
    "required": ["username", "password"],
    "additionalProperties": False,
}


@api_bp.post("/auth/token")
@public
def issue_api_token():
    enforce("login")
    body = json_body(TOKEN_REQUEST)
    try:
        user = authenticate(body["username"], body["password"])
    except LoginFailed as failed:
        raise APIError(401, [("", failed.message, failed.code)]) from None
    return {"token": issue_token(user), "token_type": "Bearer"}, 200


document("/auth/token", "post", "用户名密码换取访问令牌", body=TOKEN_REQUEST, secured=False,
         responses={200: "{token, token_type}", 401: "用户名或密码错误/账户锁定", 415: "非 JSON",
                    422: "字段错误", 429: "请求过于频繁"})
