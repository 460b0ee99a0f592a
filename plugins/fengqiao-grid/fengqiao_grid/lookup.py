"""Finding a standard address by what people type or store: its code or its label.

Unscoped on purpose: the core's address picker (``fengqiao.sdk.addresses``, provided by
``GridAddresses``) answers residents with labels and grids only, and the case page uses these
to link a case to its address. Anything more than the label (households, people) still goes
through ``access`` and its scope checks.

Search is ``label LIKE '%word%'`` for each word: no B-tree index serves an infix match, so it
is one scan of the table with a top-N sort (rooms first, then by label) — the same plan on
SQLite and PostgreSQL, about 60–100 ms for 140,000 addresses on a loaded test machine
(docs/plugin-sdk.md). One query per kind that stops at ``LIMIT`` was tried and was faster when
many labels match but up to 500 ms when few or none do (four scans). Resolving uses the label
index (an exact match).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from fengqiao.sdk.addresses import AddressHit
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit

from fengqiao_grid.models import GridAddress

# Most specific first: a resident's case is about a room or a building more often than an estate.
KIND_ORDER = ("room", "building", "entrance", "estate")
MAX_WORDS = 6
MAX_TEXT = 200
# ``<grid>-<estate no.>-<building>-<unit>-<room>``: text of another shape is no code, and is
# not looked up by code (one indexed query saved for text that could be a code).
CODE = re.compile(r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+")


def _rank(address: GridAddress) -> int:
    return KIND_ORDER.index(address.kind) if address.kind in KIND_ORDER else len(KIND_ORDER)


def _most_specific(rows: list[GridAddress]) -> GridAddress | None:
    """One address out of rows sharing a code or a label: the deepest, when they all lie in
    one grid (a village house: its 号, 单元 and 户 carry the same label); None when they lie
    in several grids (ambiguous: which grid would answer?)."""
    if not rows or len({r.grid_code for r in rows}) != 1:
        return None
    return min(rows, key=lambda r: (_rank(r), r.id))


def address_by_code(code) -> GridAddress | None:
    """The address with this standard code (codes start with their grid's code and stay when an
    address moves, so at most one normally exists); None if none, or if several grids have it."""
    if not isinstance(code, str) or len(code) > 120 or not CODE.fullmatch(code.strip()):
        return None
    return _most_specific(list(db.scalars(
        sa.select(GridAddress).where(GridAddress.code == code.strip()).limit(5))))


def resolve_label(text) -> GridAddress | None:
    """The address whose full label is ``text`` (spaces around and inside ignored: labels
    have none, people type some); None if none matches or matches lie in several grids."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return None
    wanted = {text.strip(), "".join(text.split())}
    return _most_specific(list(db.scalars(
        sa.select(GridAddress).where(GridAddress.label.in_(wanted)).limit(20))))


def resolve(text) -> GridAddress | None:
    """``text`` as a code, else as a full label."""
    return address_by_code(text) or resolve_label(text)


def search_labels(text, limit: int = 10) -> list[GridAddress]:
    """Addresses whose label holds every word of ``text`` (小区, 楼栋, 门牌 in any order):
    an exact label first, then rooms, buildings, entrances, estates, each by label; one
    entry per label (a village house's most specific node)."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return []
    words = [w[:50] for w in text.split()][:MAX_WORDS]
    if not words or limit < 1:
        return []
    matches = [GridAddress.label.contains(w, autoescape=True) for w in words]
    found: dict[str, GridAddress] = {}
    exact = resolve_label(text)
    if exact is not None:
        found[exact.label] = exact
    rank = sa.case({kind: i for i, kind in enumerate(KIND_ORDER)}, value=GridAddress.kind, else_=len(KIND_ORDER))
    # One pass over the table, top-N sorted: a village house's three nodes share a label, so
    # a few more rows than asked leave room for dropping the repeats.
    for row in db.scalars(sa.select(GridAddress).where(*matches)
                          .order_by(rank, GridAddress.label, GridAddress.id).limit(limit * 3)):
        found.setdefault(row.label, row)
    return list(found.values())[:limit]


def _hits(addresses: list[GridAddress | None]) -> list[AddressHit]:
    """The addresses in active grids, each with its grid's code and name (one query per grid,
    read per call: a grid renamed or closed shows at once)."""
    grids: dict[str, tuple[str, str] | None] = {}
    hits = []
    for address in addresses:
        if address is None:
            continue
        if address.grid_code not in grids:
            unit = org_unit(address.grid_code)
            grids[address.grid_code] = (unit.code, unit.name) if unit is not None and unit.active else None
        grid = grids[address.grid_code]
        if grid is not None:
            hits.append(AddressHit(address.code, address.label, *grid))
    return hits


class GridAddresses:
    """The grid plugin's standard addresses as the core's address book (``AddressProvider``):
    hits in active grids only, each with the grid that answers for it. Stateless (shared by
    every request and thread)."""

    def search(self, text: str, limit: int) -> list[AddressHit]:
        return _hits(search_labels(text, limit))

    def resolve(self, text: str) -> AddressHit | None:
        hits = _hits([resolve(text)])
        return hits[0] if hits else None
