"""Who may see which accounts: users listed through the one scoping function."""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.db import db
from fengqiao.models import Membership, OrgUnit, User
from fengqiao.orgs.scope import Scope


def users_in(scope: Scope) -> sa.Select:
    """Users with at least one membership inside ``scope``."""
    inside = (
        sa.select(Membership.user_id)
        .join(OrgUnit, Membership.org_id == OrgUnit.id)
        .where(scope.clause(OrgUnit.path))
    )
    return sa.select(User).where(User.id.in_(inside))


def visible_user(username: str, scope: Scope) -> User | None:
    return db.scalar(users_in(scope).where(User.username == username))


def user_json(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "active": user.active,
        "memberships": [
            {"org": m.org.code, "org_name": m.org.name, "role": m.role,
             "role_label": ROLE_LABELS.get(m.role, m.role)}
            for m in user.memberships
        ],
    }


def unit_staff(unit_ids: list[int]) -> list[str]:
    """Usernames of the active accounts that act for the given units (who is notified)."""
    if not unit_ids:
        return []
    return list(db.scalars(sa.select(User.username).join(Membership, Membership.user_id == User.id)
                           .where(Membership.org_id.in_(unit_ids), User.active)))


HEAD_ROLES = ("leader", "staff")  # who answers for a unit, in order of preference


def unit_heads(unit_ids: list[int]) -> list[str]:
    """Usernames of each unit's heads (SLA warnings go to them, not to everyone): its active
    ``leader`` accounts, else its ``staff``, else whoever acts for it — a department or a
    grid may have only liaison officers or grid workers."""
    if not unit_ids:
        return []
    rows = db.execute(sa.select(Membership.org_id, Membership.role, User.username)
                      .join(User, Membership.user_id == User.id)
                      .where(Membership.org_id.in_(unit_ids), User.active)).all()
    heads: list[str] = []
    for unit_id in dict.fromkeys(unit_ids):
        members = [(role, name) for org_id, role, name in rows if org_id == unit_id]
        for role in HEAD_ROLES:
            chosen = [name for r, name in members if r == role]
            if chosen:
                break
        else:
            chosen = [name for _r, name in members]
        heads += [name for name in chosen if name not in heads]
    return heads
