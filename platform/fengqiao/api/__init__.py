"""The JSON API under ``/api/v1``: bearer tokens for integrations, one error shape."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, session

from fengqiao.csrf import csrf
from fengqiao.errors import APIError
from fengqiao.validation import validate

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.before_request
def _csrf_for_cookie_sessions():
    """Cookie-authenticated writes need the CSRF header; bearer-token calls do not."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.headers.get("Authorization"):
        return
    if "_user_id" not in session:
        return
    csrf.protect()  # raises CSRFError: answered as 400 with code "csrf"


def json_body(schema: dict | None = None) -> Any:
    """The request's JSON body: 415 when not JSON, 400 when malformed, 422 when invalid."""
    if not request.is_json:
        raise APIError(415)
    data = request.get_json(silent=True)
    if data is None:
        raise APIError(400, [("", "JSON 格式错误，无法解析", "invalid_json")])
    if schema is not None:
        validate(schema, data)
    return data


def page_limit(default: int = 50, maximum: int = 200) -> int:
    raw = request.args.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise APIError(422, [("/limit", f"limit 应为 1–{maximum} 的整数", "range")])
    return int(raw)


from fengqiao.api import auth, cases, forms, jobs, metrics, openapi, orgs, system, track, users  # noqa: E402,F401
