"""The pages' blueprint and the few helpers its modules share (form errors, the page size)."""

from __future__ import annotations

from fengqiao.sdk.errors import APIError
from fengqiao.sdk.orgs import scope_for
from fengqiao.sdk.web import MAX_INT, current_user, parse_int
from flask import Blueprint, abort, request

pages = Blueprint("volunteer", __name__)


@pages.url_value_preprocessor
def _ids_in_range(_endpoint, values) -> None:
    """``/activities/99999999999`` is simply not found (PostgreSQL ints are 32-bit)."""
    from fengqiao_volunteer.rules import valid_id

    for value in (values or {}).values():
        if isinstance(value, int) and not valid_id(value):
            abort(404)
MANAGE, VIEW = "volunteer.manage", "volunteer.view"
PAGE_SIZE = 30


def scope(permission: str = MANAGE):
    return scope_for(current_user, permission)


def field_errors(err: APIError, fields: tuple[str, ...] = ()) -> dict[str, str]:
    """``{"name": "此项为必填项", "": "…"}``: one Chinese message per form field; with
    ``fields``, a problem about anything else is shown above the form (key ``""``). A 404
    (an object missing or outside the user's scope) is not a form error: the error page."""
    if err.status == 404:
        raise err
    out: dict[str, str] = {}
    for pointer, message, _code in err.problems:
        name = pointer.lstrip("/").split("/")[0]
        out.setdefault(name if not fields or name in fields else "", message)
    return out


def form_data(*, booleans=(), integers=()) -> dict:
    """The posted form as the services' JSON shape (checkboxes → bool, numbers → int)."""
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    for name in booleans:
        data[name] = name in request.form
    for name in integers:
        value = (data.get(name) or "").strip()
        if value:
            data[name] = parse_int(value, value, minimum=-MAX_INT)  # not a number: the schema says so
        else:
            data.pop(name, None)
    return data


def int_arg(value: str | None) -> int:
    number = parse_int((value or "").strip())
    if number is None:
        abort(404)
    return number
