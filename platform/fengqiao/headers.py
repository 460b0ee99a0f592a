"""Security headers on every response, and the session's idle timeout.

One ``after_request`` hook, so no view (core or plugin) can forget them. The CSP allows no
inline script: core templates load their JavaScript from ``/static`` and plugins must do
the same (inline ``style`` attributes stay allowed; a style cannot run code).
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"
DEFAULT_IDLE_MINUTES = 30
LAST_SEEN = "_fq_seen"


def add_security_headers(response: Response) -> Response:
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:  # behind TLS (directly, or through ProxyFix's X-Forwarded-Proto)
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    user = g.get("_login_user")  # never load the user here: a bad token would raise again
    if user is not None and getattr(user, "is_authenticated", False):
        # Pages of a signed-in user never land in a shared cache or the back-button cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_security_headers(app: Flask, idle_minutes: int = DEFAULT_IDLE_MINUTES) -> None:
    """Register the headers hook and the idle timeout (``idle_minutes`` without a request)."""
    idle_seconds = idle_minutes * 60
    app.after_request(add_security_headers)

    @app.before_request
    def _idle_timeout():
        if request.endpoint in ("static", "theme_static"):
            return None
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return None  # stateless API calls have no session to time out
        if not current_user.is_authenticated:
            return None
        now = int(time.time())
        seen = session.get(LAST_SEEN)
        if isinstance(seen, int) and now - seen > idle_seconds:
            logout_user()
            session.clear()
            from fengqiao.errors import APIError, wants_json

            if wants_json():
                raise APIError(401, [("", "长时间未操作，会话已过期，请重新登录", "session_expired")])
            session["_flashes"] = [("info", f"超过 {idle_minutes} 分钟未操作，已自动退出，请重新登录")]
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        if not isinstance(seen, int) or now - seen >= 60:  # rewrite the cookie at most once a minute
            session[LAST_SEEN] = now
        return None
