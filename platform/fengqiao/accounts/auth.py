"""Flask-Login wiring: sessions for browsers, ``Authorization: Bearer`` tokens for the API."""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import AnonymousUserMixin, LoginManager

from fengqiao.accounts.service import user_for_token
from fengqiao.db import db
from fengqiao.errors import APIError
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


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    try:
        user_id, epoch = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = db.get(User, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user


@login_manager.request_loader
def _load_from_bearer(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    g.stateless_auth = True
    user = user_for_token(header[len("Bearer "):].strip())
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
    app.session_interface = TokenAwareSessionInterface()
