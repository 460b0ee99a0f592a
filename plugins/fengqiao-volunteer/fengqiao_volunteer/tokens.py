"""Signed links for people without an account: a volunteer's own record page, and the
sign-in/sign-out QR codes an organiser shows at the venue (valid for two days)."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

CHECKIN_MAX_AGE = 2 * 24 * 3600


def volunteer_token(volunteer_id: int) -> str:
    return URLSafeSerializer(current_app.secret_key, salt="volunteer.me").dumps(volunteer_id)


def volunteer_from_token(token: str) -> int | None:
    try:
        value = URLSafeSerializer(current_app.secret_key, salt="volunteer.me").loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def checkin_token(activity_id: int, kind: str) -> str:
    return URLSafeTimedSerializer(current_app.secret_key, salt="volunteer.checkin").dumps([activity_id, kind])


def checkin_from_token(token: str) -> tuple[int, str] | None:
    """``(activity_id, "in"|"out")``, or None for a forged or expired code."""
    try:
        value = URLSafeTimedSerializer(current_app.secret_key, salt="volunteer.checkin").loads(
            token, max_age=CHECKIN_MAX_AGE)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and value[1] in ("in", "out")):
        return None
    return value[0], value[1]
