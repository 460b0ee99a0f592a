"""A staff account's own security: password change, the optional TOTP second factor, and the
administrator's levers (end every session, revoke API tokens, lift a lockout).

Every change that should throw out sessions bumps ``User.session_epoch`` (the session cookie
carries the epoch it was signed in under; the user loader refuses an older one) and ends the
user's server-side session rows. A password change also revokes the user's API tokens.
Changes are audited by ``accounts.audit_trail``; the administrator's levers that change no
audited column (sign out everywhere, unlock) write their row here.
"""

from __future__ import annotations

import logging
import time

import pyotp
import sqlalchemy as sa

from fengqiao.accounts import audit_trail, sessions
from fengqiao.accounts.passwords import hash_password, policy_problem, verify_password
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.models import ApiToken, User

log = logging.getLogger(__name__)
ISSUER = "枫桥"
TOTP_WINDOW = 1  # accept the previous and next 30-second step too (phone clocks drift)


def end_sessions(user: User) -> None:
    """Sign the user out everywhere (browser sessions; API tokens are separate)."""
    user.session_epoch = (user.session_epoch or 0) + 1
    sessions.end_all(user)


def sign_out_everywhere(user: User) -> None:
    """The administrator's 「强制退出所有登录」: end every session, audited."""
    end_sessions(user)
    audit_trail.entry(db, "account.sessions_end", user)


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """Check and set a new password; raises :class:`Invalid` naming each field. Ends the
    user's sessions (the caller signs this one in again under the new epoch) and revokes
    the user's API tokens: whoever knew the old password may have taken one."""
    problems = []
    if not verify_password(user.password_hash, current or ""):
        problems.append(("/current_password", "当前密码不正确", "invalid_credentials"))
    reason = policy_problem(new or "", user.username)
    if reason:
        problems.append(("/new_password", reason, "password_policy"))
    elif verify_password(user.password_hash, new):
        problems.append(("/new_password", "新密码不能与当前密码相同", "password_policy"))
    if (new or "") != (confirm or ""):
        problems.append(("/confirm_password", "两次输入的新密码不一致", "mismatch"))
    if problems:
        raise Invalid(problems)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_sessions(user)
    revoked = revoke_tokens(user)
    log.info("password changed for user id %s (%d API tokens revoked)", user.id, revoked)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """What the authenticator app scans (otpauth://…)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
        at = now + offset * totp.interval
        if pyotp.utils.strings_equal(totp.at(at), code):
            return int(at // totp.interval)
    return None


def enable_totp(user: User, secret: str, code: str) -> None:
    """Turn the second factor on once the user proves their app shows the right code."""
    step = _matching_step(secret, code)
    if step is None:
        raise Invalid([("/code", "验证码不正确，请核对手机时间后重新输入 6 位数字", "otp_invalid")])
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    end_sessions(user)


def disable_totp(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password or ""):
        raise Invalid([("/password", "当前密码不正确", "invalid_credentials")])
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    end_sessions(user)


def check_totp(user: User, code: str, now: float | None = None) -> bool:
    """Whether ``code`` is the user's current one-time code and was not used before."""
    if not user.totp_enabled:
        return True
    step = _matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_tokens(user: User, token_id: int | None = None) -> int:
    """Revoke one of the user's API tokens (or all of them); returns how many were live.
    Row by row through the ORM, so each revocation is audited."""
    stmt = sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        stmt = stmt.where(ApiToken.id == token_id)
    rows = list(db.scalars(stmt))
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    return len(rows)


def unlock(user: User) -> None:
    """Clear the account's failure count (kept for older versions' lockouts), audited."""
    user.locked_until = None
    user.failed_logins = 0
    audit_trail.entry(db, "account.unlock", user)
