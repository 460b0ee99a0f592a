"""The 台账 exports (issue 23 §6): 房屋, 单位, 走访记录 and 排查, next to 实有人口 — Chinese
headers, a masked row on a known fixture, scope (a worker of grid 1 sees none of grid 2's
rows, ``?grid=`` of another grid is 404), the month filter (422 for a bad month), an audit row
with the count, the cap, and the links on the pages."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import unquote

import openpyxl
import pytest
from fengqiao.sdk.privacy import audit_history
from fengqiao.sdk.testing import login
from fengqiao.sdk.workdays import today_local
from grid_helpers import GRID_A1, GRID_A2, credit_code
from test_grid_visits import b64, png

import fengqiao_grid.exports
from fengqiao_grid.exports import (
    ADDRESS_HEADERS,
    PEOPLE_HEADERS,
    RETURN_HEADERS,
    UNIT_HEADERS,
    VISIT_HEADERS,
)

pytestmark = pytest.mark.plugins("grid")
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
API = "/api/v1/p/grid"
ROOM = "幸福小区3幢1单元101室"
BAD_MONTH = "月份应为 YYYY-MM，如 2026-03"
A1 = "揽月花园1–8幢网格"  # GRID_A1's name


def sheet(response) -> tuple[str, list, list[list]]:
    """(title, headers, rows) of an exported workbook."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    title, headers, *rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(response.data))
                             .active.iter_rows()]
    return title[0], headers, rows


def filename(response) -> str:
    return unquote(response.headers["Content-Disposition"].split("UTF-8''")[1])


def by(headers: list, rows: list[list], column: str) -> dict:
    """Rows as dicts keyed by the value of ``column``."""
    return {r[headers.index(column)]: dict(zip(headers, r, strict=True)) for r in rows}


def cells(rows: list[list]) -> str:
    return " ".join(str(v) for r in rows for v in r if v is not None)


def last_audit(app, grid: str | None = GRID_A1):
    with app.app_context():
        return audit_history(f"grid-export:{grid or 'scope'}")[0]


def test_addresses_ledger(app, client, bearer, estate, add_person):
    zhangmin = bearer("zhangmin")
    building = client.get(f"{API}/addresses?q=幸福小区3幢&kind=building", headers=zhangmin).get_json()["items"][0]
    assert client.post(f"{API}/addresses/{building['id']}/keeper", headers=zhangmin,
                       json={"name": "李建国", "mobile": "13900001111"}).status_code == 200
    room, other = estate[ROOM], estate["幸福小区3幢2单元602室"]
    add_person(room, name="欧阳明月")
    add_person(room, relation="spouse")
    gone = add_person(other, moved_in="2020-01-01")
    add_person(other, relation="child")
    assert client.post(f"{API}/people/{gone}/move-out", json={"moved_out": "2025-01-01"},
                       headers=zhangmin).status_code == 200
    household = client.get(f"{API}/addresses/{room}", headers=zhangmin).get_json()["household"]["id"]
    assert client.post(f"{API}/households/{household}/rental", headers=zhangmin, json={
        "rented": True, "landlord_name": "钱多多", "landlord_mobile": "13600001234"}).status_code == 200

    response = client.get(f"{API}/addresses/export.xlsx?grid={GRID_A1}", headers=zhangmin)
    title, headers, rows = sheet(response)
    assert title == f"房屋台账（{A1}）" and headers == ADDRESS_HEADERS
    assert "房屋台账-" in filename(response)
    assert len(rows) == 1 + 1 + 2 + 24  # the estate, building 3, its two entrances, 24 rooms
    rows_by = by(headers, rows, "地址")
    assert rows_by[ROOM] == {
        "地址编码": rows_by[ROOM]["地址编码"], "地址": ROOM, "类型": "户", "所属网格": A1,
        "楼栋长/单元管家": None, "在住户数": 1, "在住人数": 2, "出租房": "是", "房东": "钱**", "房东电话": "136****1234",
        "登记日期": today_local().isoformat()}
    assert rows_by[ROOM]["地址编码"].startswith(GRID_A1)
    assert rows_by["幸福小区3幢1单元102室"]["出租房"] == "否" and rows_by["幸福小区3幢1单元102室"]["在住人数"] == 0
    assert rows_by["幸福小区3幢2单元602室"]["在住人数"] == 1  # the one who moved out is not counted
    # a building adds up its rooms, and shows its 楼栋长 masked
    assert (rows_by["幸福小区3幢"]["楼栋长/单元管家"], rows_by["幸福小区3幢"]["在住户数"],
            rows_by["幸福小区3幢"]["在住人数"], rows_by["幸福小区3幢"]["类型"]) == ("李**", 2, 3, "楼栋")
    assert (rows_by["幸福小区"]["在住户数"], rows_by["幸福小区"]["在住人数"], rows_by["幸福小区"]["出租房"]) == (2, 3, None)
    text = cells(rows)
    assert not any(s in text for s in ("李建国", "钱多多", "13600001234", "13900001111", "欧阳明月"))
    audit = last_audit(app)
    assert (audit.action, audit.actor, audit.detail) == ("grid.export_addresses", "zhangmin", {"rows": 28})
    # scope: 刘洋 (grid 2) sees none of grid 1's rows; ?grid= of grid 1 is 404 for him and for 桥东
    assert sheet(client.get(f"{API}/addresses/export.xlsx", headers=bearer("liuyang")))[2] == []
    assert client.get(f"{API}/addresses/export.xlsx?grid={GRID_A1}", headers=bearer("liuyang")).status_code == 404
    assert client.get(f"{API}/addresses/export.xlsx?grid={GRID_A1}", headers=bearer("hanzhiming")).status_code == 404
    # the community's staff get both grids' rows without ?grid=
    assert len(sheet(client.get(f"{API}/addresses/export.xlsx", headers=bearer("shenli")))[2]) == 28


