"""Units at an address (credit code checked by GB 32100), the masked people export with
Chinese headers, and the plugin's rules (only the sdk, models equal to the migration)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from fengqiao.sdk.privacy import audit_history
from fengqiao.sdk.testing import imports_outside_the_sdk, migration_drift
from fengqiao.sdk.web import credit_code_problem
from grid_helpers import GRID_A1, credit_code, id_card

import fengqiao_grid  # noqa: F401  (registers the models)
from fengqiao_grid.exports import PEOPLE_HEADERS

pytestmark = pytest.mark.plugins("grid")
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
UNITS = "/api/v1/p/grid/units"


def test_models_match_the_migration(app):
    assert migration_drift(app, "grid_") == []


def test_imports_only_the_sdk_from_the_core():
    assert imports_outside_the_sdk(Path(__file__).resolve().parents[1] / "fengqiao_grid") == []


def test_credit_code_vectors():
    good = credit_code()
    assert credit_code_problem(good) is None
    assert credit_code_problem("91350100M000100Y43") is None  # the standard's published example
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert credit_code_problem(wrong) == "统一社会信用代码校验位不正确"
    assert credit_code_problem(good[:17]) == credit_code_problem("91339901MA2C3D4EI" + "0") == \
        "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）"


def test_units_at_an_address(client, bearer, estate):
    room = estate["幸福小区3幢1单元101室"]
    body = {"address": room, "name": "幸福便利店", "category": "shop", "contact_name": "钱多多",
            "contact_mobile": "13600001234", "safety_due": "2027-03-01"}
    bad = client.post(UNITS, json={**body, "credit_code": credit_code()[:17] + "Z"}, headers=bearer("zhangmin"))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/credit_code"
    made = client.post(UNITS, json={**body, "credit_code": credit_code().lower()}, headers=bearer("zhangmin"))
    assert made.status_code == 201, made.get_json()
    listed = client.get(UNITS, headers=bearer("zhangmin")).get_json()["items"]
    assert [(u["name"], u["credit_code"], u["contact_name"], u["contact_mobile"], u["safety_due"]) for u in listed] \
        == [("幸福便利店", credit_code(), "钱**", "136****1234", "2027-03-01")]
    assert listed[0]["address"]["label"] == "幸福小区3幢1单元101室"
    assert client.get(UNITS, headers=bearer("liuyang")).get_json()["items"] == []
    assert client.post(UNITS, json=body, headers=bearer("hanzhiming")).status_code == 404
    assert client.post(UNITS, json={**body, "category": "bank", "name": ""},
                       headers=bearer("zhangmin")).status_code == 422


def test_people_export_is_masked_with_chinese_headers(app, client, bearer, estate, add_person):
    numbers = [id_card(21), id_card(22)]
    add_person(estate["幸福小区3幢1单元101室"], id_card=numbers[0], name="欧阳明月", care_tags=["advanced_age"])
    gone = add_person(estate["幸福小区3幢1单元102室"], id_card=numbers[1], moved_in="2020-01-01")
    assert client.post(f"/api/v1/p/grid/people/{gone}/move-out", json={"moved_out": "2025-01-01"},
                       headers=bearer("zhangmin")).status_code == 200
    response = client.get(f"/api/v1/p/grid/people/export.xlsx?grid={GRID_A1}", headers=bearer("zhangmin"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    title, *rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert title[0] == "实有人口台账（揽月花园1–8幢网格）" and rows[0] == PEOPLE_HEADERS and rows[0][:3] == ["人员编号", "姓名", "身份证号"]
    assert len(rows) == 2  # only people living there now
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["姓名"] == "欧阳**" and row["身份证号"] == numbers[0][:6] + "*" * 8 + numbers[0][14:]
    assert row["地址"] == "幸福小区3幢1单元101室" and row["关怀对象"] == "高龄" and row["居住类型"] == "户籍"
    cells = " ".join(str(v) for r in rows for v in r)
    assert not any(n in cells for n in numbers) and "欧阳明月" not in cells
    with app.app_context():
        assert audit_history(f"grid-export:{GRID_A1}")[0].detail == {"rows": 1}
    assert client.get(f"/api/v1/p/grid/people/export.xlsx?grid={GRID_A1}",
                      headers=bearer("hanzhiming")).status_code == 404
    other = client.get("/api/v1/p/grid/people/export.xlsx", headers=bearer("hanzhiming"))
    assert len(list(openpyxl.load_workbook(io.BytesIO(other.data)).active.iter_rows())) == 2  # title, headers
