"""Per-client rate limits (login, anonymous public submissions, tracking) on ``limits``.

Counters live in Redis when ``FENGQIAO_REDIS_URL`` is set (shared by every web process),
in memory otherwise. Signed-in staff and API-token calls are never limited: integrations
push in bulk.
"""

from __future__ import annotations

import functools
import math
import time

from flask import Flask, Response, current_app, g, request
from flask_login import current_user
from limits import parse, storage, strategies

from fengqiao.errors import APIError

DEFAULT_LIMITS = {
    # Sign-in attempts per address that failed (successful ones are not counted: a township
    # office behind one address signs in all day); also ``rate_limited("login")`` routes.
    "login": "10/minute;50/hour",
    # Failed sign-ins from one address (any usernames): beyond this the address waits.
    "login_failures": "20/15 minutes",
    # Failed sign-ins for one username from one address, existing or not: that pair waits
    # (the account stays open to its owner elsewhere).
    "login_account": "5/15 minutes",
    "public_submit": "10/minute;100/hour",
    # Files stored by anonymous form fills, each one a hit (a bomb costs CPU, not requests).
    "public_upload": "30/minute;200/hour",
    "track": "30/minute",
    # Public look-ups that are not by number and code (the community chooser's search).
    "public_read": "60/minute;600/hour",
}


def init_rate_limits(app: Flask) -> None:
    settings = app.extensions["fengqiao.settings"]
    uri = settings.redis_url or "memory://"
    backend = storage.storage_from_string(uri)
    app.extensions["fengqiao.ratelimiter"] = strategies.FixedWindowRateLimiter(backend)
    limits = dict(DEFAULT_LIMITS)
    limits.update(settings.extra.get("rate_limits", {}))
    app.extensions["fengqiao.rate_limits"] = {k: [parse(p) for p in v.split(";")] for k, v in limits.items()}
    app.after_request(_retry_after_header)


def _retry_after_header(response: Response) -> Response:
    seconds = g.get("fq_retry_after")
    if seconds and response.status_code == 429:
        response.headers["Retry-After"] = str(seconds)
    return response


def wait_text(seconds: int) -> str:
    """「N 秒」 or 「N 分钟」 (rounded up) for messages that say when to try again."""
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


def retry_after(bucket: str, key: str | None = None) -> int:
    """Seconds until ``bucket`` has a hit left for this client (or ``key``); at least 1."""
    limiter = current_app.extensions["fengqiao.ratelimiter"]
    key = key or client_address()
    now = time.time()
    wait = 1.0
    try:
        for item in current_app.extensions["fengqiao.rate_limits"][bucket]:
            stats = limiter.get_window_stats(item, "fengqiao", bucket, key)
            if stats.remaining <= 0:
                wait = max(wait, stats.reset_time - now)
    except Exception:
        current_app.logger.exception("rate limit store unavailable")
    return max(1, math.ceil(wait))


def too_many(bucket: str, key: str | None = None) -> APIError:
    """The 429 for ``bucket``: a Chinese message saying when, and ``Retry-After``."""
    seconds = retry_after(bucket, key)
    g.fq_retry_after = seconds
    return APIError(429, [("", f"操作过于频繁，请 {wait_text(seconds)}后再试", "rate_limited")])


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
            raise too_many(bucket)


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


def clear(bucket: str, key: str | None = None) -> None:
    """Forget this client's (or ``key``'s) hits in ``bucket``."""
    _each_limit(bucket, key, "clear")


def count(bucket: str, key: str | None = None) -> None:
    """Record one event in ``bucket`` for this client (or ``key``), whoever is signed in."""
    _each_limit(bucket, key, "hit")


def _each_limit(bucket: str, key: str | None, method: str) -> None:
    """Apply the limiter's ``method`` (hit, clear) to every limit of ``bucket``; a store that is
    down is logged, never an error for the request."""
    limiter = current_app.extensions["fengqiao.ratelimiter"]
    key = key or client_address()
    try:
        for item in current_app.extensions["fengqiao.rate_limits"][bucket]:
            getattr(limiter, method)(item, "fengqiao", bucket, key)
    except Exception:
        current_app.logger.exception("rate limit store unavailable")
