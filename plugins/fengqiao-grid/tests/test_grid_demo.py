"""The demo loader: the demo county's grids get addresses, ~1,500 households, ~4,000 synthetic
people with valid-checksum fictitious ID numbers of area 339901, rentals, history, ~100 units
(some inspections overdue) — quickly, and only once."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import load_plugin_demo
from fengqiao.sdk.web import credit_code_problem, id_card_problem
from fengqiao.sdk.workdays import today_local

from fengqiao_grid import demo as loader
from fengqiao_grid.models import (
    GridAddress,
    GridEstablishment,
    GridHousehold,
    GridPerson,
    GridResidence,
)

pytestmark = pytest.mark.plugins("grid")


def _count(model, *where) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_demo_loader_fills_the_grids_once(app, demo):
    with app.app_context():
        began = time.perf_counter()
        counts = loader.load()
        db.commit()
        seconds = time.perf_counter() - began
        assert 1_300 <= counts["households"] <= 1_700 and 3_500 <= counts["people"] <= 4_600, counts
        assert 90 <= counts["units"] <= 110
        assert counts["visits"] > 300  # a month of visits by each grid's worker (the visits table exists)
        assert _count(GridHousehold) == counts["households"] and _count(GridPerson) == counts["people"]
        assert seconds < 15  # about a second on SQLite; generous for a loaded CI machine
        grids = set(db.scalars(sa.select(GridAddress.grid_code).distinct()))
        assert len(grids) == 8
        cards = list(db.scalars(sa.select(GridPerson.id_card)))
        assert len(set(cards)) == len(cards) and all(c.startswith("339901") for c in cards)
        assert all(id_card_problem(c) is None for c in cards)
        codes = list(db.scalars(sa.select(GridEstablishment.credit_code)))
        assert all(credit_code_problem(c) is None for c in codes) and len(set(codes)) == len(codes)
        assert 0 < _count(GridEstablishment, GridEstablishment.safety_due < today_local()) < len(codes) / 2
        rented = _count(GridHousehold, GridHousehold.rented.is_(True))
        assert rented > 50 and _count(GridHousehold, GridHousehold.rented.is_(True),
                                      GridHousehold.landlord_name == "") == 0
        assert _count(GridAddress, GridAddress.kind == "building", GridAddress.keeper_name != "") == 8 + 2 + 14 + 10
        moved_out = _count(GridResidence, GridResidence.moved_out_on.is_not(None))
        assert moved_out > 20
        tagged = _count(GridPerson, GridPerson.care_tags != "")
        assert 0.04 * counts["people"] < tagged < 0.4 * counts["people"]
        # every occupied household has exactly one current head, and it is the one recorded
        heads = db.execute(sa.select(GridHousehold.id, GridHousehold.head_person_id)).all()
        current_heads = dict(db.execute(sa.select(GridResidence.household_id, GridResidence.person_id).where(
            GridResidence.relation == "head", GridResidence.moved_out_on.is_(None))).all())
        assert all(current_heads.get(h) == p for h, p in heads)
        nodes = _count(GridAddress)
        assert _count(GridAddress, GridAddress.kind == "room") == counts["addresses"]
    assert "grid" in load_plugin_demo(app)  # as `fengqiao demo` runs it: registered, and a second load adds nothing
    with app.app_context():
        assert _count(GridPerson) == counts["people"] and _count(GridHousehold) == counts["households"]
        assert _count(GridAddress) == nodes


def test_fictitious_numbers_are_valid():
    from datetime import date

    card = loader.fictitious_id(date(1950, 3, 4), 17)
    assert card.startswith("33990119500304017") and id_card_problem(card) is None
    assert credit_code_problem(loader.fictitious_credit_code(42)) is None
