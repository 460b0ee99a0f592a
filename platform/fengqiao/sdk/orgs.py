"""Org units, the people in them, and scope: who may see or change what, unit by unit.

A plugin row belongs to a unit. Store the unit's **code** (``org_code``) and scope with
``org_in_scope`` / ``org_scope_clause`` / ``get_in_scope(…, org="org_code")``: codes never
change, while a unit's materialised path does when it moves. Plugins that keep a copy of the
path (``org_path``, for range scans) follow moves with the ``org_moved`` signal and
``rewrite_paths``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from fengqiao.db import db
from fengqiao.models import OrgUnit, User
from fengqiao.orgs.info import OrgInfo, org_ancestors, org_unit
from fengqiao.orgs.info import org_units as _org_units
from fengqiao.orgs.scope import Scope, scope_for, subtree_upper_bound
from fengqiao.params import MAX_INT
from fengqiao.sdk.errors import not_found, plugin_errors

__all__ = [
    "OrgInfo", "Scope", "display_name", "display_names", "get_in_scope", "in_scope", "my_units",
    "org_ancestors", "org_in_scope", "org_scope_clause", "org_unit", "org_units", "rewrite_paths",
    "scope_for",
]


org_units = plugin_errors(_org_units)  # an unknown ``kind`` leaves as ValidationFailed (422)


def _user(user):
    return current_user if user is None else user


def in_scope(path: str | None, permission: str, user=None) -> bool:
    """Whether ``user`` (default: the signed-in one) holds ``permission`` over the unit at
    materialised ``path`` (e.g. a row's ``org_path``)."""
    return bool(path) and scope_for(_user(user), permission).contains(path)


def org_in_scope(org_code: str | None, permission: str, user=None) -> bool:
    """Whether ``user`` (default: the signed-in one) holds ``permission`` over the unit
    ``org_code`` (an unknown code: no)."""
    if not isinstance(org_code, str) or not org_code:
        return False
    return in_scope(db.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == org_code)), permission, user)


def org_scope_clause(org_code_column, permission: str, user=None) -> sa.ColumnElement[bool]:
    """SQL condition for a list: the row's unit (a column holding unit codes) lies where
    ``user`` (default: the signed-in one) holds ``permission``. One subquery over the units'
    index; nothing to keep in sync when units move."""
    scope = scope_for(_user(user), permission)
    if scope.empty:
        return sa.false()
    return org_code_column.in_(sa.select(OrgUnit.code).where(scope.clause(OrgUnit.path)))


def get_in_scope(model, ident, permission: str, *, path=None, org: str | None = None, pointer: str = ""):
    """The row ``ident`` of ``model`` when the signed-in user holds ``permission`` over its
    unit, else ``raise not_found(pointer)``: the one way to load an object for a read or a
    write, so another unit's object answers 404 exactly like a missing one.

    The row's unit is ``org``, the name of its unit-code attribute (``org="org_code"``), or
    ``path``: the name of its materialised-path attribute (default ``"org_path"``) or a
    function of the row (``lambda entry: db.get(Volunteer, entry.volunteer_id).org_path``)."""
    row = db.get(model, ident) if isinstance(ident, int) and not isinstance(ident, bool) and 0 < ident <= MAX_INT else None
    if row is None:
        raise not_found(pointer)
    if org is not None:
        allowed = org_in_scope(getattr(row, org, None), permission)
    else:
        allowed = in_scope(path(row) if callable(path) else getattr(row, path or "org_path", None), permission)
    if not allowed:
        raise not_found(pointer)
    return row


def my_units(permission: str | None = None, user=None) -> list[OrgInfo]:
    """The active units ``user`` (default: the signed-in one) is a member of — holding
    ``permission`` there when given — in path order: the choices of a "for which unit"
    picker. Units below them are in scope too (``org_units(under=code)``)."""
    user = _user(user)
    if not getattr(user, "is_authenticated", False):
        return []
    scope = scope_for(user, permission) if permission else None
    units = {m.org.code: m.org for m in user.memberships
             if m.org.active and (scope is None or scope.contains(m.org.path))}
    return [OrgInfo.of(u) for u in sorted(units.values(), key=lambda u: u.path)]


def display_name(username: str | None) -> str | None:
    """The name a person is shown by (沈丽 for ``shenli``); the username when they have none;
    ``None`` for an unknown account."""
    if not username:
        return None
    return display_names([username]).get(username)


def display_names(usernames) -> dict[str, str]:
    """``{username: display name}`` for the known accounts among ``usernames`` (one query: for
    lists that show who did what)."""
    wanted = {u for u in usernames if isinstance(u, str) and u}
    if not wanted:
        return {}
    rows = db.execute(sa.select(User.username, User.display_name).where(User.username.in_(wanted)))
    return {username: name or username for username, name in rows}


def rewrite_paths(path_column, old_path: str, new_path: str) -> int:
    """Follow a unit's move in a plugin table that keeps a copy of materialised paths: every
    value of ``path_column`` (e.g. ``Volunteer.org_path``) in the subtree ``old_path`` is
    rewritten under ``new_path``. Call it from an ``org_moved`` receiver; returns the rows
    changed (the caller commits)."""
    column = path_column.expression
    result = db.execute(
        sa.update(path_column.class_)
        .where(column >= old_path, column < subtree_upper_bound(old_path))
        .values({path_column.key: sa.literal(new_path) + sa.func.substr(column, len(old_path) + 1)})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount

