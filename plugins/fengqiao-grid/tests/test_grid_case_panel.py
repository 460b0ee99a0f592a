"""「地址与住户」 on the case page (issue 23 §5): a case linked to a standard address — spawned
from a visit, or submitted with the address in ``location.building`` / ``location.address`` —
shows the grid worker the address, its other open cases they may open (never another grid's
case they could not), and the room's moves and visits with names masked and no special-group
data. Viewers without ``grid.view`` see no panel; a switched-off plugin shows none and links
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.privacy import mask_name
from fengqiao.sdk.testing import csrf_token, login, submit_form
from fengqiao.sdk.workdays import today_local
from grid_helpers import GRID_A1, GRID_A2, LANYUE

from fengqiao_grid.models import GridAddress
from fengqiao_grid.models_cases import GridCaseAddress

pytestmark = pytest.mark.plugins("grid")
ROOM = "幸福小区3幢1单元602室"
OTHER_ROOM = "幸福小区3幢1单元502室"
PANEL = "case-p-grid-address"
VISITS = "/api/v1/p/grid/visits"


def incident(summary: str, **location) -> dict:
    return {"summary": summary, "category": "市容环境", "description": summary + "，请处理。",
            "location": {"address": "揽月花园", **location}}


def _page(app, username: str, number: str) -> tuple[int, str]:
    browser = app.test_client()
    login(browser, username)
    response = browser.get(f"/cases/{number}")
    return response.status_code, response.get_data(as_text=True)


def _panel(html: str) -> str:
    rest = html[html.index(f'<section id="{PANEL}"'):]
    return rest[:rest.index("</section>")]


def _links(app) -> dict[str, str]:
    with app.app_context():
        rows = db.execute(sa.select(GridCaseAddress.case_number, GridAddress.label)
                          .join(GridAddress, GridAddress.id == GridCaseAddress.address_id)).all()
        return dict(rows)


def _code(app, label: str) -> str:
    with app.app_context():
        return db.scalar(sa.select(GridAddress.code).where(GridAddress.label == label))


@pytest.fixture
def world(app, client, bearer, estate, add_person):
    """At 602: a household (one still there, one moved out), a visit that spawned a case, a
    特殊群体服务 visit and a special-group record; cases submitted at 602 by label, by code,
    one owned by grid 2 (not 张敏's to open), one closed, one at 502."""
    room = estate[ROOM]
    head = add_person(room)
    lodger = add_person(room, relation="tenant", residence_type="renting",
                        moved_in=(today_local() - timedelta(days=40)).isoformat())
    out = client.post(f"/api/v1/p/grid/people/{lodger}/move-out", headers=bearer("zhangmin"),
                      json={"moved_out": (today_local() - timedelta(days=10)).isoformat(), "reason": "租约到期"})
    assert out.status_code == 200, out.get_json()
    special = client.post(f"/api/v1/p/grid/people/{head}/special", headers=bearer("gaojie"),
                          json={"group": "correction", "note": "矫正期至明年"})
    assert special.status_code == 201, special.get_json()
    spawned = client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "purpose": "safety_check", "findings": "楼道堆放杂物", "spawn_case": True})
    assert spawned.status_code == 201, spawned.get_json()
    care = client.post(VISITS, headers=bearer("zhangmin"), json={
        "address": room, "purpose": "special_care", "findings": "帮扶谈话"})
    assert care.status_code == 201
    staff = bearer("shenli")
    numbers = {
        "spawned": spawned.get_json()["case_number"],
        "by_label": submit_form(client, "grid-incident", incident("602室门口电动车充电", address=ROOM), staff,
                                org=GRID_A1)["case_number"],
        "by_code": submit_form(client, "grid-incident", incident("602室漏水", building=_code(app, ROOM)), staff,
                               org=GRID_A1)["case_number"],
        "grid_2": submit_form(client, "grid-incident", incident("602室噪音（二网格受理）", address=ROOM), staff,
                              org=GRID_A2)["case_number"],
        "closed": submit_form(client, "grid-incident", incident("602室已办结的事", address=ROOM), staff,
                              org=GRID_A1)["case_number"],
        "elsewhere": submit_form(client, "grid-incident", incident("502室空调滴水", address=OTHER_ROOM), staff,
                                 org=GRID_A1)["case_number"],
        # a resident's 民生诉求 naming the room in its 事发地址 (the address picker's field), filed with
        # the community: 沈丽 may open it, 张敏 (grid worker) may not
        "resident": submit_form(client, "livelihood-request", {
            "request_type": "help", "summary": "602室楼上漏水", "content": "天花板渗水。", "caller_name": "陈德福",
            "caller_mobile": "13800138000", "address": f" {ROOM} "}, org=LANYUE)["case_number"],
        "unknown": submit_form(client, "grid-incident", incident("无标准地址的事", address="揽月花园南门"), staff,
                               org=GRID_A1)["case_number"],
    }
    with app.app_context():  # closed (不予受理): the panel lists open cases only
        from fengqiao.sdk.cases import perform_action

        perform_action(numbers["closed"], "reject", comment="重复上报")
        db.commit()
    return numbers


