"""Sign-in from a client: the per-address failure limit around the per-account lockout.

The account lockout (5 failures → 15 minutes, in ``service.authenticate``) stops guessing one
password; this stops one address from guessing across many usernames. Counters live in the
rate-limit store (Redis when configured, so every web process shares them).
"""

from __future__ import annotations

import logging

from fengqiao import ratelimit
from fengqiao.accounts.service import LOCKOUT, MAX_FAILED_LOGINS, LoginFailed, authenticate
from fengqiao.db import db, utcnow
from fengqiao.models import User

log = logging.getLogger(__name__)
ADDRESS_LOCKED = "该网络地址登录失败次数过多，已暂停登录，请 15 分钟后再试"


def sign_in(username: str, password: str) -> User:
    """The user for these credentials; ``LoginFailed`` with a Chinese message otherwise."""
    address = ratelimit.client_address()
    if ratelimit.exhausted("login_failures", address):
        log.warning("sign-in refused: address %s is over its failure limit", address)
        raise LoginFailed(ADDRESS_LOCKED, "address_locked")
    try:
        return authenticate(username, password)
    except LoginFailed as failed:
        ratelimit.count("login_failures", address)
        log.warning("sign-in failed (%s) from %s", failed.code, address)
        raise


def record_failure(user: User) -> None:
    """A wrong second factor counts like a wrong password (account and address); raises
    ``LoginFailed`` when it locks the account."""
    ratelimit.count("login_failures")
    user.failed_logins = (user.failed_logins or 0) + 1
    locked = user.failed_logins >= MAX_FAILED_LOGINS
    if locked:
        user.locked_until = utcnow() + LOCKOUT
        user.failed_logins = 0
    db.commit()
    log.warning("second factor failed for user id %s from %s", user.id, ratelimit.client_address())
    if locked:
        minutes = int(LOCKOUT.total_seconds() // 60)
        raise LoginFailed(f"登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试", "locked")
