"""Pages and API routes: access decorators, request input, OpenAPI entries, pagination.

Everything here works inside a request of the core's app; nothing imports the core's own
routes. POST pages: put ``<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">``
in every form (the core refuses a POST without it: 400 with a Chinese page), answer with a
redirect (303) after a successful write, and tell the person with Flask's
``flash(message, "success")`` — or ``flash_problems(err)`` for a refusal; ``base.html`` shows
the messages (categories ``success``, ``info``, ``error``).
"""

from __future__ import annotations

from typing import Any

from flask import flash, has_request_context, request
from flask import render_template as render
from flask_login import current_user

from fengqiao import jsonbody, params, validation
from fengqiao.access import login_required, public, requires
from fengqiao.apidocs import document, query
from fengqiao.forms import formats
from fengqiao.idempotency import idempotent
from fengqiao.pagination import Page, keyset_page
from fengqiao.params import MAX_INT, parse_int
from fengqiao.ratelimit import rate_limited
from fengqiao.sdk.errors import DomainError, NotFound, plugin_errors

__all__ = [
    "MAX_INT", "Page", "credit_code_problem", "current_user", "document", "external_url", "flash_problems",
    "id_card_problem", "idempotent", "int_arg", "json_body", "login_required", "paginate", "parse_int", "public", "query",
    "rate_limited", "render", "requires", "validate",
]

json_body = plugin_errors(jsonbody.json_body)
validate = plugin_errors(validation.validate)
int_arg = plugin_errors(params.int_arg)


@plugin_errors
def paginate(stmt, key, *, limit: int = 50, cursor: str | None = None, descending: bool = True) -> Page:
    """One keyset page of ``stmt`` (a ``select`` of your model, or of several entities and
    columns whose first entity holds the keys) ordered by ``key``: a unique column, or a tuple
    of columns whose last one is unique (``(Row.day, Row.id)``). Returns
    ``Page(items, next_cursor)``; link the next page with ``?cursor=<next_cursor>`` (an opaque
    text). ``cursor`` defaults to the request's ``?cursor=``; a forged one answers 422. Pages
    cost the same at page 1 and page 10,000 (no OFFSET, no count)."""
    if cursor is None and has_request_context():
        cursor = request.args.get("cursor") or None
    return keyset_page(stmt, key, cursor, limit, descending)


def flash_problems(err: DomainError) -> None:
    """Show a refused write (an ``APIError`` or a domain error) on the next page as one
    ``error`` flash message of its problems' texts. A not-found — an object missing or outside
    the caller's scope — is re-raised: it is the error page, never a message that says what
    the object was."""
    if isinstance(err, NotFound) or getattr(err, "status", None) == 404:
        raise err
    flash("；".join(message for _pointer, message, _code in err.problems), "error")


def id_card_problem(value: str) -> str | None:
    """Why ``value`` is not a resident ID-card number (GB 11643), in Chinese, or None when it is
    one: 18 characters (17 ASCII digits, then a digit or upper-case ``X``), a province-level
    area code (or 810000/820000/830000 of a 港澳台居民居住证), a real birth date not in the
    future, the right check character — judged in that order, so the message names the first
    thing to fix. Normalise first (trim, upper-case a trailing ``x``): what is checked is what
    you store. The forms' ``cn-id-card`` format checks the same except the area code."""
    if not isinstance(value, str):
        return formats.ID_CARD_LENGTH_MESSAGE
    shape = formats.id_card_problem(value)
    if shape == formats.ID_CARD_LENGTH_MESSAGE:
        return shape
    return formats.id_card_region_problem(value) or shape


def credit_code_problem(value: str) -> str | None:
    """Why ``value`` is not a 统一社会信用代码 (GB 32100: 18 characters of the code's 31-character
    set, the right check character), in Chinese, or None when it is one. Upper-case first."""
    return formats.uscc_problem(value) if isinstance(value, str) else formats.USCC_SHAPE_MESSAGE


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for ``endpoint`` (QR codes, PDFs): the request's host inside a request,
    else ``FENGQIAO_PUBLIC_URL`` (default ``http://127.0.0.1:5000``) in jobs and commands."""
    from flask import current_app, url_for

    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    from fengqiao.config import public_base_url

    with current_app.test_request_context(base_url=public_base_url()):
        return url_for(endpoint, _external=True, **values)
