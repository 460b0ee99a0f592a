"""Sign-in from a client: slow guessing down per account and address, never lock an account.

Every failed sign-in (a wrong password, an unknown username, a wrong second factor) counts in
three rate-limit buckets: ``login_account`` for that username from that address (5 in 15
minutes, then that pair waits), ``login_failures`` for the address whatever the usernames,
and ``login`` (the short per-address limit; answered with 429). Successful sign-ins count
nowhere. An unknown username behaves exactly like an existing one, so the answers never tell
which accounts exist, and a stranger's guesses cannot shut the owner out. Counters live in
the rate-limit store (Redis when configured, so every web process shares them).
"""

from __future__ import annotations

import hashlib
import logging

from fengqiao import ratelimit
from fengqiao.accounts.security import check_totp
from fengqiao.accounts.service import LoginFailed, authenticate
from fengqiao.models import User

log = logging.getLogger(__name__)
ADDRESS_LOCKED = "该网络地址登录失败次数过多，已暂停登录"
THROTTLED = "登录失败次数过多"


def _account_key(username: str, address: str) -> str:
    """The ``login_account`` key: a digest, so any typed username makes a short, safe key."""
    normalised = (username or "").strip().lower()
    return hashlib.sha256(f"{normalised}\n{address}".encode()).hexdigest()[:32]


def _refuse_when_slowed(username: str, address: str) -> None:
    """Raise before any password is checked when this address (or this username from it)
    has failed too often: 429 for the short limit, ``LoginFailed`` for the others."""
    if ratelimit.exhausted("login", address):
        raise ratelimit.too_many("login", address)
    if ratelimit.exhausted("login_failures", address):
        log.warning("sign-in refused: address %s is over its failure limit", address)
        wait = ratelimit.wait_text(ratelimit.retry_after("login_failures", address))
        raise LoginFailed(f"{ADDRESS_LOCKED}，请 {wait}后再试", "address_locked")
    key = _account_key(username, address)
    if ratelimit.exhausted("login_account", key):
        log.warning("sign-in refused: one username from %s is over its failure limit", address)
        wait = ratelimit.wait_text(ratelimit.retry_after("login_account", key))
        raise LoginFailed(f"{THROTTLED}，请 {wait}后再试", "throttled")


def _count_failure(username: str, address: str) -> None:
    ratelimit.count("login", address)
    ratelimit.count("login_failures", address)
    ratelimit.count("login_account", _account_key(username, address))


def sign_in(username: str, password: str) -> User:
    """The user for these credentials; ``LoginFailed`` with a Chinese message otherwise
    (or a 429 ``APIError`` saying when to try again)."""
    address = ratelimit.client_address()
    _refuse_when_slowed(username, address)
    try:
        user = authenticate(username, password)
    except LoginFailed as failed:
        _count_failure(username, address)
        log.warning("sign-in failed (%s) from %s", failed.code, address)
        raise
    if not user.totp_enabled:  # with a second factor, only the code completes the sign-in
        ratelimit.clear("login_account", _account_key(username, address))
    return user


def second_factor_ok(user: User, code: str) -> bool:
    """Whether ``code`` is the user's current one-time code. A wrong one counts like a wrong
    password; ``LoginFailed`` when this account is slowed down from this address. The caller
    commits (the accepted code's step is stored so it cannot be replayed)."""
    address = ratelimit.client_address()
    _refuse_when_slowed(user.username, address)
    if check_totp(user, code):
        ratelimit.clear("login_account", _account_key(user.username, address))
        return True
    _count_failure(user.username, address)
    log.warning("second factor failed for user id %s from %s", user.id, address)
    return False
