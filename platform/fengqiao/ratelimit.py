"""Per-client rate limits (login, anonymous public submissions, tracking) on ``limits``.

Counters live in Redis when ``FENGQIAO_REDIS_URL`` is set (shared by every web process),
in memory otherwise. Signed-in staff and API-token calls are never limited: integrations
push in bulk.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user
from limits import parse, storage, strategies

from fengqiao.errors import APIError

DEFAULT_LIMITS = {
    "login": "10/minute;50/hour",
    "public_submit": "10/minute;100/hour",
    "track": "30/minute",
}


def init_rate_limits(app: Flask) -> None:
    settings = app.extensions["fengqiao.settings"]
    uri = settings.redis_url or "memory://"
    backend = storage.storage_from_string(uri)
    app.extensions["fengqiao.ratelimiter"] = strategies.FixedWindowRateLimiter(backend)
    limits = dict(DEFAULT_LIMITS)
    limits.update(settings.extra.get("rate_limits", {}))
    app.extensions["fengqiao.rate_limits"] = {k: [parse(p) for p in v.split(";")] for k, v in limits.items()}


def client_address() -> str:
    return request.remote_addr or "unknown"


def enforce(bucket: str) -> None:
    """Count one hit for this client in ``bucket``; 429 when over any of its limits."""
    if current_user.is_authenticated:
        return
    limiter = current_app.extensions["fengqiao.ratelimiter"]
    for item in current_app.extensions["fengqiao.rate_limits"][bucket]:
        try:
            allowed = limiter.hit(item, "fengqiao", bucket, client_address())
        except Exception:  # a broken counter store must not take the service down
            current_app.logger.exception("rate limit store unavailable")
            return
        if not allowed:
            raise APIError(429, [("", "操作过于频繁，请稍后再试", "rate_limited")])
