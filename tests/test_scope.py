"""A user of community A never sees community B's units, users or cases: page, API or export."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case, OrgUnit

LANYUE, QIAODONG = "339901001001", "339901001002"


@pytest.fixture
def cases(demo):
    with demo.app_context():
        units = {u.code: u for u in db.scalars(sa.select(OrgUnit))}
        for i, code in enumerate([LANYUE, f"{LANYUE}001", QIAODONG, f"{QIAODONG}002", "339901100201"]):
            db.add(Case(number=f"WG-20261126-{i:06d}", tracking_code=f"T{i:05d}", type="grid_incident",
                        title=f"事项{i}", state="reported", org=units[code]))
        db.commit()
    return demo


def test_org_units_api_list_and_detail(client, bearer):
    headers = bearer("shenli")  # 揽月社区 staff
    listed = client.get("/api/v1/orgs", headers=headers).get_json()
    codes = {u["code"] for u in listed["items"]}
    # Its subtree: the grids and the property company 揽月花园物业服务中心 (a department under it).
    assert codes == {LANYUE, f"{LANYUE}001", f"{LANYUE}002", f"{LANYUE}901"}
    assert client.get(f"/api/v1/orgs/{LANYUE}001", headers=headers).status_code == 200
    assert client.get(f"/api/v1/orgs/{QIAODONG}", headers=headers).status_code == 404
    assert client.get("/api/v1/orgs/339901001", headers=headers).status_code == 404  # parent street


def test_users_api_list_and_detail(client, bearer):
    headers = bearer("shenli")
    names = {u["username"] for u in client.get("/api/v1/users", headers=headers).get_json()["items"]}
    # 揽月社区, its grids and its property company's liaison (wuye): all in its subtree
    assert names == {"gaojie", "shenli", "tangmin", "zhangmin", "liuyang", "wuye"}
    assert client.get("/api/v1/users/zhangmin", headers=headers).status_code == 200
    assert client.get("/api/v1/users/hanzhiming", headers=headers).status_code == 404
    assert client.get("/api/v1/users/chenjing", headers=headers).status_code == 404


def test_street_sees_its_communities_but_not_the_town(client, bearer):
    headers = bearer("luojia")  # 澄湖街道 dispatcher
    codes = {u["code"] for u in client.get("/api/v1/orgs?limit=200", headers=headers).get_json()["items"]}
    assert LANYUE in codes and QIAODONG in codes and "339901100201" not in codes


def test_pages_list_detail_and_export(client, login_as):
    login_as("shenli")
    orgs_page = client.get("/admin/orgs").get_data(as_text=True)
    assert "揽月社区" in orgs_page and "桥东社区" not in orgs_page
    assert client.get(f"/admin/orgs/{QIAODONG}").status_code == 404
    users_page = client.get("/admin/users").get_data(as_text=True)
    assert "zhangmin" in users_page and "hanzhiming" not in users_page and "chenjing" not in users_page
    assert client.get("/admin/users/hanzhiming").status_code == 404
    export = client.get("/admin/users/export.xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    exported = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert exported == {"gaojie", "shenli", "tangmin", "zhangmin", "liuyang", "wuye"}  # as the API's list
    assert sheet["A2"].value == "用户名"


def test_cases_list_and_detail_share_the_scope(client, bearer, cases):
    headers = bearer("shenli")
    numbers = {c["number"] for c in client.get("/api/v1/cases", headers=headers).get_json()["items"]}
    assert numbers == {"WG-20261126-000000", "WG-20261126-000001"}
    assert client.get("/api/v1/cases/WG-20261126-000000", headers=headers).status_code == 200
    assert client.get("/api/v1/cases/WG-20261126-000002", headers=headers).status_code == 404
    grid = bearer("zhangmin")
    numbers = {c["number"] for c in client.get("/api/v1/cases", headers=grid).get_json()["items"]}
    assert numbers == {"WG-20261126-000001"}
    county = bearer("ducha")
    assert len(client.get("/api/v1/cases", headers=county).get_json()["items"]) == 5


def test_case_list_paginates_by_keyset(client, bearer, cases):
    headers = bearer("ducha")
    first = client.get("/api/v1/cases?limit=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(f"/api/v1/cases?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    third = client.get(f"/api/v1/cases?limit=2&cursor={second['next_cursor']}", headers=headers).get_json()
    seen = [c["number"] for page in (first, second, third) for c in page["items"]]
    assert len(seen) == len(set(seen)) == 5 and third["next_cursor"] is None
    assert client.get("/api/v1/cases?cursor=%%%", headers=headers).status_code == 422
    assert client.get("/api/v1/cases?limit=0", headers=headers).status_code == 422
    other_org = client.get("/api/v1/cases?org=339901100", headers=bearer("shenli"))
    assert other_org.status_code == 422
