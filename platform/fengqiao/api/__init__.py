"""The JSON API under ``/api/v1``: bearer tokens for integrations, one error shape."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from fengqiao.csrf import protect_cookie_writes
from fengqiao.errors import APIError
from fengqiao.params import int_arg
from fengqiao.validation import validate

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


api_bp.before_request(protect_cookie_writes)  # cookie writes need X-CSRFToken (plugin APIs too)


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
    return int_arg("limit", default, minimum=1, maximum=maximum, message=f"limit 应为 1–{maximum} 的整数", code="range")


from fengqiao.api import auth, cases, forms, jobs, metrics, openapi, orgs, system, track, users  # noqa: E402,F401
