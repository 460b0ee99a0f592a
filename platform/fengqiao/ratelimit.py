"""Per-client rate limits (login, anonymous public submissions, tracking) on ``limits``.

Counters live in Redis when ``FENGQIAO_REDIS_URL`` is set (shared by every web process),
in memory otherwise. Signed-in staff and API-token calls are never limited: integrations
push in bulk.
"""

from __future__ import annotations

import functools

from flask import Flask, current_app, request
from flask_login import current_user
from limits import parse, storage, strategies

from fengqiao.errors import APIError

DEFAULT_LIMITS = {
    "login": "10/minute;50/hour",
    # Failed sign-ins from one address (any usernames): beyond this the address waits.
    "login_failures": "20/15 minutes",
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


def rate_limited(bucket: str = "public_submit", methods: tuple[str, ...] = ("POST",)):
    """Route decorator: count anonymous requests with one of ``methods`` in ``bucket``
    (``public_submit`` for public writes, ``track`` for look-ups by number and code, ``login``
    for sign-ins); 429 with a Chinese message when over. Staff sessions and tokens pass."""
    if bucket not in DEFAULT_LIMITS:
        raise ValueError(f"unknown rate-limit bucket {bucket!r}; one of {sorted(DEFAULT_LIMITS)}")

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            if request.method in methods:
                enforce(bucket)
            return view(*args, **kwargs)
        return limited
    return decorate


def exhausted(bucket: str, key: str | None = None) -> bool:
    """Whether ``bucket`` has no hits left for this client (or ``key``), without counting one."""
    limiter = current_app.extensions["fengqiao.ratelimiter"]
    key = key or client_address()
    try:
        return any(not limiter.test(item, "fengqiao", bucket, key)
                   for item in current_app.extensions["fengqiao.rate_limits"][bucket])
    except Exception:
        current_app.logger.exception("rate limit store unavailable")
        return False


def count(bucket: str, key: str | None = None) -> None:
    """Record one event in ``bucket`` for this client (or ``key``), whoever is signed in."""
    limiter = current_app.extensions["fengqiao.ratelimiter"]
    key = key or client_address()
    try:
        for item in current_app.extensions["fengqiao.rate_limits"][bucket]:
            limiter.hit(item, "fengqiao", bucket, key)
    except Exception:
        current_app.logger.exception("rate limit store unavailable")
