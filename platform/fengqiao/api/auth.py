"""``POST /api/v1/auth/token``: exchange a username and password for a bearer token."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request

from fengqiao.access import login_required, public
from fengqiao.accounts.login_guard import second_factor_ok, sign_in
from fengqiao.accounts.service import LoginFailed, issue_token, token_digest
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document
from fengqiao.db import db, utcnow
from fengqiao.errors import APIError
from fengqiao.jsonbody import json_body
from fengqiao.models import ApiToken

TOKEN_REQUEST = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 64},
        "password": {"type": "string", "minLength": 1, "maxLength": 128},
        "otp": {"type": "string", "maxLength": 10, "description": "开启两步验证的账户：6 位动态验证码"},
    },
    "required": ["username", "password"],
    "additionalProperties": False,
}


@api_bp.post("/auth/token")
@public
def issue_api_token():
    body = json_body(TOKEN_REQUEST)
    try:  # failures are rate-limited and slowed down inside; successes are not
        user = sign_in(body["username"], body["password"])
        if user.totp_enabled and not second_factor_ok(user, body.get("otp", "")):
            raise APIError(401, [("/otp", "该账户已开启两步验证，请提供正确的 6 位动态验证码（otp）", "otp_required")])
    except LoginFailed as failed:
        raise APIError(401, [("", failed.message, failed.code)]) from None
    return {"token": issue_token(user), "token_type": "Bearer"}, 200


document("/auth/token", "post", "用户名密码换取访问令牌", body=TOKEN_REQUEST, secured=False,
         responses={200: "{token, token_type}", 401: "用户名或密码错误/失败次数过多（稍后再试）", 415: "非 JSON",
                    422: "字段错误", 429: "请求过于频繁（说明何时可再试，并带 Retry-After）"})


@api_bp.post("/auth/revoke")
@login_required
def revoke_api_token():
    """Revoke the bearer token this request carries (an integration signing off)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise APIError(400, [("", "请在 Authorization 头中携带要吊销的令牌", "bearer_required")])
    row = db.scalar(sa.select(ApiToken).where(ApiToken.digest == token_digest(header[len("Bearer "):].strip())))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return "", 204


document("/auth/revoke", "post", "吊销本次请求所携带的访问令牌", responses={204: "已吊销", 401: "令牌无效"})
