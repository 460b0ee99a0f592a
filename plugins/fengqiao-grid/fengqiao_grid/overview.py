"""The figures a grid list shows: rooms, people living there now, units — per grid, in three
grouped queries whatever the number of grids."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from fengqiao.sdk.models import db

from fengqiao_grid.models import GridAddress, GridEstablishment, GridResidence


@dataclass(frozen=True)
class GridFigures:
    rooms: int = 0
    residents: int = 0
    units: int = 0


def grid_figures(codes: list[str]) -> dict[str, GridFigures]:
    """``{grid code: GridFigures}`` for the given grids (the caller's, already scoped)."""
    if not codes:
        return {}
    in_grids = GridAddress.grid_code.in_(codes)
    rooms = dict(db.execute(sa.select(GridAddress.grid_code, sa.func.count()).where(in_grids, GridAddress.kind == "room")
                            .group_by(GridAddress.grid_code)).all())
    residents = dict(db.execute(
        sa.select(GridAddress.grid_code, sa.func.count()).join(GridResidence, GridResidence.address_id == GridAddress.id)
        .where(in_grids, GridResidence.moved_out_on.is_(None)).group_by(GridAddress.grid_code)).all())
    units = dict(db.execute(
        sa.select(GridAddress.grid_code, sa.func.count()).join(GridEstablishment,
                                                               GridEstablishment.address_id == GridAddress.id)
        .where(in_grids).group_by(GridAddress.grid_code)).all())
    return {c: GridFigures(rooms.get(c, 0), residents.get(c, 0), units.get(c, 0)) for c in codes}