def test_units_ledger(app, client, bearer, estate):
    zhangmin = bearer("zhangmin")
    yesterday, later = today_local() - timedelta(days=1), today_local() + timedelta(days=90)
    for name, due, mobile in (("幸福便利店", yesterday, "13600001234"), ("幸福理发店", later, None)):
        body = {"address": estate[ROOM], "name": name, "category": "shop", "contact_name": "钱多多",
                "safety_due": due.isoformat(), **({"contact_mobile": mobile} if mobile else {})}
        if name == "幸福便利店":
            body["credit_code"] = credit_code()
        assert client.post(f"{API}/units", json=body, headers=zhangmin).status_code == 201
    response = client.get(f"{API}/units/export.xlsx", headers=zhangmin)
    title, headers, rows = sheet(response)
    assert title == f"单位台账（{A1}）" and headers == UNIT_HEADERS and "单位台账-" in filename(response)
    units = by(headers, rows, "单位名称")
    assert units["幸福便利店"] == {
        "单位名称": "幸福便利店", "统一社会信用代码": credit_code(), "单位类别": "商铺", "所属网格": A1,
        "地址": ROOM, "联系人": "钱**", "联系电话": "136****1234", "下次安全检查": yesterday.isoformat(),
        "安全检查逾期": "是"}
    assert (units["幸福理发店"]["安全检查逾期"], units["幸福理发店"]["统一社会信用代码"]) == ("否", None)
    assert "钱多多" not in cells(rows) and "13600001234" not in cells(rows)
    assert (last_audit(app, None).action, last_audit(app, None).detail) == ("grid.export_units", {"rows": 2})
    assert sheet(client.get(f"{API}/units/export.xlsx", headers=bearer("liuyang")))[2] == []
    assert client.get(f"{API}/units/export.xlsx?grid={GRID_A1}", headers=bearer("liuyang")).status_code == 404
    assert len(sheet(client.get(f"{API}/units/export.xlsx?grid={GRID_A1}", headers=bearer("shenli")))[2]) == 2


