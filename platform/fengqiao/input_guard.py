"""Refuse text no database can store, once, before any view sees it.

PostgreSQL rejects NUL (``\\x00``) in text and UTF-8 cannot encode lone surrogates (``"\\ud800"``
in JSON); either would surface as a 500 from deep inside a query. Every path parameter, query
parameter, form field and JSON string is checked here instead: 400 with a Chinese message.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from fengqiao.errors import APIError

MESSAGE = "提交的内容包含无法保存的控制字符或无效编码，请删除后重试"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


def unstorable(value: Any) -> bool:
    """Whether ``value`` (or any string inside it) holds NUL or cannot be encoded as UTF-8."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable(v) for v in value)
    return False


def _request_is_unstorable() -> bool:
    if unstorable(dict(request.view_args or {})):
        return True
    if any(unstorable(k) or unstorable(v) for k, v in request.args.items(multi=True)):
        return True
    if request.method not in _WRITES:
        return False
    if request.is_json:
        return unstorable(request.get_json(silent=True))
    if request.mimetype in _FORM_TYPES:
        return any(unstorable(k) or unstorable(v) for k, v in request.form.items(multi=True))
    return False


def init_input_guard(app: Flask) -> None:
    @app.before_request
    def _refuse_unstorable_text():
        if request.endpoint is None:
            return None  # 404/405 answer first
        if _request_is_unstorable():
            raise APIError(400, [("", MESSAGE, "invalid_character")])
        return None
