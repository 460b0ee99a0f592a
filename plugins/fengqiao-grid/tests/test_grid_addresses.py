"""Standard addresses: bulk creation (counts, labels, codes, limits, idempotence), search,
keepers, moving to another grid with its history — and who sees which grid."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from grid_helpers import GRID_A1, GRID_A2, GRID_B1

from fengqiao_grid.models import GridAddress, GridAddressMove

pytestmark = pytest.mark.plugins("grid")
BULK = "/api/v1/p/grid/addresses/bulk"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _count(app) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count()).select_from(GridAddress))


def test_bulk_creates_the_rooms_once(app, client, bearer):
    body = {"grid": GRID_A1, "estate": "幸福小区", "buildings": [3], "units": 2, "floors": 6, "per_floor": 2}
    first = client.post(BULK, json=body, headers=bearer("zhangmin"))
    assert first.status_code == 201, first.get_json()
    # 1 estate + 1 building + 2 entrances + 2 × 6 × 2 rooms
    assert first.get_json() | {"estate": 0} == {"estate": 0, "created": 28, "existing": 0, "rooms": 24}
    again = client.post(BULK, json=body, headers=bearer("zhangmin"))
    assert again.status_code == 201 and again.get_json()["created"] == 0 and again.get_json()["existing"] == 24
    assert _count(app) == 28
    wider = client.post(BULK, json={**body, "buildings": [3, "4A"], "floors": 1}, headers=bearer("zhangmin"))
    assert wider.get_json()["created"] == 1 + 2 + 4  # only building 4A is new: itself, 2 entrances, 4 rooms
    with app.app_context():
        room = db.scalar(sa.select(GridAddress).where(GridAddress.label == "幸福小区3幢1单元602室"))
        assert room.code == f"{GRID_A1}-01-3-1-602" and room.kind == "room" and room.grid_code == GRID_A1
        rooms = db.scalars(sa.select(GridAddress.name).where(GridAddress.parent_id == room.parent_id)).all()
        assert sorted(rooms) == sorted(f"{f}0{n}" for f in range(1, 7) for n in (1, 2))
        assert len(set(db.scalars(sa.select(GridAddress.code)))) == _count(app)


@SQLITE
def test_limits_are_checked_before_any_write(app, client, bearer):
    too_many = client.post(BULK, headers=bearer("zhangmin"), json={
        "grid": GRID_A1, "estate": "大型小区", "buildings": list(range(1, 22)), "units": 4, "floors": 30,
        "per_floor": 2})
    assert too_many.status_code == 422
    assert "一次最多创建 5000 户" in too_many.get_json()["errors"][0]["message"]
    bad = client.post(BULK, headers=bearer("zhangmin"), json={
        "grid": GRID_A1, "estate": "", "buildings": [], "units": 0, "floors": 61, "per_floor": "2"})
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.get_json()["errors"]} >= {"/estate", "/buildings", "/units", "/floors",
                                                                "/per_floor"}
    assert _count(app) == 0


def test_a_grid_outside_the_callers_scope_is_refused_at_the_field(app, client, bearer):
    body = {"grid": GRID_A2, "estate": "湖滨小区", "buildings": [1], "units": 1, "floors": 1, "per_floor": 1}
    refused = client.post(BULK, json=body, headers=bearer("zhangmin"))  # 张敏 works in grid 1 only
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == [{"pointer": "/grid", "message": "网格不存在或不在您的管辖范围内",
                                             "code": "unknown_grid"}]
    community = client.post(BULK, json={**body, "grid": "339901001001"}, headers=bearer("shenli"))
    assert community.status_code == 422  # a community is not a grid
    assert client.post(BULK, json=body, headers=bearer("shenli")).status_code == 201  # 沈丽: all 揽月 grids
    assert _count(app) == 4


def test_search_is_scoped_by_grid(client, bearer, estate):
    mine = client.get("/api/v1/p/grid/addresses?q=3幢1单元60", headers=bearer("zhangmin")).get_json()
    assert {i["label"] for i in mine["items"]} == {"幸福小区3幢1单元601室", "幸福小区3幢1单元602室"}
    assert set(mine["items"][0]) == {"id", "code", "label", "grid", "kind"}
    assert client.get("/api/v1/p/grid/addresses?q=幸福", headers=bearer("liuyang")).get_json()["items"] == []
    assert len(client.get("/api/v1/p/grid/addresses?q=幸福", headers=bearer("shenli")).get_json()["items"]) == 28
    assert client.get("/api/v1/p/grid/addresses?q=幸福", headers=bearer("hanzhiming")).get_json()["items"] == []
    assert client.get(f"/api/v1/p/grid/addresses?grid={GRID_A1}", headers=bearer("chenjing")).status_code == 404
    room = estate["幸福小区3幢1单元602室"]
    assert client.get(f"/api/v1/p/grid/addresses/{room}", headers=bearer("zhangmin")).status_code == 200
    for outsider in ("liuyang", "hanzhiming", "chenjing"):
        assert client.get(f"/api/v1/p/grid/addresses/{room}", headers=bearer(outsider)).status_code == 404


@SQLITE
def test_paged_search(client, bearer, estate):
    first = client.get("/api/v1/p/grid/addresses?grid=" + GRID_A1, headers=bearer("zhangmin")).get_json()
    assert len(first["items"]) == 28 and first["next_cursor"] is None
    page = client.get("/api/v1/p/grid/addresses?q=%25", headers=bearer("zhangmin")).get_json()
    assert page["items"] == []  # % is a character, not a wildcard


def test_keeper_is_masked(app, client, bearer, estate):
    with app.app_context():
        building = db.scalar(sa.select(GridAddress.id).where(GridAddress.label == "幸福小区3幢"))
        room = estate["幸福小区3幢1单元101室"]
    made = client.post(f"/api/v1/p/grid/addresses/{building}/keeper", headers=bearer("zhangmin"),
                       json={"name": "周国强", "mobile": "13812345678"})
    assert made.status_code == 200
    assert made.get_json()["keeper"] == {"user": None, "name": "周**", "mobile": "138****5678"}
    assert client.post(f"/api/v1/p/grid/addresses/{building}/keeper", headers=bearer("zhangmin"),
                       json={"mobile": "12345"}).status_code == 422
    unknown = client.post(f"/api/v1/p/grid/addresses/{building}/keeper", headers=bearer("zhangmin"),
                          json={"user": "nobody"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["pointer"] == "/user"
    account = client.post(f"/api/v1/p/grid/addresses/{building}/keeper", headers=bearer("zhangmin"),
                          json={"user": "zhangmin"})
    assert account.get_json()["keeper"] == {"user": "zhangmin", "name": "", "mobile": ""}
    assert client.post(f"/api/v1/p/grid/addresses/{room}/keeper", headers=bearer("zhangmin"),
                       json={"name": "x"}).status_code == 422  # a room has no keeper
    assert client.post(f"/api/v1/p/grid/addresses/{building}/keeper", headers=bearer("chenjing"),
                       json={"name": "x"}).status_code == 404


def test_moving_a_building_to_another_grid_keeps_a_history_row(app, client, bearer, estate, add_person):
    with app.app_context():
        building = db.scalar(sa.select(GridAddress.id).where(GridAddress.label == "幸福小区3幢"))
    person = add_person(estate["幸福小区3幢2单元302室"])
    assert client.post(f"/api/v1/p/grid/addresses/{building}/move", json={"grid": GRID_A2},
                       headers=bearer("zhangmin")).status_code == 422  # grid 2 is not 张敏's
    assert client.post(f"/api/v1/p/grid/addresses/{building}/move", json={"grid": GRID_B1},
                       headers=bearer("shenli")).status_code == 422  # 桥东's grid is not 沈丽's
    moved = client.post(f"/api/v1/p/grid/addresses/{building}/move", json={"grid": GRID_A2},
                        headers=bearer("shenli"))
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["grid"] == GRID_A2 and moved.get_json()["moves"][0]["from"] == GRID_A1
    with app.app_context():
        row = db.scalar(sa.select(GridAddressMove))
        assert (row.from_grid, row.to_grid, row.nodes, row.actor) == (GRID_A1, GRID_A2, 1 + 2 + 24, "shenli")
        assert db.scalar(sa.select(GridAddress.grid_code).where(GridAddress.label == "幸福小区")) == GRID_A1
        assert db.scalar(sa.select(GridAddress.code).where(GridAddress.label == "幸福小区3幢1单元602室")) == \
            f"{GRID_A1}-01-3-1-602"  # codes are stable
    # The people at the address follow it: 张敏 (grid 1) no longer sees them, 刘洋 (grid 2) does.
    assert client.get(f"/api/v1/p/grid/people/{person}", headers=bearer("zhangmin")).status_code == 404
    assert client.get(f"/api/v1/p/grid/people/{person}", headers=bearer("liuyang")).status_code == 200
    # Bulk creation in the old grid does not create the moved building again.
    again = client.post(BULK, headers=bearer("shenli"), json={
        "grid": GRID_A1, "estate": "幸福小区", "buildings": [3], "units": 2, "floors": 6, "per_floor": 2})
    assert again.get_json()["created"] == 0
