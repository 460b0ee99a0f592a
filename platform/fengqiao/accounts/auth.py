"""Flask-Login wiring: sessions for browsers, ``Authorization: Bearer`` tokens for the API."""

from __future__ import annotations

from flask import Flask, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import AnonymousUserMixin, LoginManager

from fengqiao.accounts import principals, sessions
from fengqiao.db import current_session
from fengqiao.errors import APIError, wants_json
from fengqiao.models import User

login_manager = LoginManager()
login_manager.login_view = "web.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = "basic"


class Anonymous(AnonymousUserMixin):
    memberships: list = []

    def can(self, permission: str) -> bool:
        return False


login_manager.anonymous_user = Anonymous


def _bearer(req) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None without one."""
    header = req.headers.get("Authorization", "")
    return header[len("Bearer "):].strip() if header.startswith("Bearer ") else None


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    if has_request_context() and _bearer(request) is not None:
        return None  # a bearer request is the token's alone: the cookie beside it has no say
    try:
        user_id, epoch = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = principals.user_by_id(current_session(), user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    ended = sessions.state(user)
    if ended == sessions.EXPIRED:
        _forget_expired_session()
    return None if ended else user


def _forget_expired_session() -> None:
    """Past the absolute lifetime: drop the sign-in from the cookie and say why (once)."""
    for key in ("_user_id", "_fresh", "_id", sessions.SESSION_KEY):
        session.pop(key, None)
    hours = sessions.max_hours()
    if wants_json():
        raise APIError(401, [("", f"登录已超过 {hours} 小时，会话已过期，请重新登录", "session_expired")])
    session["_flashes"] = [("info", f"登录已超过 {hours} 小时，已自动退出，请重新登录")]


@login_manager.request_loader
def _load_from_bearer(req) -> User | None:
    token = _bearer(req)
    if token is None:
        return None
    g.stateless_auth = True
    user = principals.user_for_token(current_session(), token)
    if user is None:
        raise APIError(401, [("", "访问令牌无效或已过期", "invalid_token")])
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    raise APIError(401)


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """Never set a session cookie on a request authenticated by a bearer token; mark the
    cookie ``Secure`` whenever the request came over HTTPS (directly or via ProxyFix)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))

    def should_set_cookie(self, app: Flask, session) -> bool:
        if g.get("stateless_auth"):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app: Flask, session, response) -> None:
        if g.get("stateless_auth"):
            return
        super().save_session(app, session, response)


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    sessions.init_sessions(app)
    app.session_interface = TokenAwareSessionInterface()
