"""In real Chromium on a 390 px phone: 张敏 (grid worker) creates an estate's rooms, opens a
room, registers a resident (a wrong ID number first: the message beside the field) and sees
them masked; no page scrolls sideways."""

from __future__ import annotations

import pytest
from fengqiao.sdk.testing import browser_login
from grid_helpers import id_card, with_wrong_check
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.plugins("grid"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_grid_worker_builds_addresses_and_registers_a_resident_on_a_phone(app, demo, live_server, phone_page,
                                                                          screenshot_dir):
    page = phone_page
    browser_login(page, live_server, "zhangmin")
    page.goto(f"{live_server}/p/grid/")
    form = page.locator("form[data-form='bulk']")
    form.get_by_label("小区/自然村").fill("幸福小区")
    form.get_by_label("楼栋号").fill("3")
    form.get_by_label("每栋单元数").fill("2")
    form.get_by_label("层数").fill("6")
    form.get_by_label("每层户数").fill("2")
    form.get_by_role("button", name="生成").click()
    expect(page.get_by_text("已生成 28 个地址节点")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name="幸福小区3幢", exact=True).click()
    page.get_by_role("link", name="幸福小区3幢1单元", exact=True).click()
    page.get_by_role("link", name="602室").click()
    expect(page.get_by_role("heading", name="幸福小区3幢1单元602室")).to_be_visible()

    page.get_by_text("登记人员（迁入）").click()
    add = page.locator("[data-section='add-person']")
    add.get_by_label("姓名").fill("张三丰")
    add.get_by_label("身份证号").fill(with_wrong_check(id_card(1)))
    add.get_by_label("与户主关系").select_option("head")
    add.get_by_label("居住类型").select_option("registered")
    add.get_by_role("button", name="登记").click()
    expect(page.locator("[data-section='add-person'] [data-field='id_card'] .error")).to_have_text("身份证号码校验位不正确")
    add = page.locator("[data-section='add-person']")
    add.get_by_label("身份证号").fill(id_card(1))
    add.get_by_label("独居老人").check()
    add.get_by_role("button", name="登记").click()
    expect(page.get_by_text("已登记")).to_be_visible()
    row = page.locator("[data-person]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("张**")
    expect(row).not_to_contain_text(id_card(1))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "grid-room-phone.png"), full_page=True)
    row.get_by_role("link", name="张**").click()
    expect(page.locator("[data-section='facts']")).to_contain_text("独居老人")
    page.screenshot(path=str(screenshot_dir / "grid-person-phone.png"), full_page=True)
