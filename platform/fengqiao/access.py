"""Deny-by-default route access.

Every core view declares who may call it with one of the decorators below. A view that
declares nothing is refused (403) at run time and fails ``tests/test_access.py``, so a
forgotten check can never silently expose a page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from fengqiao.errors import APIError, wants_json

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable)
ATTR = "fengqiao_access"


@dataclass(frozen=True)
class Access:
    kind: str  # "public" | "login" | "permission"
    permission: str | None = None


def _mark(access: Access) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        setattr(view, ATTR, access)
        return view

    return decorate


public = _mark(Access("public"))
"""Anyone, including anonymous residents."""

login_required = _mark(Access("login"))
"""Any signed-in staff account."""


def requires(permission: str) -> Callable[[F], F]:
    """A signed-in account holding ``permission`` through at least one membership."""
    return _mark(Access("permission", permission))


# Endpoints Flask itself registers.
_BUILTIN_PUBLIC = {"static", "theme_static"}


def access_of(app: Flask, endpoint: str) -> Access | None:
    view = app.view_functions.get(endpoint)
    access = getattr(view, ATTR, None)
    if access is None and endpoint in _BUILTIN_PUBLIC:
        return Access("public")
    if access is None and endpoint.split(".")[0] in app.extensions.get("fengqiao.login_blueprints", ()):
        return Access("login")
    return access


def _unauthenticated():
    if wants_json():
        raise APIError(401)
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))


def enforce_access(app: Flask) -> None:
    @app.before_request
    def _check_access():
        endpoint = request.endpoint
        if endpoint is None:  # no route matched: let the 404/405 handler answer
            return None
        access = access_of(app, endpoint)
        if access is None:
            log.error("route %s declares no access rule: denied", endpoint)
            abort(403)
        if access.kind == "public":
            return None
        if not current_user.is_authenticated:
            return _unauthenticated()
        if access.kind == "permission" and not current_user.can(access.permission):
            abort(403)
        return None