def test_visits_ledger_by_month(app, client, bearer, estate, add_person):
    zhangmin = bearer("zhangmin")
    room = estate[ROOM]
    add_person(room, name="欧阳明月")
    shop = client.post(f"{API}/units", headers=zhangmin, json={
        "address": room, "name": "幸福便利店", "category": "shop"}).get_json()["id"]
    today = today_local()
    spawned = client.post(f"{API}/visits", headers=zhangmin, json={
        "address": room, "date": today.isoformat(), "purpose": "safety_check",
        "findings": "楼道堆放杂物，住户电话13912345678", "spawn_case": True, "photos": [b64(png())]})
    assert spawned.status_code == 201, spawned.get_json()
    case_number = spawned.get_json()["case_number"]
    assert client.post(f"{API}/visits", headers=zhangmin, json={
        "address": room, "unit": shop, "date": today.isoformat(), "purpose": "home_visit"}).status_code == 201
    assert client.post(f"{API}/visits", headers=zhangmin, json={
        "address": room, "date": "2025-10-05", "purpose": "home_visit", "findings": "老人身体好"}).status_code == 201

    response = client.get(f"{API}/visits/export.xlsx", headers=zhangmin)  # this month by default
    title, headers, rows = sheet(response)
    month = f"{today:%Y-%m}"
    assert title == f"走访记录台账（{A1}，{month}）" and headers == VISIT_HEADERS
    assert filename(response) == f"走访记录台账（{month}）-{today.isoformat()}.xlsx"
    assert len(rows) == 2
    first = dict(zip(headers, rows[0], strict=True))
    assert first == {"走访日期": today.isoformat(), "所属网格": A1, "网格员": "张敏", "地址": ROOM,
                     "户主/单位": "欧阳**", "走访事项": "安全隐患排查", "走访情况": first["走访情况"], "照片（张）": 1,
                     "上报事件编号": case_number}
    assert "楼道堆放杂物" in first["走访情况"] and "13912345678" not in first["走访情况"]
    assert dict(zip(headers, rows[1], strict=True))["户主/单位"] == "幸福便利店"
    assert dict(zip(headers, rows[1], strict=True))["照片（张）"] == 0
    assert "欧阳明月" not in cells(rows)
    assert (last_audit(app, None).action, last_audit(app, None).detail) == (
        "grid.export_visits", {"rows": 2, "month": month})

    october = sheet(client.get(f"{API}/visits/export.xlsx?month=2025-10&grid={GRID_A1}", headers=zhangmin))
    assert october[0] == f"走访记录台账（{A1}，2025-10）" and [r[0] for r in october[2]] == ["2025-10-05"]
    assert last_audit(app).detail == {"rows": 1, "month": "2025-10"}
    assert sheet(client.get(f"{API}/visits/export.xlsx?month=2025-09", headers=zhangmin))[2] == []
    for bad in ("2025-13", "2025-1", "十月", "2025-10-01"):
        refused = client.get(f"{API}/visits/export.xlsx?month={bad}", headers=zhangmin)
        assert refused.status_code == 422 and refused.get_json()["errors"][0] == {
            "pointer": "/month", "message": BAD_MONTH, "code": "format"}
    # scope
    assert sheet(client.get(f"{API}/visits/export.xlsx", headers=bearer("liuyang")))[2] == []
    assert client.get(f"{API}/visits/export.xlsx?grid={GRID_A1}", headers=bearer("liuyang")).status_code == 404
    assert client.get(f"{API}/visits/export.xlsx?grid={GRID_A1}", headers=bearer("hanzhiming")).status_code == 404
    assert len(sheet(client.get(f"{API}/visits/export.xlsx", headers=bearer("shenli")))[2]) == 2