def test_spawned_and_submitted_cases_are_linked_to_their_address(app, world):
    links = _links(app)
    assert links[world["spawned"]] == ROOM  # the visit's room
    assert links[world["by_label"]] == ROOM and links[world["by_code"]] == ROOM  # location.address / .building
    assert links[world["grid_2"]] == ROOM and links[world["elsewhere"]] == OTHER_ROOM
    assert links[world["resident"]] == ROOM  # a form's top-level address field
    assert world["unknown"] not in links  # no standard address: no guess


def test_the_grid_worker_sees_the_address_its_other_open_cases_and_the_room_history(app, world):
    status, html = _page(app, "zhangmin", world["spawned"])
    assert status == 200 and f'<a href="#{PANEL}" data-tab>地址与住户</a>' in html
    panel = _panel(html)
    assert ROOM in panel and "/p/grid/addresses/" in panel  # the address, linked to its page
    listed = {n for n in world.values() if f'data-case="{n}"' in panel}
    assert listed == {world["by_label"], world["by_code"]}  # not itself, not closed, not 502's
    assert world["grid_2"] not in panel  # at the same room, but another grid's case 张敏 may not open
    assert world["resident"] not in panel  # the community's case: not 张敏's to open either
    # the room's history: moves with masked names, visits with purpose and worker
    assert panel.count('data-entry="in"') == 2 and panel.count('data-entry="out"') == 1
    assert mask_name("王秀英") in panel and "王秀英" not in panel
    assert "迁入（户主）" in panel and "迁出（租户）" in panel and "走访：安全隐患排查 · 张敏" in panel
    # no special-group data: no record, no 特殊群体服务 visit, no findings
    for words in ("社区矫正", "矫正期", "特殊群体服务", "帮扶谈话", "楼道堆放杂物"):
        assert words not in panel, words


def test_community_staff_see_every_grids_case_at_the_address(app, world):
    panel = _panel(_page(app, "shenli", world["by_label"])[1])
    assert f'data-case="{world["grid_2"]}"' in panel and f'data-case="{world["spawned"]}"' in panel
    assert f'data-case="{world["resident"]}"' in panel
    assert f'data-case="{world["by_label"]}"' not in panel


def test_viewers_without_grid_view_see_no_panel(app, world):
    status, html = _page(app, "lingdao", world["spawned"])  # county viewer: opens the case, no grid.view
    assert status == 200 and PANEL not in html and ROOM not in html.split("case-related")[-1]
    # the case page's own scope check comes first: another community's staff get the 404
    assert _page(app, "hanzhiming", world["spawned"])[0] == 404


def test_a_case_without_a_standard_address_has_no_panel(app, world):
    status, html = _page(app, "zhangmin", world["unknown"])
    assert status == 200 and PANEL not in html


def test_a_switched_off_plugin_shows_no_panel_and_links_nothing(app, client, world, bearer):
    admin = app.test_client()
    login(admin, "admin")
    token = csrf_token(admin, "/admin/plugins")
    assert admin.post("/admin/plugins/grid/switch", data={"enabled": "0", "csrf_token": token}).status_code == 302
    status, html = _page(app, "zhangmin", world["spawned"])
    assert status == 200 and PANEL not in html
    later = submit_form(client, "grid-incident", incident("停用期间上报", address=ROOM), bearer("shenli"),
                        org=GRID_A1)["case_number"]
    assert later not in _links(app)


def test_a_failing_grid_panel_shows_the_message(app, world):
    for panel in app.extensions["fengqiao.case_panels"]:
        if panel.plugin == "grid":
            panel.render = lambda case: db.execute(sa.text("SELECT * FROM grid_no_such_table"))
    status, html = _page(app, "zhangmin", world["spawned"])
    assert status == 200 and "该部分暂时无法显示" in _panel(html) and "grid_no_such_table" not in html


def test_more_than_ten_open_cases_lead_to_the_address_cases_page(app, client, world, bearer):
    staff = bearer("shenli")
    extra = [submit_form(client, "grid-incident", incident(f"602室第{i}件", address=ROOM), staff,
                         org=GRID_A1)["case_number"] for i in range(9)]
    panel = _panel(_page(app, "zhangmin", world["spawned"])[1])
    assert panel.count("data-case=") == 10 and "更多" in panel
    browser = app.test_client()
    login(browser, "zhangmin")
    with app.app_context():
        room = db.scalar(sa.select(GridAddress.id).where(GridAddress.label == ROOM))
    page = browser.get(f"/p/grid/addresses/{room}/cases")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for number in [*extra, world["spawned"], world["by_label"], world["by_code"]]:
        assert f'data-case="{number}"' in text, number
    assert world["grid_2"] not in text and world["elsewhere"] not in text
    # another grid's address is the uniform 404 (刘洋 works in grid 2)
    other = app.test_client()
    login(other, "liuyang")
    assert other.get(f"/p/grid/addresses/{room}/cases").status_code == 404
    assert other.get("/p/grid/addresses/987654/cases").status_code == 404


def test_the_migration_links_the_cases_already_spawned_from_visits(app, world):
    """``grid_0003``'s backfill, run on the tables as they are: the spawned case comes back with
    its visit's room, nothing else is linked, a visit without a case adds nothing."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fengqiao_grid" / "migrations" / "grid_0003_case_addresses.py"
    spec = importlib.util.spec_from_file_location("grid_0003_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with app.app_context():
        db.execute(sa.delete(GridCaseAddress))
        db.execute(sa.text(module.BACKFILL))
        db.commit()
    assert _links(app) == {world["spawned"]: ROOM}
