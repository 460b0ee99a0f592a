"""The one error shape, ``{"errors":[{"pointer","message","code"}]}``, and its handlers.

API routes (``/api/``) always answer errors as JSON in that shape; HTML pages get a
friendly Chinese page. Neither ever shows a stack trace. Services raise the domain errors of
``fengqiao.exceptions``; this module alone decides their HTTP status (:func:`http_status`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from fengqiao.db import db
from fengqiao.exceptions import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Problem,
    RateLimited,
    TooLarge,
    Unauthenticated,
)

log = logging.getLogger(__name__)

__all__ = ["APIError", "Problem", "ValidationFailed", "error_body", "http_status", "json_error",
           "register_error_handlers", "wants_json"]

# The status of each kind of domain error (the most specific class listed wins).
DOMAIN_STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Unauthenticated: 401,
    Forbidden: 403,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    RateLimited: 429,
}

# Chinese text for the HTTP errors a user can meet: a domain error's own default for its
# status (written once, on the class), plus the statuses only HTTP knows.
STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式不正确"),
    405: ("method_not_allowed", "不支持该请求方法"),
    415: ("unsupported_media_type", "请以 JSON 格式提交 (Content-Type: application/json)"),
    500: ("server_error", "系统出现错误，请稍后再试"),
    503: ("unavailable", "系统暂时不可用，请稍后再试"),
    **{status: (kind.default_code, kind.default_message) for kind, status in DOMAIN_STATUS.items()},
}


class APIError(DomainError):
    """The web layer's own error with an explicit HTTP ``status`` (malformed requests,
    unsupported media types …: things only HTTP knows). A :class:`DomainError`, so a page
    that shows "what went wrong" catches both with ``except DomainError``."""

    def __init__(self, status: int, problems: Iterable[Problem] | None = None):
        self.status = status
        code, message = STATUS_MESSAGES.get(status, ("error", "请求失败"))
        super().__init__(message, code=code)
        if problems:
            self.problems = list(problems)
            self.args = (self.problems[0][1],)


ValidationFailed = Invalid
"""The former name of :class:`fengqiao.exceptions.Invalid` (422), kept for plugins."""


def http_status(err: DomainError) -> int:
    """The HTTP status that answers ``err``."""
    if isinstance(err, APIError):
        return err.status
    for kind in type(err).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return 400


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

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        status = http_status(err)
        if isinstance(err, Unauthenticated) and not wants_json():  # a page: sign in, then come back
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        if wants_json():
            response = jsonify(error_body(err.problems))
            response.status_code = status
        else:
            body, status = _html_error(status, err.problems[0][1])
            response = app.make_response((body, status))
        retry_after = getattr(err, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

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

    _register_outage_handler(app)  # a database outage: 503, never 500


def _html_error(status: int, message: str | None = None):
    code, default_message = STATUS_MESSAGES.get(status, ("error", "请求失败"))
    try:
        body = render_template("error.html", status=status, message=message or default_message)
    except Exception:  # the error page itself must never fail
        log.exception("error page failed to render")
        body = f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{default_message}</p>"
    return body, status


# ---- database outages ----------------------------------------------------------------------
# When PostgreSQL goes away, SQLAlchemy raises ``OperationalError`` (cannot connect, or the
# server closed a pooled connection mid-request) and invalidates the whole pool, so the first
# requests after the server returns open fresh connections; ``pool_pre_ping`` catches any
# connection that died while idle. Nothing has to restart: meanwhile every request gets 503
# with a Chinese message, never a 500.

OUTAGE_RETRY_AFTER_SECONDS = 5
OUTAGE_MESSAGE = "数据库暂时无法访问，请稍后再试"
OUTAGE_CODE = "database_unavailable"
# A statement PostgreSQL cancelled at the web process's statement_timeout (fengqiao.wsgi):
# the database is up, the request asked too much of it at once.
TOO_SLOW_MESSAGE = "查询耗时过长，已取消，请缩小范围（单位、时间段）后重试"
TOO_SLOW_CODE = "query_timeout"

# "The database is not there right now" (refused, closed mid-request, pool exhausted, SQLite
# locked), as opposed to "the query is wrong", which stays a logged 500.
OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def _register_outage_handler(app: Flask) -> None:
    def _database_unavailable(err: sa_exc.SQLAlchemyError):
        # The class names only: the exception text carries SQL parameters (personal data).
        cause = getattr(err, "orig", None)
        too_slow = getattr(cause, "sqlstate", None) == "57014"  # query_canceled
        log.warning("database %s on %s %s: %s (%s)", "statement timeout" if too_slow else "unavailable",
                    request.method, request.path, err.__class__.__name__, cause.__class__.__name__ if cause else "-")
        message, code = (TOO_SLOW_MESSAGE, TOO_SLOW_CODE) if too_slow else (OUTAGE_MESSAGE, OUTAGE_CODE)
        try:
            db.rollback()  # the error page may ask for the signed-in user again
        except Exception:
            log.debug("rollback after a database outage failed", exc_info=True)
        if wants_json():
            response = json_error(503, [("", message, code)])
        else:
            g._login_user = app.login_manager.anonymous_user()  # the page must not load the user
            body, status = _html_error(503, message)
            response = app.make_response((body, status))
        response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)
        return response

    for outage in OUTAGES:
        app.register_error_handler(outage, _database_unavailable)