def test_returns_ledger_shows_zero_reports_and_missing_grids(app, client, bearer):
    month = f"{today_local():%Y-%m}"
    assert client.post(f"{API}/returns", headers=bearer("zhangmin"), json={
        "grid": GRID_A1, "month": month, "zero_report": True, "confirmed": True}).status_code == 201
    response = client.get(f"{API}/returns/export.xlsx", headers=bearer("shenli"))
    title, headers, rows = sheet(response)
    assert title == f"矛盾纠纷排查台账（揽月社区，{month}）" and headers == RETURN_HEADERS
    assert filename(response) == f"矛盾纠纷排查台账（{month}）-{today_local().isoformat()}.xlsx"
    grids = by(headers, rows, "所属网格")
    assert set(grids) == {A1, "湖滨路商业网格"}
    zero = grids[A1]
    assert (zero["月份"], zero["填报情况"], zero["填报人"], zero["零报告"], zero["发现矛盾纠纷（件）"]) == (
        month, "已填报", "张敏", "是", 0)
    assert zero["填报（确认）时间"].startswith(today_local().isoformat())
    assert grids["湖滨路商业网格"]["填报情况"] == "未填报" and grids["湖滨路商业网格"]["零报告"] is None
    assert (last_audit(app, None).action, last_audit(app, None).detail) == (
        "grid.export_returns", {"rows": 2, "month": month})

    assert client.post(f"{API}/returns", headers=bearer("liuyang"), json={
        "grid": GRID_A2, "month": month, "zero_report": False, "items_count": 2,
        "items_text": "停车位纠纷两起，当事人13812345678"}).status_code == 201
    found = by(*sheet(client.get(f"{API}/returns/export.xlsx?grid={GRID_A2}", headers=bearer("liuyang")))[1:],
               "所属网格")
    assert list(found) == ["湖滨路商业网格"]
    row = found["湖滨路商业网格"]
    assert (row["零报告"], row["发现矛盾纠纷（件）"], row["填报人"]) == ("否", 2, "刘洋")
    assert "停车位纠纷两起" in row["矛盾纠纷情况"] and "13812345678" not in row["矛盾纠纷情况"]
    # a worker sees only their grid; another grid is 404; another month is all 未填报; a bad month 422
    assert [r[1] for r in sheet(client.get(f"{API}/returns/export.xlsx", headers=bearer("zhangmin")))[2]] == [
        A1]
    assert client.get(f"{API}/returns/export.xlsx?grid={GRID_A2}", headers=bearer("zhangmin")).status_code == 404
    earlier = sheet(client.get(f"{API}/returns/export.xlsx?month=2025-01", headers=bearer("shenli")))[2]
    assert {r[2] for r in earlier} == {"未填报"} and len(earlier) == 2
    assert client.get(f"{API}/returns/export.xlsx?month=2025-00", headers=bearer("shenli")).status_code == 422
    assert all(r[1] not in (A1, "湖滨路商业网格")
               for r in sheet(client.get(f"{API}/returns/export.xlsx", headers=bearer("hanzhiming")))[2])


@SQLITE
def test_the_cap_is_said_in_the_title_and_the_audit(app, client, bearer, estate, add_person, monkeypatch):
    monkeypatch.setattr(fengqiao_grid.exports, "MAX_ROWS", 5)
    title, _headers, rows = sheet(client.get(f"{API}/addresses/export.xlsx", headers=bearer("zhangmin")))
    assert len(rows) == 5 and title == f"房屋台账（{A1}）（仅前 5 行，请按网格分别导出）"
    assert last_audit(app, None).detail == {"rows": 5, "capped": True}
    add_person(estate[ROOM])
    title, headers, rows = sheet(client.get(f"{API}/people/export.xlsx", headers=bearer("zhangmin")))
    assert title == f"实有人口台账（{A1}）" and headers == PEOPLE_HEADERS and len(rows) == 1  # under the cap: as before


@SQLITE
def test_the_pages_link_the_ledgers(app, demo, estate):
    page = app.test_client()
    login(page, "zhangmin")
    html = page.get("/p/grid/").get_data(as_text=True)
    assert 'data-section="ledgers"' in html
    for path in ("people", "addresses", "units"):
        assert f'href="/api/v1/p/grid/{path}/export.xlsx?grid={GRID_A1}"' in html
    assert 'action="/api/v1/p/grid/visits/export.xlsx"' in html
    assert 'formaction="/api/v1/p/grid/returns/export.xlsx"' in html
    assert 'href="/api/v1/p/grid/units/export.xlsx"' in page.get("/p/grid/units").get_data(as_text=True)
    # the month form's GET answers the workbook through the session, an empty month being this month
    assert sheet(page.get(f"/api/v1/p/grid/visits/export.xlsx?grid={GRID_A1}&month="))[0].startswith("走访记录台账")
    # community staff without a grid chosen: the whole scope, no ?grid=
    staff = app.test_client()
    login(staff, "shenli")
    assert 'href="/api/v1/p/grid/addresses/export.xlsx"' in staff.get("/p/grid/").get_data(as_text=True)
