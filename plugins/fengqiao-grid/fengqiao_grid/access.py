"""Who may see and change what: the plugin's permissions and the scoped loaders.

Every row reaches its grid through its address, so one rule scopes everything: the caller
holds the permission over the address's grid (``org_in_scope``). A grid worker is a member of
their grid and sees only it; a community's staff see the community's grids; anyone else gets
the uniform 404 (for an object in the path or the body) or a 422 at the field (for a grid named
in the body: a choice, not an object).
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import Invalid, not_found
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import (
    OrgInfo,
    org_in_scope,
    org_scope_clause,
    org_unit,
    org_units,
    scope_for,
)
from fengqiao.sdk.web import MAX_INT, current_user

from fengqiao_grid.models import GridAddress, GridEstablishment, GridHousehold, GridPerson

VIEW, MANAGE, SPECIAL = "grid.view", "grid.manage", "grid.special"
GRID_LEVEL = "grid"
UNKNOWN_GRID = "网格不存在或不在您的管辖范围内"


def _valid_id(ident) -> bool:
    return isinstance(ident, int) and not isinstance(ident, bool) and 0 < ident <= MAX_INT


def my_grids(permission: str = VIEW) -> list[OrgInfo]:
    """The active grids where the signed-in person holds ``permission`` (path order)."""
    scope = scope_for(current_user, permission)
    if scope.empty:
        return []
    return [u for u in org_units(level=GRID_LEVEL, kind="territorial") if scope.contains(u.path)]


def grid_for(code, permission: str = MANAGE, pointer: str = "/grid") -> OrgInfo:
    """The grid ``code`` when it is a grid in the caller's scope, else 422 at ``pointer``."""
    unit = org_unit(code) if isinstance(code, str) and code else None
    if unit is None or unit.level != GRID_LEVEL or not unit.active or not org_in_scope(unit.code, permission):
        raise Invalid([(pointer, UNKNOWN_GRID, "unknown_grid")])
    return unit


def addresses_in_scope(permission: str = VIEW):
    """SQL condition: the address lies in a grid where the caller holds ``permission``."""
    return org_scope_clause(GridAddress.grid_code, permission)


def address_in_scope(ident, permission: str = VIEW, pointer: str = "") -> GridAddress:
    """The address when the caller holds ``permission`` over its grid, else the uniform 404."""
    address = db.get(GridAddress, ident) if _valid_id(ident) else None
    if address is None or not org_in_scope(address.grid_code, permission):
        raise not_found(pointer)
    return address


def person_in_scope(ident, permission: str = VIEW, pointer: str = "") -> GridPerson:
    """The person when the caller holds ``permission`` over the grid of their (last) address."""
    person = db.get(GridPerson, ident) if _valid_id(ident) else None
    if person is None:
        raise not_found(pointer)
    address_in_scope(person.address_id, permission, pointer)
    return person


def household_in_scope(ident, permission: str = VIEW, pointer: str = "") -> GridHousehold:
    household = db.get(GridHousehold, ident) if _valid_id(ident) else None
    if household is None:
        raise not_found(pointer)
    address_in_scope(household.address_id, permission, pointer)
    return household


def establishment_in_scope(ident, permission: str = VIEW, pointer: str = "") -> GridEstablishment:
    found = db.get(GridEstablishment, ident) if _valid_id(ident) else None
    if found is None:
        raise not_found(pointer)
    address_in_scope(found.address_id, permission, pointer)
    return found


def address_by_code(code: str, permission: str = VIEW, pointer: str = "/address") -> GridAddress:
    """The address with this standard code in the caller's scope (codes are unique within a
    grid and start with the grid's code, so at most one is in reach), else 404 at ``pointer``."""
    if not isinstance(code, str) or not code.strip():
        raise not_found(pointer)
    found = db.scalar(sa.select(GridAddress).where(GridAddress.code == code.strip(), addresses_in_scope(permission))
                      .order_by(GridAddress.id).limit(1))
    if found is None:
        raise not_found(pointer)
    return found
