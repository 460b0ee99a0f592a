"""The grid worker's day through the API: a visit with photos spawns a 网格事件上报 case that
carries the address and lands in the community's queue; patrols and diary entries are scoped
and masked; the monthly 矛盾纠纷排查 return is one per grid and month, with 零报告 only when
confirmed; a grid worker sees only their grid, community staff their community's grids."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.cases import case_data, case_info
from fengqiao.sdk.models import db
from fengqiao.sdk.workdays import today_local
from grid_helpers import GRID_A1, GRID_A2

from fengqiao_grid.models_visits import GridDisputeReturn, GridVisit, GridVisitPhoto

pytestmark = pytest.mark.plugins("grid")
VISITS = "/api/v1/p/grid/visits"
ROOM = "幸福小区3幢1单元602室"


def png(colour=(200, 30, 30), size=(8, 8)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_visit_spawns_a_case_with_the_address_in_the_community_queue(app, client, bearer, estate, add_person):
    room = estate[ROOM]
    add_person(room)
    made = client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "date": today_local().isoformat(), "purpose": "safety_check",
        "findings": "楼道堆放杂物，住户电话13912345678", "spawn_case": True, "photos": [b64(png())]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert set(body) == {"id", "case_number"} and body["case_number"].startswith("WG")
    with app.app_context():
        visit = db.get(GridVisit, body["id"])
        assert visit.case_number == body["case_number"] and visit.household_id is not None
        assert visit.grid_code == GRID_A1 and visit.worker == "zhangmin"
        photo = db.scalar(sa.select(GridVisitPhoto).where(GridVisitPhoto.visit_id == visit.id))
        assert photo.content_type == "image/png" and photo.data[:8] == b"\x89PNG\r\n\x1a\n"
        info, data = case_info(body["case_number"]), case_data(body["case_number"])
        assert info["org"] == GRID_A1 and info["type"] == "grid_incident" and info["state"] == "reported"
        assert data["location"]["address"] == ROOM and data["category"] == "安全隐患"
        assert data["source"] == "网格巡查" and f"走访记录 #{visit.id}" in data["description"]
    # the community's staff see it in their queue (the core's scoped list), another community's do not
    queue = client.get("/api/v1/cases?state=reported", headers=bearer("shenli")).get_json()
    assert body["case_number"] in {c["number"] for c in queue["items"]}
    assert client.get(f"/api/v1/cases/{body['case_number']}", headers=bearer("hanzhiming")).status_code == 404
    # a visit without a case answers only its id
    plain = client.post(VISITS, headers=bearer("zhangmin"), json={"address": room, "purpose": "home_visit"})
    assert plain.status_code == 201 and set(plain.get_json()) == {"id"}
    listed = client.get(f"/api/v1/p/grid/addresses/{room}/visits", headers=bearer("zhangmin")).get_json()["items"]
    assert [v["id"] for v in listed] == [plain.get_json()["id"], body["id"]]
    assert "13912345678" not in str(listed) and listed[1]["case_number"] == body["case_number"]
    assert listed[1]["address"]["label"] == ROOM and len(listed[1]["photos"]) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_visit_input_is_checked_field_by_field(app, client, bearer, estate):
    room = estate[ROOM]
    tomorrow = (today_local() + timedelta(days=1)).isoformat()
    bad = client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "purpose": "home_visit", "date": tomorrow, "spawn_case": True, "photos": [b64(b"not an image")]})
    assert bad.status_code == 422
    pointers = {e["pointer"]: e["message"] for e in bad.get_json()["errors"]}
    assert pointers == {"/date": "走访日期不能晚于今天", "/findings": "上报网格事件时请填写走访情况（发现的问题）",
                        "/photos/0": "照片应为 1MB 以内的 JPG、PNG、GIF 或 WebP 图片"}
    assert client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "purpose": "chat"}).status_code == 422
    assert client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "purpose": "home_visit", "photos": ["!!!"]}).status_code == 422
    too_many = client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "purpose": "home_visit", "photos": [b64(png())] * 4})
    assert too_many.status_code == 422 and too_many.get_json()["errors"][0]["pointer"] == "/photos"
    huge = client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "purpose": "home_visit", "photos": ["A" * (1024 * 1024 * 4 // 3 + 8)]})
    assert huge.status_code == 422 and huge.get_json()["errors"][0]["pointer"] == "/photos/0"  # refused undecoded
    # a unit (实有单位) is visited at its own address only
    shop = client.post("/api/v1/p/grid/units", headers=bearer("zhangmin"), json={
        "address": estate["幸福小区3幢1单元101室"], "name": "幸福便利店", "category": "shop"}).get_json()["id"]
    elsewhere = client.post(VISITS, headers=bearer("zhangmin"), json={"address": room, "unit": shop,
                                                                       "purpose": "safety_check"})
    assert elsewhere.status_code == 422 and elsewhere.get_json()["errors"][0]["pointer"] == "/unit"
    # another grid's worker: the address is not there for them
    other = client.post(VISITS, headers=bearer("liuyang"), json={"address": room, "purpose": "home_visit"})
    assert other.status_code == 404 and other.get_json()["errors"][0]["pointer"] == "/address"
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(GridVisit)) == 0
    at_shop = client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": estate["幸福小区3幢1单元101室"], "unit": shop, "purpose": "safety_check"})
    assert at_shop.status_code == 201
    with app.app_context():
        visit = db.get(GridVisit, at_shop.get_json()["id"])
        assert visit.establishment_id == shop and visit.household_id is None


def test_visits_are_scoped_to_the_grid_and_community(client, bearer, estate):
    room = estate[ROOM]
    made = client.post(VISITS, headers=bearer("zhangmin"), json={"address": room, "purpose": "home_visit",
                                                                  "findings": "老人身体好"}).get_json()
    assert client.get(f"{VISITS}?worker=zhangmin", headers=bearer("shenli")).get_json()["items"][0]["id"] == made["id"]
    assert client.get(f"{VISITS}?grid={GRID_A1}", headers=bearer("liuyang")).status_code == 404
    assert client.get(VISITS, headers=bearer("liuyang")).get_json()["items"] == []
    assert client.get(VISITS, headers=bearer("hanzhiming")).get_json()["items"] == []
    assert client.get(f"/api/v1/p/grid/addresses/{room}/visits", headers=bearer("chenjing")).status_code == 404


def test_patrols_and_diary_are_scoped_and_masked(app, client, bearer, estate, add_person):
    room = estate[ROOM]
    add_person(room)
    household = client.get(f"/api/v1/p/grid/addresses/{room}", headers=bearer("zhangmin")).get_json()["household"]["id"]
    patrol = client.post("/api/v1/p/grid/patrols", headers=bearer("zhangmin"), json={
        "grid": GRID_A1, "route": "幸福小区1-3幢", "findings": "3幢门口井盖松动，联系人13812345678"})
    assert patrol.status_code == 201
    assert client.post("/api/v1/p/grid/patrols", headers=bearer("liuyang"), json={
        "grid": GRID_A1, "route": "幸福小区"}).status_code == 422  # not their grid: 422 at /grid
    assert client.post("/api/v1/p/grid/patrols", headers=bearer("zhangmin"), json={
        "grid": GRID_A1, "route": "  "}).get_json()["errors"][0]["pointer"] == "/route"
    diary = client.post("/api/v1/p/grid/diary", headers=bearer("zhangmin"), json={
        "grid": GRID_A1, "text": "王阿姨说想报名老年食堂，身份证339901198001010013", "household": household})
    assert diary.status_code == 201
    other = client.post("/api/v1/p/grid/diary", headers=bearer("liuyang"), json={
        "grid": GRID_A2, "text": "x", "household": household})
    assert other.status_code == 404 and other.get_json()["errors"][0]["pointer"] == "/household"
    shown = client.get("/api/v1/p/grid/patrols", headers=bearer("shenli")).get_json()["items"]
    assert len(shown) == 1 and "13812345678" not in shown[0]["findings"] and "井盖" in shown[0]["findings"]
    entries = client.get(f"/api/v1/p/grid/diary?grid={GRID_A1}", headers=bearer("zhangmin")).get_json()["items"]
    assert len(entries) == 1 and "339901198001010013" not in entries[0]["text"] and entries[0]["household"] == household
    assert client.get("/api/v1/p/grid/diary", headers=bearer("liuyang")).get_json()["items"] == []
    assert client.get("/api/v1/p/grid/patrols", headers=bearer("hanzhiming")).get_json()["items"] == []


def test_the_monthly_dispute_return_and_zero_report(app, client, bearer):
    month = f"{today_local():%Y-%m}"
    url = "/api/v1/p/grid/returns"
    unconfirmed = client.post(url, headers=bearer("zhangmin"), json={"grid": GRID_A1, "month": month,
                                                                      "zero_report": True})
    assert unconfirmed.status_code == 422
    assert unconfirmed.get_json()["errors"][0] == {"pointer": "/confirmed", "code": "confirm",
                                                   "message": "零报告须勾选确认：本月已排查，未发现矛盾纠纷"}
    empty = client.post(url, headers=bearer("liuyang"), json={"grid": GRID_A2, "month": month, "zero_report": False})
    assert {e["pointer"] for e in empty.get_json()["errors"]} == {"/items_count", "/items_text"}
    future = client.post(url, headers=bearer("zhangmin"), json={"grid": GRID_A1, "month": "2999-01",
                                                                 "zero_report": True, "confirmed": True})
    assert future.status_code == 422 and future.get_json()["errors"][0]["pointer"] == "/month"
    assert client.post(url, headers=bearer("liuyang"), json={"grid": GRID_A1, "month": month, "zero_report": True,
                                                              "confirmed": True}).status_code == 422  # not theirs
    zero = client.post(url, headers=bearer("zhangmin"), json={"grid": GRID_A1, "month": month, "zero_report": True,
                                                               "confirmed": True})
    assert zero.status_code == 201 and zero.get_json()["zero_report"] is True
    assert zero.get_json()["recorded_by"] == "zhangmin" and zero.get_json()["recorded_at"]
    again = client.post(url, headers=bearer("shenli"), json={"grid": GRID_A1, "month": month, "zero_report": False,
                                                              "items_count": 1, "items_text": "邻里漏水纠纷"})
    assert again.status_code == 409
    found = client.post(url, headers=bearer("liuyang"), json={"grid": GRID_A2, "month": month, "zero_report": False,
                                                               "items_count": 2, "items_text": "停车位纠纷两起"})
    assert found.status_code == 201 and found.get_json()["items_count"] == 2
    listed = client.get(f"{url}?month={month}", headers=bearer("shenli")).get_json()["items"]
    assert {(r["grid"], r["zero_report"], r["items_count"]) for r in listed} == {(GRID_A1, True, 0), (GRID_A2, False, 2)}
    assert client.get(url, headers=bearer("zhangmin")).get_json()["items"][0]["grid"] == GRID_A1
    assert len(client.get(url, headers=bearer("zhangmin")).get_json()["items"]) == 1
    assert client.get(f"{url}?month=2026-13", headers=bearer("zhangmin")).status_code == 422
    with app.app_context():
        zero_reports = db.scalar(sa.select(sa.func.count()).select_from(GridDisputeReturn)
                                 .where(GridDisputeReturn.zero_report))
        assert zero_reports == 1  # the 零报告 counts as a return of its own
    figures = client.get(f"/api/v1/p/grid/metrics?grid={GRID_A1}&month={month}", headers=bearer("shenli")).get_json()
    assert figures["dispute_return"] == {"zero_report": True, "items_count": 0}


def test_coverage_on_a_known_fixture(app, client, bearer, estate, add_person, monkeypatch):
    """Four households on 2025-10-31 (a fifth moved out on 10-15): one visited on 10-05,
    one on 10-20 (an 独居老人, due every 7 days: overdue by the 31st), one on 07-01 (outside the
    90 days), one never. Coverage 2/4 = 0.5; 2 visits on 2 days in October."""
    rooms = [estate[f"幸福小区3幢1单元{n}室"] for n in ("101", "102", "201", "202", "301")]
    people = [add_person(r, moved_in="2020-01-01") for r in rooms]
    assert client.post(f"/api/v1/p/grid/people/{people[0]}/care", headers=bearer("zhangmin"),
                       json={"care_tags": ["alone_elderly"]}).status_code == 200
    assert client.post(f"/api/v1/p/grid/people/{people[4]}/move-out", headers=bearer("zhangmin"),
                       json={"moved_out": "2025-10-15"}).status_code == 200
    for room, day in ((rooms[0], "2025-10-20"), (rooms[1], "2025-10-05"), (rooms[2], "2025-07-01"),
                      (rooms[4], "2025-09-01"), (rooms[0], "2025-11-02")):
        assert client.post(VISITS, headers=bearer("zhangmin"), json={
            "address": room, "date": day, "purpose": "home_visit"}).status_code == 201
    figures = client.get(f"/api/v1/p/grid/metrics?grid={GRID_A1}&month=2025-10", headers=bearer("zhangmin")).get_json()
    assert figures["as_of"] == "2025-10-31" and figures["households"] == 4 and figures["people"] == 4
    assert figures["visits"] == 2 and figures["visit_days"] == 2 and figures["visit_days_target"] == 20
    assert figures["coverage"] == 0.5 and figures["households_visited"] == 2 and figures["coverage_days"] == 90
    assert figures["care_households"] == 1 and figures["care_overdue"] == 1
    assert figures["care_overdue_households"][0]["address"] == "幸福小区3幢1单元101室"
    assert figures["workers"] == [{"worker": "zhangmin", "visits": 2, "visit_days": 2}]
    assert figures["dispute_return"] is None
    september = client.get(f"/api/v1/p/grid/metrics?grid={GRID_A1}&month=2025-09", headers=bearer("shenli")).get_json()
    assert september["households"] == 5 and september["coverage"] == 0.2  # only the 09-01 visit in 90 days
    assert september["care_overdue"] == 1  # never visited by then
    # the plugin's settings: a 20-day window keeps only the 10-20 visit; another target
    import fengqiao_grid.metrics

    monkeypatch.setattr(fengqiao_grid.metrics, "plugin_settings", lambda name: {"visit_days_target": 22,
                                                                              "coverage_days": 20})
    narrow = client.get(f"/api/v1/p/grid/metrics?grid={GRID_A1}&month=2025-10", headers=bearer("zhangmin")).get_json()
    assert narrow["coverage"] == 0.25 and narrow["coverage_days"] == 20 and narrow["visit_days_target"] == 22
    monkeypatch.undo()
    # scope and input
    assert client.get(f"/api/v1/p/grid/metrics?grid={GRID_A1}", headers=bearer("liuyang")).status_code == 404
    assert client.get(f"/api/v1/p/grid/metrics?grid={GRID_A1}", headers=bearer("hanzhiming")).status_code == 404
    assert client.get("/api/v1/p/grid/metrics", headers=bearer("shenli")).status_code == 422  # two grids: choose
    assert client.get("/api/v1/p/grid/metrics?month=2025-10", headers=bearer("zhangmin")).get_json()["grid"] == GRID_A1
    assert client.get(f"/api/v1/p/grid/metrics?grid={GRID_A1}&month=10-2025",
                      headers=bearer("zhangmin")).status_code == 422
