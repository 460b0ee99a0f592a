"""Where a case type applies: its optional ``org`` (a unit code) limits it to that unit's subtree.

Pure functions on paths (no database, no Flask), so form submission, the admin pages and the
case-type service share one rule. A unit's materialized path (``/339901/339901001/``) lists
the codes of its ancestors, so "unit X lies in the subtree of the type's unit" is a test on
the path alone. A type without ``org`` is county-wide: it applies to every unit, and only an
admin whose scope holds a root unit (the county) may change it.
"""

from __future__ import annotations

from typing import Any

from fengqiao.orgs.scope import Scope


def type_org(definition_or_ctype: Any) -> str | None:
    """The ``org`` code of a definition (dict) or a parsed ``CaseType``; None: county-wide."""
    if isinstance(definition_or_ctype, dict):
        org = definition_or_ctype.get("org")
    else:
        org = getattr(definition_or_ctype, "org", None)
    return org or None


def path_has(path: str, code: str) -> bool:
    """Whether the unit with materialized ``path`` is unit ``code`` or lies below it."""
    return f"/{code}/" in (path or "")


def applies_to(definition_or_ctype: Any, org_unit: Any) -> bool:
    """Whether the type may be used at ``org_unit`` (an ``OrgUnit`` or anything with ``path``):
    county-wide types everywhere, a type with ``org`` only in that unit's subtree."""
    org = type_org(definition_or_ctype)
    if org is None:
        return True
    if org_unit is None:
        return False
    return path_has(getattr(org_unit, "path", ""), org)


def holds_root(scope: Scope) -> bool:
    """Whether the scope covers a whole tree (a root unit's path has one code: ``/339901/``)."""
    return any(p.count("/") == 2 for p in scope.paths)


def may_edit(scope: Scope, org_path: str | None) -> bool:
    """An admin edits a type whose unit (``org_path``) lies in their scope; a county-wide type
    (``org_path`` None) only with a root in scope."""
    if org_path is None:
        return holds_root(scope)
    return scope.contains(org_path)


def may_view(scope: Scope, org_path: str | None) -> bool:
    """An admin sees the types they may edit plus those that apply in their scope (county-wide
    ones and those of a unit above theirs), read-only; a sibling's types stay unknown to them."""
    if org_path is None:
        return not scope.empty
    return scope.contains(org_path) or any(p.startswith(org_path) for p in scope.paths)
