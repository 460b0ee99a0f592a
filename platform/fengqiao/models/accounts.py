"""Staff accounts, their role in each org unit, and hashed API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from fengqiao.accounts.roles import permissions_for
from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.models.orgs import OrgUnit


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on password change or privilege change: invalidates older sessions.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optional TOTP second factor (RFC 6238): the base32 secret, set up once confirmed with a
    # code; the last accepted time step, so one code cannot be replayed.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def label(self) -> str:
        return self.display_name or self.username

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the epoch invalidates sessions on change
        return f"{self.id}:{self.session_epoch}"

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret and self.totp_enabled_at)

    @property
    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    @property
    def permissions(self) -> frozenset[str]:
        perms: set[str] = set()
        for membership in self.memberships:
            perms |= permissions_for(membership.role)
        return frozenset(perms)

    def can(self, permission: str) -> bool:
        """Whether any membership grants ``permission`` (somewhere in some subtree)."""
        return permission in self.permissions

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Membership(Base):
    """A user's role in one org unit; permissions apply to that unit's whole subtree."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(32))

    user: Mapped[User] = relationship(back_populates="memberships")
    org: Mapped[OrgUnit] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("user_id", "org_id", "role", name="user_org_role"),)


class ApiToken(Base):
    """Bearer tokens for integrations; only a SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


@sa.event.listens_for(Session, "before_flush")
def _privilege_change_ends_sessions(session: Session, _context, _instances) -> None:
    """A membership added, changed or removed bumps its user's ``session_epoch``: sessions
    signed in before a privilege change stop working (the user signs in again)."""
    users: set[User] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Membership) and obj.user is not None and obj.user not in session.new:
            users.add(obj.user)
        elif isinstance(obj, User) and obj not in session.new:
            history = sa.inspect(obj).attrs.memberships.history
            if history.added or history.deleted:
                users.add(obj)
    for user in users:
        if user.id is not None:
            user.session_epoch = (user.session_epoch or 0) + 1
