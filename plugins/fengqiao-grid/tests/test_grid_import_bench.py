"""A cheap smoke test of the import bench (bench/bench_grid_import.py) with 200 people: the
workbook it builds is imported whole by the plugin's route, and its baseline writes the same
rows into the same tables. The 10,000-row figures come from ``make bench``, not from here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db

from fengqiao_grid.models import GridHousehold, GridPerson, GridResidence

pytestmark = [pytest.mark.plugins("grid"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
BENCH = Path(__file__).resolve().parents[3] / "bench"


def _load(name: str, as_name: str):
    spec = importlib.util.spec_from_file_location(as_name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[as_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    if "report" not in sys.modules:  # the bench records its rows through bench/report.py
        _load("report", "report")
    if "servers" not in sys.modules:  # and opens its databases and apps through bench/servers.py
        _load("servers", "servers")
    return _load("bench_grid_import", "_bench_grid_import")


def _counts() -> tuple[int, int, int]:
    return tuple(db.scalar(sa.select(sa.func.count()).select_from(m)) for m in (GridHousehold, GridPerson, GridResidence))


def test_the_bench_runs_on_200_people(app, demo, bench):
    rows = bench.people(200)
    assert len({r["id_card"] for r in rows}) == 200
    rooms = bench.seed_rooms(app, 200)
    assert len(rooms) >= 67
    content = bench.workbook(rows, [code for _id, code in rooms])
    assert bench.baseline_seconds(app, rows, rooms) > 0
    with app.app_context():
        assert _counts() == (67, 200, 200)  # one household a room of three, a stay per person
        for model in (GridResidence, GridPerson, GridHousehold):  # make room for the import
            db.execute(sa.delete(model.__table__))
        db.commit()
    assert bench.import_seconds(app, content, 200) > 0
    assert bench.read_seconds(content) > 0
    with app.app_context():
        assert _counts() == (67, 200, 200)
        heads = db.scalar(sa.select(sa.func.count()).select_from(GridHousehold)
                          .where(GridHousehold.head_person_id.is_not(None)))
        assert heads == 67
