"""Who a request is: the user behind a bearer token or a session, from the ``accounts`` cache.

Loading a user with their memberships and units costs two queries on every request. The
``accounts`` cache (:mod:`fengqiao.caches`) keeps, per token digest, the token's grant (its
id, user and expiry) and, per user id, a detached copy of the user with memberships and units,
which each request merges into its own session without a query. Revoking a token, changing a
user, a membership or a unit replaces the ``accounts`` stamp, so the next request anywhere
loads them again; a token's expiry is checked on every use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm.util import identity_key

from fengqiao import caches
from fengqiao.accounts.service import token_digest
from fengqiao.db import utcnow
from fengqiao.models import ApiToken, User

LAST_USED_EVERY = timedelta(minutes=5)  # how stale a token's 「最近使用」 may be


@dataclass(frozen=True)
class Grant:
    """What a valid API token allows: acting as ``user_id`` until ``expires_at``."""

    token_id: int
    user_id: int
    expires_at: datetime
    last_used_at: datetime | None


def user_for_token(session: orm.Session, token: str) -> User | None:
    """The active user ``token`` signs in, or None (unknown, revoked, expired, user disabled).
    Records the token's use at most every :data:`LAST_USED_EVERY`, in the request's
    transaction."""
    digest = token_digest(token)
    grant = caches.cached(session, caches.ACCOUNTS, ("token", digest), lambda: _load_grant(session, digest))
    now = utcnow()
    if grant is None or grant.expires_at <= now:
        return None
    user = user_by_id(session, grant.user_id)
    if user is None or not user.active:
        return None
    if grant.last_used_at is None or now - grant.last_used_at > LAST_USED_EVERY:
        session.execute(sa.update(ApiToken).where(ApiToken.id == grant.token_id).values(last_used_at=now))
        caches.store(session, caches.ACCOUNTS, ("token", digest), replace(grant, last_used_at=now))
    return user


def user_by_id(session: orm.Session, user_id: int) -> User | None:
    """The user ``user_id`` in ``session``, with memberships and units: from the cache, merged
    into the session without a query (the cached copy itself is never attached)."""
    if (present := session.identity_map.get(identity_key(User, user_id))) is not None:
        return present  # type: ignore[return-value]
    cached = caches.cached(session, caches.ACCOUNTS, ("user", user_id), lambda: _detached_user(session, user_id))
    return None if cached is None else session.merge(cached, load=False)


def _load_grant(session: orm.Session, digest: str) -> Grant | None:
    row = session.execute(
        sa.select(ApiToken.id, ApiToken.user_id, ApiToken.expires_at, ApiToken.last_used_at, ApiToken.revoked_at)
        .where(ApiToken.digest == digest)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return Grant(row.id, row.user_id, row.expires_at, row.last_used_at)


def _detached_user(session: orm.Session, user_id: int) -> User | None:
    """The user with memberships and their units, loaded on the request's own connection and
    transaction by a private session, then detached from it (the cache's copy)."""
    with orm.Session(bind=session.connection()) as private:
        return private.get(User, user_id)
