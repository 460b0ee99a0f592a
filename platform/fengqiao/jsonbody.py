"""Reading a request's JSON body: one answer for every API route, core or plugin.

Apart from ``fengqiao.api`` so that plugins reach it (through ``fengqiao.sdk.web``) without
importing the core's API routes.
"""

from __future__ import annotations

from typing import Any

from flask import request

from fengqiao.errors import APIError
from fengqiao.validation import validate


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
