"""The pages under /p/grid/: the tree with search and bulk creation, an address with its
household and forms, a person, units — CSRF on every form, one Chinese message per refused
field (422, nothing saved), masked names and numbers, another grid's objects a 404."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.privacy import audit_history
from fengqiao.sdk.testing import csrf_token, login
from grid_helpers import GRID_A1, credit_code, id_card, with_wrong_check

from fengqiao_grid.models import GridAddress, GridEstablishment, GridPerson

pytestmark = [pytest.mark.plugins("grid"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def signed_in(app, demo):
    def _client(username: str):
        c = app.test_client()
        login(c, username)
        return c
    return _client


def test_bulk_form_and_tree(app, signed_in):
    zhangmin = signed_in("zhangmin")
    page = zhangmin.get("/p/grid/")
    assert page.status_code == 200 and "批量生成地址" in page.get_data(as_text=True)
    token = csrf_token(zhangmin, "/p/grid/")
    form = {"csrf_token": token, "grid": GRID_A1, "estate": "揽月花园", "buildings": "1-2, 5", "units": "1",
            "floors": "2", "per_floor": "2"}
    assert zhangmin.post("/p/grid/addresses/bulk", data={k: v for k, v in form.items() if k != "csrf_token"}
                         ).status_code == 400  # no CSRF token
    refused = zhangmin.post("/p/grid/addresses/bulk", data={**form, "floors": "六", "estate": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-field="floors"' in text and 'data-field="estate"' in text
    assert text.count('class="error"') >= 2
    made = zhangmin.post("/p/grid/addresses/bulk", data=form)
    assert made.status_code == 303
    estate = zhangmin.get(made.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "揽月花园5幢" in estate and "已生成" in estate
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(GridAddress).where(GridAddress.kind == "room")) == 12
    found = zhangmin.get("/p/grid/?q=5幢1单元20").get_data(as_text=True)
    assert "揽月花园5幢1单元201室" in found and "揽月花园5幢1单元202室" in found
    assert signed_in("chenjing").get(f"/p/grid/?grid={GRID_A1}").status_code == 404


def test_address_page_registers_people_with_field_messages(app, signed_in, estate):
    room = estate["幸福小区3幢1单元602室"]
    zhangmin = signed_in("zhangmin")
    url = f"/p/grid/addresses/{room}"
    token = csrf_token(zhangmin, url)
    bad = zhangmin.post(f"{url}/people", data={"csrf_token": token, "name": "张三丰",
                                               "id_card": with_wrong_check(id_card(1)), "relation": "head",
                                               "residence_type": "registered"})
    assert bad.status_code == 422 and "身份证号码校验位不正确" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(GridPerson)) == 0
    number = id_card(1)
    ok = zhangmin.post(f"{url}/people", data={"csrf_token": token, "name": "张三丰", "id_card": number,
                                              "relation": "head", "residence_type": "registered",
                                              "mobile": "13912345678", "care_tags": ["alone_elderly", "disabled"]})
    assert ok.status_code == 303
    shown = zhangmin.get(url).get_data(as_text=True)
    assert "张**" in shown and "张三丰" not in shown and number not in shown and number[:6] + "********" in shown
    with app.app_context():
        person = db.scalar(sa.select(GridPerson))
        assert person.care_tags == "alone_elderly,disabled"
    out = zhangmin.post(f"/p/grid/people/{person.id}/move-out", data={"csrf_token": token, "moved_out": ""})
    assert out.status_code == 422
    assert zhangmin.post(f"/p/grid/people/{person.id}/move-out",
                         data={"csrf_token": token, "moved_out": "2099-01-01"}).status_code == 422
    done = zhangmin.post(f"/p/grid/people/{person.id}/move-out", data={"csrf_token": token, "reason": "x"})
    assert done.status_code == 422 and "迁出日期" in done.get_data(as_text=True)  # still needs a date
    # The other grid's worker, and another community's staff, get the 404 page for the same forms.
    for outsider in ("liuyang", "hanzhiming"):
        other = signed_in(outsider)
        assert other.get(url).status_code == 404
        assert other.post(f"{url}/people", data={"csrf_token": csrf_token(other, "/p/grid/units"), "name": "x"}
                          ).status_code == 404


def test_person_page_move_in_by_code_and_special_view_audited(app, signed_in, estate, add_person):
    person = add_person(estate["幸福小区3幢1单元101室"], moved_in="2020-01-01")
    zhangmin = signed_in("zhangmin")
    url = f"/p/grid/people/{person}"
    token = csrf_token(zhangmin, url)
    assert zhangmin.post(f"{url}/move-out", data={"csrf_token": token, "moved_out": "2024-01-01"}).status_code == 303
    page = zhangmin.get(url).get_data(as_text=True)
    assert "办理迁入" in page and "特殊人群" not in page  # grid workers do not see the special section
    unknown = zhangmin.post(f"{url}/move-in", data={"csrf_token": token, "address_code": "no-such-code",
                                                    "relation": "head", "residence_type": "resident"})
    assert unknown.status_code == 422 and "没有这个地址编码" in unknown.get_data(as_text=True)
    with app.app_context():
        code = db.scalar(sa.select(GridAddress.code).where(GridAddress.label == "幸福小区3幢2单元201室"))
    moved = zhangmin.post(f"{url}/move-in", data={"csrf_token": token, "address_code": code, "relation": "head",
                                                  "residence_type": "resident", "moved_in": "2024-02-01"})
    assert moved.status_code == 303
    assert "幸福小区3幢2单元201室" in zhangmin.get(url).get_data(as_text=True)
    gaojie = signed_in("gaojie")
    plain = gaojie.get(url).get_data(as_text=True)
    assert "查看特殊人群信息" in plain
    with app.app_context():
        assert audit_history(f"grid-person:{person}") == []  # looking at the person is not looking at the groups
    assert gaojie.get(f"{url}?special=1").status_code == 200
    assert zhangmin.get(f"{url}?special=1").status_code == 200  # no permission: the section is not shown
    with app.app_context():
        assert [r.action for r in audit_history(f"grid-person:{person}")] == ["grid.special_view"]
    leader_token = csrf_token(gaojie, url)
    assert gaojie.post(f"{url}/special", data={"csrf_token": leader_token, "group": "youth"}).status_code == 303
    assert zhangmin.post(f"{url}/special", data={"csrf_token": token, "group": "youth"}).status_code == 403


def test_units_page(app, signed_in, estate):
    zhangmin = signed_in("zhangmin")
    token = csrf_token(zhangmin, "/p/grid/units")
    with app.app_context():
        code = db.scalar(sa.select(GridAddress.code).where(GridAddress.label == "幸福小区3幢1单元101室"))
    bad = zhangmin.post("/p/grid/units", data={"csrf_token": token, "address_code": code, "name": "幸福便利店",
                                               "category": "shop", "credit_code": credit_code()[:17] + "0"
                                               if not credit_code().endswith("0") else credit_code()[:17] + "1"})
    assert bad.status_code == 422 and "统一社会信用代码校验位不正确" in bad.get_data(as_text=True)
    made = zhangmin.post("/p/grid/units", data={"csrf_token": token, "address_code": code, "name": "幸福便利店",
                                                "category": "shop", "credit_code": credit_code(),
                                                "contact_name": "钱多多", "contact_mobile": "13600001234"})
    assert made.status_code == 303
    listed = zhangmin.get("/p/grid/units").get_data(as_text=True)
    assert "幸福便利店" in listed and "钱**" in listed and "13600001234" not in listed
    other = signed_in("hanzhiming")
    refused = other.post("/p/grid/units", data={"csrf_token": csrf_token(other, "/p/grid/units"), "address_code": code,
                                                "name": "x", "category": "shop"})
    assert refused.status_code == 422 and "没有这个地址编码，或不在您的网格内" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(GridEstablishment)) == 1


def test_community_staff_see_each_grids_figures(app, signed_in, estate, add_person):
    add_person(estate["幸福小区3幢1单元101室"])
    html = signed_in("shenli").get("/p/grid/").get_data(as_text=True)
    rows = re.findall(r'<tr><td><a href="/p/grid/\?grid=(\d+)"[^>]*>[^<]+</a></td>\s*'
                      r'<td class="num">(\d+)</td><td class="num">(\d+)</td><td class="num">(\d+)</td></tr>', html)
    assert rows == [(GRID_A1, "24", "1", "0"), ("339901001001002", "0", "0", "0")]
    assert 'data-section="grids"' not in signed_in("zhangmin").get("/p/grid/").get_data(as_text=True)  # one grid
