"""Link a case to the standard address it is about (``GridCaseAddress``).

Where the address comes from, in order: a visit that spawned the case (``spawn_case`` links
it in the same transaction), else the case's data — ``location.building`` (spawned cases
carry the address's code there; people type 楼栋/门牌), ``location.address`` (网格事件上报's
详细地址) and ``address`` (the public forms' address picker) — each taken as a standard code or
an exact full label (``lookup.resolve``: unique only, never a guess). Nothing found: no link.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.cases import case_data
from fengqiao.sdk.models import db, utcnow
from sqlalchemy.exc import IntegrityError

from fengqiao_grid.lookup import resolve
from fengqiao_grid.models import GridAddress
from fengqiao_grid.models_cases import GridCaseAddress

CANDIDATES = (("location", "building"), ("location", "address"), ("address",))
"""Where a case's data may name its address (JSON paths), most precise first."""


def _value(data: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, str) else None


def address_in_data(data) -> GridAddress | None:
    """The standard address a case's data names (see the module's note), or None."""
    if not isinstance(data, dict):
        return None
    for path in CANDIDATES:
        text = _value(data, path)
        found = resolve(text) if text and text.strip() else None
        if found is not None:
            return found
    return None


def linked_address(case_number: str) -> GridAddress | None:
    return db.scalar(sa.select(GridAddress).join(GridCaseAddress, GridCaseAddress.address_id == GridAddress.id)
                     .where(GridCaseAddress.case_number == case_number))


def link_case(case_number: str, address: GridAddress) -> bool:
    """Record that the case is about ``address`` unless it is linked already (first link wins);
    whether a row was added. Flushes in a savepoint: two writers meet the unique key, not a
    broken transaction."""
    if db.scalar(sa.select(GridCaseAddress.id).where(GridCaseAddress.case_number == case_number)) is not None:
        return False
    try:
        with db.begin_nested():
            db.add(GridCaseAddress(case_number=case_number, address_id=address.id, linked_at=utcnow()))
            db.flush()
    except IntegrityError:
        return False
    return True


def on_case_created(sender, case_number: str | None = None, **_kwargs) -> None:
    """``case_created`` receiver: link the new case when its data names a standard address
    (a spawned case is linked already). Runs after the case's commit and commits its own row."""
    if not case_number:
        return
    if db.scalar(sa.select(GridCaseAddress.id).where(GridCaseAddress.case_number == case_number)) is not None:
        return
    address = address_in_data(case_data(case_number))
    if address is not None and link_case(case_number, address):
        db.commit()
