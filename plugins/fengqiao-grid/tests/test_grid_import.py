"""Excel import of people (实有人口): every row checked first, all written or none, every
problem reported by row and column in Chinese; only rooms of the caller's grids; limits refused
before the file is parsed; the page (upload → result table) and its template."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.privacy import audit_history
from fengqiao.sdk.testing import csrf_token, login
from grid_helpers import GRID_A1, GRID_A2, id_card, with_wrong_check
from openpyxl import Workbook, load_workbook

from fengqiao_grid import importer
from fengqiao_grid.models import GridHousehold, GridPerson, GridResidence

pytestmark = pytest.mark.plugins("grid")
IMPORT = "/api/v1/p/grid/people/import"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HEAD = ["地址编码", "小区", "楼栋", "单元", "户", "姓名", "身份证号", "与户主关系", "居住类型", "入住日期", "手机号", "关爱标签"]


def workbook(rows: list[list], head: list[str] = HEAD, title: str | None = "实有人口") -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, headers, content: bytes, name: str = "people.xlsx"):
    return client.post(IMPORT, headers=headers, data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _rooms(client, bearer, who: str = "zhangmin", q: str = "幸福小区") -> dict[str, str]:
    items = client.get(f"/api/v1/p/grid/addresses?q={q}&kind=room", headers=bearer(who)).get_json()["items"]
    return {r["label"]: r["code"] for r in items}


def _count(model, *where) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_a_clean_file_is_imported_whole(app, client, bearer, estate):
    codes = _rooms(client, bearer)
    rows = [
        [codes["幸福小区3幢1单元101室"], "", "", "", "", "王秀英", id_card(1), "户主", "户籍", "2020-05-01", "13800001111",
         "独居老人、高龄"],
        ["", "幸福小区", "3", "1", "102", "李建国", id_card(3).lower(), "户主", "出租", None, 13800002222, ""],
        ["", "幸福小区", "3幢", "1单元", "102室", "李小明", id_card(5, born="20150101"), "子女", "出租", "2021/3/4", "", ""],
    ]
    made = upload(client, bearer("zhangmin"), workbook(rows))
    assert made.status_code == 201, made.get_json()
    assert made.get_json() == {"imported": 3, "households_created": 2, "grids": [GRID_A1]}
    with app.app_context():
        people = {p.name: p for p in db.scalars(sa.select(GridPerson))}
        assert set(people) == {"王秀英", "李建国", "李小明"}
        assert people["李建国"].id_card == id_card(3) and people["李建国"].mobile == "13800002222"
        assert people["王秀英"].care_tags == "alone_elderly,advanced_age" and people["王秀英"].gender == "M"
        stays = {s.person_id: s for s in db.scalars(sa.select(GridResidence))}
        assert str(stays[people["李小明"].id].moved_in_on) == "2021-03-04"
        assert stays[people["李建国"].id].residence_type == "renting" and stays[people["李小明"].id].relation == "child"
        heads = {h.address_id: h.head_person_id for h in db.scalars(sa.select(GridHousehold))}
        assert sorted(heads.values()) == sorted([people["王秀英"].id, people["李建国"].id])
        assert stays[people["李小明"].id].household_id == stays[people["李建国"].id].household_id
        # the values every row shares are written into the statements once (importer._once)
        made_at = {p.created_at for p in people.values()} | {s.recorded_at for s in stays.values()} | {
            h.created_at for h in db.scalars(sa.select(GridHousehold))}
        assert len(made_at) == 1 and abs(made_at.pop() - datetime.now(UTC)) < timedelta(minutes=5)
        assert {(s.moved_out_on, s.moved_out_reason, s.closed_by, s.recorded_by) for s in stays.values()} == {
            (None, "", None, "zhangmin")}
        assert {(h.rented, h.landlord_name, h.landlord_mobile) for h in db.scalars(sa.select(GridHousehold))} == {
            (False, "", "")}
        assert str(people["李小明"].birth_date) == "2015-01-01" and people["李小明"].created_by == "zhangmin"
        logged = audit_history(record=f"grid-import:{GRID_A1}")
        assert [e.detail for e in logged] == [{"people": 3}] and logged[0].actor == "zhangmin"
    shown = client.get(f"/api/v1/p/grid/people/{people['李建国'].id}", headers=bearer("zhangmin")).get_json()
    assert shown["name"] == "李**" and shown["address"]["label"] == "幸福小区3幢1单元102室"
    # the same file again: everyone is living there already, so nothing is written
    again = upload(client, bearer("zhangmin"), workbook(rows))
    assert again.status_code == 422
    assert {e["pointer"] for e in again.get_json()["errors"]} == {"/rows/3/id_card", "/rows/4/id_card", "/rows/5/id_card",
                                                                  "/rows/3/relation", "/rows/4/relation"}
    with app.app_context():
        assert _count(GridPerson) == 3


def test_any_problem_means_nothing_is_written(app, client, bearer, estate):
    other = client.post("/api/v1/p/grid/addresses/bulk", headers=bearer("shenli"), json={
        "grid": GRID_A2, "estate": "湖滨商住楼", "buildings": [1], "units": 1, "floors": 1, "per_floor": 1})
    assert other.status_code == 201
    not_mine = next(iter(_rooms(client, bearer, "shenli", "湖滨商住楼").values()))
    codes = _rooms(client, bearer)
    good = [codes["幸福小区3幢2单元101室"], "", "", "", "", "赵一", id_card(11), "户主", "户籍", "2020-01-01", "", ""]
    rows = [
        good,                                                                                        # row 3: fine
        [codes["幸福小区3幢2单元102室"], "", "", "", "", "钱二", with_wrong_check(id_card(13)), "户主", "户籍", "", "", ""],
        ["339901001001001-99-9-9-909", "", "", "", "", "孙三", id_card(15), "户主", "户籍", "", "", ""],
        [codes["幸福小区3幢2单元201室"], "", "", "", "", "李四", id_card(11), "配偶", "户籍", "", "", ""],
        [not_mine, "", "", "", "", "周五", id_card(17), "户主", "户籍", "", "", ""],
        ["", "幸福小区", "3", "2", "202", "", id_card(19), "老乡", "暂住", "明天", "12345", "孤寡"],
        [codes["幸福小区3幢2单元101室"], "", "", "", "", "吴六", id_card(21), "户主", "户籍", "2030-01-01", "", ""],
        [codes["幸福小区3幢2单元301室"], "", "", "", "", "郑七", float(id_card(23)[:17] + "1"), "户主", "户籍", "", "", ""],
    ]
    refused = upload(client, bearer("zhangmin"), workbook(rows))
    assert refused.status_code == 422
    errors = {e["pointer"]: e["message"] for e in refused.get_json()["errors"]}
    assert errors == {
        "/rows/4/id_card": "第 4 行「身份证号」：身份证号码校验位不正确",
        "/rows/5/code": "第 5 行「地址编码」：地址不存在或不在您的网格内",
        "/rows/6/id_card": "第 6 行「身份证号」：与第 3 行的身份证号重复",
        "/rows/7/code": "第 7 行「地址编码」：地址不存在或不在您的网格内",  # another grid's room reads as unknown
        "/rows/8/name": "第 8 行「姓名」：请填写姓名",
        "/rows/8/relation": errors["/rows/8/relation"],
        "/rows/8/residence_type": "第 8 行「居住类型」：应为：户籍、常住、流动、出租",
        "/rows/8/moved_in": "第 8 行「入住日期」：日期格式应为 2024-03-01",
        "/rows/8/mobile": "第 8 行「手机号」：应为 11 位手机号",
        "/rows/8/care_tags": errors["/rows/8/care_tags"],
        "/rows/9/relation": "第 9 行「与户主关系」：同一户已在第 3 行登记户主",
        "/rows/9/moved_in": "第 9 行「入住日期」：入住日期不能晚于今天",
        "/rows/10/id_card": "第 10 行「身份证号」：身份证号被存成了数字（会丢失末几位），请把该列设为文本格式后重新填写",
    }
    assert "应为：户主、配偶" in errors["/rows/8/relation"] and "孤寡" in errors["/rows/8/care_tags"]
    with app.app_context():
        assert _count(GridPerson) == 0 and _count(GridHousehold) == 0 and _count(GridResidence) == 0
    assert upload(client, bearer("zhangmin"), workbook([good])).status_code == 201  # the fixed file goes in


def test_header_and_permission_problems(client, bearer, estate):
    missing = upload(client, bearer("zhangmin"), workbook([["x"]], head=["姓名", "身份证号"]))
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["message"].startswith("缺少列：与户主关系")
    none = upload(client, bearer("zhangmin"), workbook([], title=None))
    assert none.status_code == 422 and none.get_json()["errors"][0]["pointer"] == "/file"
    junk = upload(client, bearer("zhangmin"), b"not a workbook", "people.xlsx")
    assert junk.status_code == 422 and junk.get_json()["errors"][0]["code"] == "format"
    empty = client.post(IMPORT, headers=bearer("zhangmin"), data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["pointer"] == "/file"
    assert upload(client, bearer("zhifa"), workbook([])).status_code == 403  # a department holds no grid.manage


@SQLITE
def test_limits_are_refused_before_the_file_is_parsed(app, client, bearer, estate, monkeypatch):
    def never(*_args, **_kwargs):
        raise AssertionError("the file was parsed")

    content = workbook([["", "幸福小区", "3", "1", "101", "某", id_card(n), "户主", "户籍", "", "", ""]
                        for n in range(1, 40)])
    monkeypatch.setattr(importer, "MAX_BYTES", 1_000)
    with monkeypatch.context() as patched:
        patched.setattr(importer, "read_table", never)
        big = upload(client, bearer("zhangmin"), content + b"\0" * (80 * 1024))
        assert big.status_code == 413 and big.get_json()["errors"][0]["pointer"] == "/file"
    monkeypatch.setattr(importer, "MAX_BYTES", 2 << 20)
    huge = upload(client, bearer("zhangmin"), b"\0" * ((2 << 20) + 100_000))  # the app's own body limit
    assert huge.status_code == 413 and huge.is_json
    monkeypatch.setattr(importer, "READ_ROWS", 20)
    many = upload(client, bearer("zhangmin"), content)
    assert many.status_code == 422
    assert many.get_json()["errors"] == [{"pointer": "/file", "message": "表格行数过多：最多 20 行（含表头和空行）",
                                          "code": "too_large"}]
    monkeypatch.setattr(importer, "READ_ROWS", 100)
    monkeypatch.setattr(importer, "MAX_ROWS", 30)
    rows = upload(client, bearer("zhangmin"), content)
    assert rows.status_code == 422 and "一次最多导入 30 人" in rows.get_json()["errors"][0]["message"]
    with app.app_context():
        assert _count(GridPerson) == 0


@SQLITE
def test_the_import_page(app, demo, client, bearer, estate):
    page_client = app.test_client()
    login(page_client, "zhangmin")
    page = page_client.get("/p/grid/import")
    assert page.status_code == 200 and "下载导入模板" in page.get_data(as_text=True)
    template = page_client.get("/p/grid/import/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data), read_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))) == importer.HEADERS
    token = csrf_token(page_client, "/p/grid/import")
    bad = workbook([["", "幸福小区", "3", "1", "101", "王秀英", with_wrong_check(id_card(1)), "户主", "户籍", "", "", ""]])
    assert page_client.post("/p/grid/import", data={"file": (io.BytesIO(bad), "a.xlsx")},
                            content_type="multipart/form-data").status_code == 400  # no CSRF token
    refused = page_client.post("/p/grid/import", data={"csrf_token": token, "file": (io.BytesIO(bad), "a.xlsx")},
                               content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "一行都没有导入" in text and "身份证号码校验位不正确" in text
    assert "<td>身份证号</td>" in text
    good = workbook([["", "幸福小区", "3", "1", "101", "王秀英", id_card(1), "户主", "户籍", "", "", ""]])
    done = page_client.post("/p/grid/import", data={"csrf_token": token, "file": (io.BytesIO(good), "a.xlsx")},
                            content_type="multipart/form-data")
    assert done.status_code == 200 and "已导入 1 人，新建 1 户" in done.get_data(as_text=True)
    with app.app_context():
        assert _count(GridPerson) == 1
    template = page_client.get("/p/grid/import/addresses-template.xlsx")
    sheet = load_workbook(io.BytesIO(template.data), read_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))) == ["网格编码", "小区", "楼栋", "单元", "户"]
    addresses = workbook([["", "向阳新村", "1", "1", "101"]], head=["网格编码", "小区", "楼栋", "单元", "户"])
    done = page_client.post("/p/grid/import/addresses", data={"csrf_token": token, "file": (io.BytesIO(addresses),
                            "b.xlsx")}, content_type="multipart/form-data")  # zhangmin has one grid: no code needed
    assert done.status_code == 200 and "已导入 1 户地址：新建 4 个地址节点" in done.get_data(as_text=True)
    bad = workbook([["", "向阳新村", "1", "一", "101"]], head=["网格编码", "小区", "楼栋", "单元", "户"])
    refused = page_client.post("/p/grid/import/addresses", data={"csrf_token": token, "file": (io.BytesIO(bad),
                               "b.xlsx")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "<td>单元</td>" in refused.get_data(as_text=True)
    viewer = app.test_client()
    login(viewer, "zhoujian")  # a leader: grid.view, not grid.manage
    assert viewer.get("/p/grid/import").status_code == 403
    assert "Excel 导入" not in viewer.get("/p/grid/").get_data(as_text=True)  # the tab only for grid.manage
    assert "Excel 导入" in page_client.get("/p/grid/").get_data(as_text=True)


def test_addresses_are_imported_once_and_checked_first(app, client, bearer, estate):
    rows = [[GRID_A1, "幸福小区", "3幢", "1单元", "602室"],  # exists already (the estate fixture)
            [GRID_A1, "幸福小区", "4", "1", "101"], [GRID_A1, "幸福小区", "4", "1", "102"],
            ["", "向阳新村", "A", 2, 1], [GRID_A1, "幸福小区", "4", "1", "101"]]  # a repeated row is harmless
    head = ["网格编码", "小区", "楼栋", "单元", "户"]
    url = "/api/v1/p/grid/addresses/import"

    def send(who: str, content: bytes):
        return client.post(url, headers=bearer(who), data={"file": (io.BytesIO(content), "a.xlsx")},
                           content_type="multipart/form-data")

    made = send("zhangmin", workbook(rows, head=head))
    assert made.status_code == 201, made.get_json()
    # 幸福小区: building 4, its unit 1, two rooms; 向阳新村: the estate, building A, unit 2, room 1
    assert made.get_json() == {"created": 4 + 4, "existing": 1, "rooms": 4}
    assert send("zhangmin", workbook(rows, head=head)).get_json() == {"created": 0, "existing": 4, "rooms": 4}
    labels = _rooms(client, bearer, q="向阳新村")
    assert list(labels) == ["向阳新村A幢2单元1室"] and list(labels.values())[0].startswith(GRID_A1 + "-")
    assert "幸福小区4幢1单元102室" in _rooms(client, bearer)
    refused = send("shenli", workbook([["339901001002001", "桥东", "1", "1", "101"], ["", "x", "1", "0", "1/2"],
                                       [GRID_A2, "湖滨", "1", "1", "101"]], head=head))
    assert refused.status_code == 422
    assert {e["pointer"]: e["message"] for e in refused.get_json()["errors"]} == {
        "/rows/3/grid": "第 3 行「网格编码」：网格不存在或不在您的管辖范围内",  # 桥东: another community's grid
        "/rows/4/grid": "第 4 行「网格编码」：请填写网格编码（您管理多个网格）",
        "/rows/4/entrance": "第 4 行「单元」：应为 1–99 的数字，如 1",
        "/rows/4/room": "第 4 行「户」：应为字母或数字，最多 8 位，如 602",
    }
    with app.app_context():
        assert not _rooms(client, bearer, "shenli", "湖滨")  # row 5 was fine, but nothing was written
