"""The one error shape, ``{"errors":[{"pointer","message","code"}]}``, and its handlers.

API routes (``/api/``) always answer errors as JSON in that shape; HTML pages get a
friendly Chinese page. Neither ever shows a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

Problem = tuple[str, str, str]  # (pointer, message, code)

# Chinese text for the HTTP errors a user can meet.
STATUS_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "未找到该页面或记录"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "数据已被他人修改，请刷新后重试"),
    410: ("gone", "该内容已停用"),
    413: ("too_large", "提交内容过大"),
    415: ("unsupported_media_type", "请以 JSON 格式提交 (Content-Type: application/json)"),
    422: ("invalid", "提交的内容有误"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
    500: ("server_error", "系统出现错误，请稍后再试"),
    503: ("unavailable", "系统暂时不可用，请稍后再试"),
}


class APIError(Exception):
    """An error that becomes the JSON error shape with ``status``."""

    def __init__(self, status: int, problems: Iterable[Problem] | None = None):
        self.status = status
        code, message = STATUS_MESSAGES.get(status, ("error", "请求失败"))
        self.problems = list(problems or [("", message, code)])
        super().__init__(self.problems[0][1])


class ValidationFailed(APIError):
    """Invalid input: 422 with one problem per field."""

    def __init__(self, problems: Iterable[Problem]):
        super().__init__(422, problems)

    def for_field(self, pointer: str) -> list[str]:
        return [m for p, m, _ in self.problems if p == pointer]


def error_body(problems: Iterable[Problem]) -> dict:
    return {"errors": [{"pointer": p, "message": m, "code": c} for p, m, c in problems]}


def json_error(status: int, problems: Iterable[Problem] | None = None) -> Response:
    err = APIError(status, problems)
    response = jsonify(error_body(err.problems))
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(_err: CSRFError):
        if wants_json():
            return json_error(400, [("", "CSRF 校验失败，请刷新页面后重试", "csrf")])
        return _html_error(400, "页面已过期，请返回刷新后重新提交（您填写的内容未丢失，可在浏览器中后退）")

    @app.errorhandler(APIError)
    def _api_error(err: APIError):
        if wants_json():
            response = jsonify(error_body(err.problems))
            response.status_code = err.status
            return response
        return _html_error(err.status, err.problems[0][1])

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        if wants_json():
            response = json_error(status)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="fengqiao"'
            valid_methods = getattr(err, "valid_methods", None)
            if status == 405 and valid_methods:
                response.headers["Allow"] = ", ".join(valid_methods)
            return response
        return _html_error(status)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500)
        return _html_error(500)

    from fengqiao.outage import register_outage_handler

    register_outage_handler(app)  # a database outage: 503, never 500


def _html_error(status: int, message: str | None = None):
    code, default_message = STATUS_MESSAGES.get(status, ("error", "请求失败"))
    try:
        body = render_template("error.html", status=status, message=message or default_message)
    except Exception:  # the error page itself must never fail
        log.exception("error page failed to render")
        body = f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{default_message}</p>"
    return body, status
