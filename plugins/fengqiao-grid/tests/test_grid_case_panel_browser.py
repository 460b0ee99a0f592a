"""In real Chromium on a 390 px phone: 张敏 opens a case spawned from a visit; 「地址与住户」 is one
more tab of the case page's ARIA tabs (arrow keys, the hash reopens it) listing the room's other
open case and its masked household; no page scrolls sideways."""

from __future__ import annotations

import pytest
from fengqiao.sdk.testing import browser_login, submit_form
from grid_helpers import GRID_A1
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.plugins("grid"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
ROOM = "幸福小区3幢1单元602室"


@pytest.mark.slow
def test_the_address_panel_is_a_tab_of_the_case_page_on_a_phone(app, client, bearer, estate, add_person,
                                                                 live_server, phone_page, screenshot_dir):
    add_person(estate[ROOM])
    spawned = client.post("/api/v1/p/grid/visits", headers=bearer("zhangmin"), json={
        "address": estate[ROOM], "purpose": "safety_check", "findings": "楼道堆放杂物", "spawn_case": True})
    assert spawned.status_code == 201, spawned.get_json()
    other = submit_form(client, "grid-incident", {
        "summary": "602室门口电动车充电", "category": "安全隐患", "description": "飞线充电，请处理。",
        "location": {"address": ROOM}}, bearer("shenli"), org=GRID_A1)["case_number"]

    page = phone_page
    browser_login(page, live_server, "zhangmin")
    page.goto(f"{live_server}/cases/{spawned.get_json()['case_number']}")
    tab = page.get_by_role("tab", name="地址与住户")
    expect(tab).to_have_attribute("aria-selected", "false")
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel", name="地址与住户")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("link", name=ROOM)).to_be_visible()
    expect(panel.get_by_role("link", name=other)).to_be_visible()
    expect(panel).to_contain_text("迁入（户主） · 王**")
    expect(panel).not_to_contain_text("王秀英")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "grid-case-panel-phone.png"), full_page=True)

    page.keyboard.press("ArrowLeft")  # the tabs widget still walks every tab
    expect(page.get_by_role("tab", name="关联事项")).to_have_attribute("aria-selected", "true")
    expect(panel).to_be_hidden()
    page.reload()  # the hash the tab wrote is kept: 关联事项 after a reload; the panel's own hash reopens it
    page.goto(page.url.split("#")[0] + "#case-p-grid-address")
    page.reload()
    expect(page.get_by_role("tabpanel", name="地址与住户")).to_be_visible()
