"""The pages of the worker's day: 今天 lists households due a visit (care tags set the
frequency), the grid's open cases, overdue unit checks and the month's return; the visit form
takes a photo and spawns a case; refusals are one Chinese message per field (422); another
grid's visit and photo are a 404."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import csrf_token, login
from fengqiao.sdk.workdays import today_local
from grid_helpers import GRID_A1
from test_grid_visits import ROOM, png

from fengqiao_grid.models_visits import GridDisputeReturn, GridPatrol, GridVisit, GridVisitPhoto

pytestmark = [pytest.mark.plugins("grid"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def signed_in(app, demo):
    def _client(username: str):
        c = app.test_client()
        login(c, username)
        return c
    return _client


def test_today_lists_due_households_and_the_visit_form_spawns_a_case(app, client, bearer, estate, add_person,
                                                                     signed_in):
    elderly = add_person(estate[ROOM], moved_in="2020-01-01")
    client.post(f"/api/v1/p/grid/people/{elderly}/care", headers=bearer("zhangmin"), json={"care_tags": ["alone_elderly"]})
    add_person(estate["幸福小区3幢1单元101室"], moved_in="2020-01-01")
    client.post("/api/v1/p/grid/units", headers=bearer("zhangmin"), json={
        "address": estate["幸福小区3幢1单元101室"], "name": "幸福便利店", "category": "shop", "safety_due": "2024-01-01"})
    zhangmin = signed_in("zhangmin")
    page = zhangmin.get("/p/grid/today")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "待走访住户" in text and ROOM in text and "独居老人" in text
    assert text.index(ROOM) < text.index("幸福小区3幢1单元101室")  # the care household first
    assert "本月尚未填报" not in text and "提交本月排查情况" in text
    room = estate[ROOM]
    token = csrf_token(zhangmin, f"/p/grid/addresses/{room}/visit")
    form = {"csrf_token": token, "date": today_local().isoformat(), "purpose": "dispute_check",
            "findings": "楼上楼下漏水纠纷", "spawn_case": "1"}
    refused = zhangmin.post(f"/p/grid/addresses/{room}/visit", data={**form, "findings": "", "purpose": ""})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请填写走访情况" in body and 'data-field="purpose"' in body
    bad_photo = zhangmin.post(f"/p/grid/addresses/{room}/visit", content_type="multipart/form-data",
                              data={**form, "photos": (io.BytesIO(b"GIF89a nope"), "x.gif")})
    assert bad_photo.status_code == 422 and "照片应为 1MB 以内" in bad_photo.get_data(as_text=True)
    made = zhangmin.post(f"/p/grid/addresses/{room}/visit", content_type="multipart/form-data",
                         data={**form, "photos": (io.BytesIO(png()), "p.png")})
    assert made.status_code == 303
    shown = zhangmin.get(made.headers["Location"], follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        visit = db.scalar(sa.select(GridVisit))
        assert visit.case_number and visit.purpose == "dispute_check"
        photo_id = db.scalar(sa.select(GridVisitPhoto.id).where(GridVisitPhoto.visit_id == visit.id))
    assert visit.case_number in shown and "已上报网格事件" in shown and ROOM in shown
    photo = zhangmin.get(f"/p/grid/visits/{visit.id}/photos/{photo_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    # the household is no longer due; the case is among the grid's open cases; the unit is overdue
    text = zhangmin.get("/p/grid/today").get_data(as_text=True)
    assert visit.case_number in text and "幸福便利店" in text
    due = text.split('data-section="due"')[1].split("</section>")[0]
    assert ROOM not in due and "幸福小区3幢1单元101室" in due
    mine = text.split('data-section="mine"')[1].split("</section>")[0]
    assert ROOM in mine and f"已上报 {visit.case_number}" in mine
    # the index page's month figures and the room's visit list
    index = zhangmin.get("/p/grid/").get_data(as_text=True)
    assert 'data-section="metrics"' in index and "1 / 20 天" in index and "（1 / 2 户）" in index
    room_page = zhangmin.get(f"/p/grid/addresses/{room}").get_data(as_text=True)
    assert visit.case_number in room_page and "矛盾纠纷排查" in room_page
    # another grid's worker: 404 for the visit, its photo and the form
    liuyang = signed_in("liuyang")
    assert liuyang.get(f"/p/grid/visits/{visit.id}").status_code == 404
    assert liuyang.get(f"/p/grid/visits/{visit.id}/photos/{photo_id}").status_code == 404
    assert liuyang.get(f"/p/grid/addresses/{room}/visit").status_code == 404
    assert liuyang.get(f"/p/grid/today?grid={GRID_A1}").status_code == 404
    # the community's staff see the visit
    assert signed_in("shenli").get(f"/p/grid/visits/{visit.id}").status_code == 200


def test_return_patrol_and_diary_forms(app, signed_in):
    zhangmin = signed_in("zhangmin")
    token = csrf_token(zhangmin, "/p/grid/today")
    month = f"{today_local():%Y-%m}"
    base = {"csrf_token": token, "grid": GRID_A1, "month": month}
    assert zhangmin.post("/p/grid/returns", data={"grid": GRID_A1, "month": month, "zero_report": "1",
                                                  "confirmed": "1"}).status_code == 400  # no CSRF token
    refused = zhangmin.post("/p/grid/returns", data={**base, "zero_report": "1"})
    assert refused.status_code == 422 and "零报告须勾选确认" in refused.get_data(as_text=True)
    many = zhangmin.post("/p/grid/returns", data={**base, "items_count": "两"})
    assert many.status_code == 422
    done = zhangmin.post("/p/grid/returns", data={**base, "zero_report": "1", "confirmed": "1"})
    assert done.status_code == 303
    assert "已填报：零报告" in zhangmin.get("/p/grid/today").get_data(as_text=True)
    assert zhangmin.post("/p/grid/returns", data={**base, "items_count": "1", "items_text": "x"}).status_code == 409
    assert zhangmin.post("/p/grid/patrols", data={"csrf_token": token, "grid": GRID_A1, "route": ""}).status_code == 422
    assert zhangmin.post("/p/grid/patrols", data={"csrf_token": token, "grid": GRID_A1, "route": "沿河步道",
                                                  "findings": "护栏松动"}).status_code == 303
    assert zhangmin.post("/p/grid/diary", data={"csrf_token": token, "grid": GRID_A1, "text": "今天天气好"}
                         ).status_code == 303
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(GridDisputeReturn)) == 1
        assert db.scalar(sa.select(GridPatrol.route)) == "沿河步道"
