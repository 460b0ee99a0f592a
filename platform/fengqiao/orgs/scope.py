"""The one scoping function: which org subtrees a user may see for a permission.

Every list, detail and export of org-owned data filters through :func:`scope_for`, so
list and detail views cannot drift apart in what they reveal.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from fengqiao.accounts.roles import permissions_for


def subtree_upper_bound(path: str) -> str:
    """Paths under ``/a/b/`` sort in ``['/a/b/', '/a/b0')``: '0' follows '/' byte-wise.

    Codes use only ``[0-9A-Za-z-]`` and '-' sorts before '/', so no sibling's path can fall
    into that range.
    """
    return path[:-1] + "0"


@dataclass(frozen=True)
class Scope:
    """A set of subtree roots given as materialized paths (``/339901/339901001/``)."""

    paths: tuple[str, ...]

    def clause(self, path_column: ColumnElement[str]) -> ColumnElement[bool]:
        """SQL condition: ``path_column`` lies in one of the subtrees (index range scans)."""
        if not self.paths:
            return sa.false()
        return sa.or_(
            *(sa.and_(path_column >= p, path_column < subtree_upper_bound(p)) for p in self.paths)
        )

    def contains(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.paths)

    @property
    def empty(self) -> bool:
        return not self.paths


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor in the set."""
    kept: list[str] = []
    for p in sorted(paths, key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


def scope_for(user, permission: str = "orgs.view") -> Scope:
    """The subtrees where ``user`` holds ``permission`` through a membership."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope(())
    return Scope(
        _minimal(
            {
                m.org.path
                for m in user.memberships
                if m.org.active and permission in permissions_for(m.role)
            }
        )
    )
