"""Server-side browser sessions: the signed cookie alone can no longer keep one alive.

Every ``login_user`` (Flask-Login's ``user_logged_in`` signal, so every sign-in path) writes
a ``UserSession`` row and puts its random id in the cookie; every ``logout_user`` ends that
row. The user loader accepts a cookie only while its row is live: not ended (logout, password
change, an admin's 「强制退出所有登录」) and not past ``FENGQIAO_SESSION_MAX_HOURS`` after
sign-in, however busy the session was. A copied cookie dies with the original.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, session
from flask_login import user_logged_in, user_logged_out

from fengqiao.db import db
from fengqiao.models import User, UserSession

SESSION_KEY = "_fq_sid"
EXPIRED = "expired"
ENDED = "ended"


def now() -> datetime:
    """The current time from ``time.time()`` (tests move that clock)."""
    return datetime.fromtimestamp(time.time(), UTC)


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def max_hours() -> int:
    return current_app.extensions["fengqiao.settings"].session_max_hours


def _started(_app: Flask, user: User) -> None:
    """A sign-in: record the session and name it in the cookie (the sign-in request commits
    the row before its response, and so the cookie, leaves)."""
    sid = secrets.token_urlsafe(32)
    started = now()
    # The user's finished sessions are of no further use (sign-ins are audited elsewhere):
    # dropping them here keeps the table at about one row per live browser.
    db.execute(sa.delete(UserSession).where(
        UserSession.user_id == user.id,
        sa.or_(UserSession.ended_at.is_not(None), UserSession.expires_at <= started)))
    db.add(UserSession(user_id=user.id, digest=_digest(sid), created_at=started,
                       expires_at=started + timedelta(hours=max_hours())))
    db.flush()
    session[SESSION_KEY] = sid


def _ended(_app: Flask, user: User) -> None:
    """A sign-out: end this browser's session on the server (the sign-out request commits)."""
    sid = session.pop(SESSION_KEY, None)
    if not isinstance(sid, str):
        return
    db.execute(sa.update(UserSession)
               .where(UserSession.digest == _digest(sid), UserSession.ended_at.is_(None))
               .values(ended_at=now()))


def state(user: User) -> str | None:
    """None while this request's session of ``user`` is live, else ``ended`` or ``expired``."""
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str):
        return ENDED
    row = db.scalar(sa.select(UserSession).where(UserSession.digest == _digest(sid)))
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return ENDED
    if row.expires_at <= now():
        return EXPIRED
    return None


def end_all(user: User) -> int:
    """End every live session of ``user`` (the caller commits); returns how many."""
    result = db.execute(sa.update(UserSession)
                        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                        .values(ended_at=now()))
    return result.rowcount or 0


def init_sessions(app: Flask) -> None:
    user_logged_in.connect(_started, app)
    user_logged_out.connect(_ended, app)
