"""Accounts and how a resident proves which one is theirs.

Residents have no staff login. Each account has an 8-digit 账户号 and a 6-digit 查询码 (PIN),
both printed on the household's points card when the account is opened (the PIN is shown
once and stored only as a hash; staff can issue a new one at the counter). Five wrong PINs
lock the account's self-service for 15 minutes.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.orgs import org_unit
from werkzeug.security import check_password_hash, generate_password_hash

from fengqiao_points.models import PointsAccount

KIND_LABELS = {"household": "户", "person": "个人"}
MAX_PIN_FAILURES = 5
LOCK_MINUTES = 15
PIN_HASH = "pbkdf2:sha256:60000"


def new_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _new_number() -> str:
    while True:
        number = str(10**7 + secrets.randbelow(9 * 10**7))
        if db.scalar(sa.select(PointsAccount.id).where(PointsAccount.number == number)) is None:
            return number


def open_account(name: str, org_code: str, kind: str, pin: str | None = None) -> tuple[PointsAccount, str]:
    """Open an account (balance 0) and return it with its PIN (shown once; random unless
    given, as for the demo's accounts). The caller commits. 422 for an unknown unit."""
    unit = org_unit(org_code)
    if unit is None or not unit.active:
        raise APIError(422, [("/org", f"单位 {org_code} 不存在或已停用", "unknown_org")])
    pin = pin or new_pin()
    account = PointsAccount(number=_new_number(), name=name, kind=kind, org_code=unit.code,
                            org_path=unit.path, balance=0, pin_hash=generate_password_hash(pin, PIN_HASH),
                            pin_failures=0, active=True, created_at=utcnow())
    db.add(account)
    db.flush()
    return account, pin


def reset_pin(account: PointsAccount) -> str:
    pin = new_pin()
    account.pin_hash = generate_password_hash(pin, PIN_HASH)
    account.pin_failures = 0
    account.pin_locked_until = None
    return pin


def sign_in(number: str, pin: str) -> PointsAccount:
    """The account for 账户号 + 查询码, or a Chinese error (same message for an unknown
    number and a wrong PIN, so numbers cannot be probed)."""
    wrong = APIError(422, [("/pin", "账户号或查询码不正确", "mismatch")])
    account = db.scalar(sa.select(PointsAccount).where(PointsAccount.number == number.strip()))
    if account is None or not account.active:
        raise wrong
    now = utcnow()
    if account.pin_locked_until and account.pin_locked_until > now:
        raise APIError(429, [("/pin", f"查询码错误次数过多，请 {LOCK_MINUTES} 分钟后再试，或到服务台重置",
                              "locked")])
    if not check_password_hash(account.pin_hash, pin.strip()):
        account.pin_failures += 1
        if account.pin_failures >= MAX_PIN_FAILURES:
            account.pin_failures = 0
            account.pin_locked_until = now + timedelta(minutes=LOCK_MINUTES)
        db.commit()
        raise wrong
    if account.pin_failures:
        account.pin_failures = 0
        db.commit()
    return account
