"""Who may manage which jurisdiction's list, and which requests/certificates a user sees."""

from __future__ import annotations

from fengqiao.sdk.errors import APIError
from fengqiao.sdk.orgs import OrgInfo, org_unit, org_units, scope_for
from fengqiao.sdk.web import current_user

from fengqiao_certificates.models import NATIONAL


def roots() -> list[OrgInfo]:
    return [u for u in org_units() if u.parent is None]


def may_manage(org_code: str) -> bool:
    """National lists: only those managing every root unit (the county centre); a unit's
    list: those holding ``certificates.manage`` over that unit."""
    scope = scope_for(current_user, "certificates.manage")
    if org_code == NATIONAL:
        found = roots()
        return bool(found) and all(scope.contains(u.path) for u in found)
    unit = org_unit(org_code)
    return unit is not None and unit.kind == "territorial" and scope.contains(unit.path)


def managed_units() -> list[OrgInfo]:
    """Territorial units down to communities the user may manage lists for (path order)."""
    scope = scope_for(current_user, "certificates.manage")
    return [u for u in org_units() if u.kind == "territorial" and u.level in ("county", "street", "community")
            and scope.contains(u.path)]


def require_manage(org_code: str) -> None:
    if not may_manage(org_code):
        raise APIError(404)  # never reveal units outside the user's scope


def view_scope():
    return scope_for(current_user, "certificates.view")
