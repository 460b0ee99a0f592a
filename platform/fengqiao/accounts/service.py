"""Account operations shared by the CLI, the web pages and the API (no logic in views).
Like every service they flush and never commit: the request or command does."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from fengqiao import signals
from fengqiao.accounts.passwords import hash_password, needs_rehash, policy_problem, verify_password
from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.models import ApiToken, Membership, OrgUnit, User

TOKEN_LIFETIME = timedelta(days=30)
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")


class LoginFailed(Exception):
    """Wrong credentials, or a sign-in slowed down; ``message`` is shown to the user as is."""

    def __init__(self, message: str, code: str = "invalid_credentials"):
        self.message = message
        self.code = code
        super().__init__(message)


def create_user(
    username: str, password: str, role: str, org_code: str, display_name: str = ""
) -> User:
    """Create a staff account with one membership; raises :class:`Invalid` naming each field."""
    problems: list[tuple[str, str, str]] = []
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        problems.append(("/username", "用户名须为 3–64 位字母、数字或 _ . -", "pattern"))
    elif db.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower())):
        problems.append(("/username", f"用户名 {username} 已存在", "unique"))
    reason = policy_problem(password or "", username)
    if reason:
        problems.append(("/password", reason, "password_policy"))
    if role not in ROLE_LABELS:
        problems.append(("/role", f"角色 {role!r} 不存在，可选：{', '.join(ROLE_LABELS)}", "enum"))
    org = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == org_code))
    if org is None:
        problems.append(("/org", f"组织机构代码 {org_code!r} 不存在", "unknown_org"))
    elif not org.active:
        problems.append(("/org", f"组织机构 {org.name} 已停用", "inactive_org"))
    if len(display_name or "") > 64:
        problems.append(("/display_name", "姓名不能超过 64 个字符", "maxLength"))
    if problems:
        raise Invalid(problems)
    user = User(username=username, display_name=(display_name or "").strip(),
                password_hash=hash_password(password))
    user.memberships.append(Membership(org=org, role=role))
    db.add(user)
    db.flush()
    return user


def authenticate(username: str, password: str, now: datetime | None = None) -> User:
    """Check credentials; an unknown username and a wrong password look the same (same
    hashing work, same message, nothing written). Repeated failures are slowed down by
    ``login_guard`` per account and address, never by locking the account here (anyone
    could lock anyone out). A successful sign-in is recorded in the caller's transaction."""
    now = now or utcnow()
    user = db.scalar(sa.select(User).where(sa.func.lower(User.username) == (username or "").strip().lower()))
    ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not ok:
        raise LoginFailed("用户名或密码错误")
    if not user.active:
        raise LoginFailed("账户已停用")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.flush()
    return user


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    token = "fq_" + secrets.token_urlsafe(32)
    db.add(ApiToken(user=user, digest=token_digest(token), expires_at=utcnow() + TOKEN_LIFETIME))
    db.flush()
    return token


# The user behind a token, cached per process: fengqiao/accounts/principals.py.


def announce_user_created(user: User) -> None:
    """Send ``user_created`` (delivered once the creating transaction commits)."""
    first = user.memberships[0] if user.memberships else None
    signals.send(signals.user_created, username=user.username, role=first.role if first else None,
                 org=first.org.code if first else None)
