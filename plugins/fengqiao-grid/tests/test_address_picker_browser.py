"""In real Chromium on a phone: a resident types part of their address into 民生诉求, picks the
standard address from the list with the keyboard, submits — and the case lands in that
address's grid, not at the county's 12345 centre."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from grid_helpers import GRID_A1
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.plugins("grid"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_a_resident_picks_a_standard_address_and_the_case_lands_in_its_grid(app, estate, live_server, phone_page,
                                                                            screenshot_dir):
    from fengqiao.models import Case, OrgUnit

    page = phone_page
    page.goto(f"{live_server}/forms/livelihood-request")
    landing = page.locator(".landing strong")
    expect(landing).to_have_text("县指挥中心（12345）")
    page.get_by_label("求助").check()
    page.get_by_label("诉求标题").fill("楼道灯坏了")
    page.get_by_label("诉求内容").fill("三楼楼道灯不亮一周了")
    address = page.get_by_role("combobox", name="事发地址")
    address.press_sequentially("幸福 1单元 60", delay=30)
    options = page.get_by_role("listbox", name="标准地址").get_by_role("option")
    expect(options).to_have_count(2)  # 601室 and 602室 of unit 1
    expect(options.nth(1)).to_contain_text("幸福小区3幢1单元602室 · 揽月花园1–8幢网格")
    address.press("ArrowDown")
    address.press("ArrowDown")
    expect(address).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    page.screenshot(path=str(screenshot_dir / "address-picker-phone.png"), full_page=True)
    address.press("Enter")  # picks; does not submit the form
    expect(address).to_have_value("幸福小区3幢1单元602室")
    expect(address).to_have_attribute("aria-expanded", "false")
    expect(landing).to_have_text("揽月花园1–8幢网格")  # who will accept it, as the server will decide
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    address.press("End")
    address.press_sequentially(" ")  # typing again reopens the search; Esc closes it
    expect(options.first).to_be_visible()
    address.press("Escape")
    expect(page.get_by_role("listbox", name="标准地址")).to_be_hidden()
    expect(landing).to_have_text("县指挥中心（12345）")  # edited: no longer the picked address
    address.fill("幸福小区3幢1单元602室")  # typed out in full, it is the standard address all the same

    page.get_by_label("姓名").fill("王秀英")
    page.get_by_label("联系电话").fill("13800138000")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="提交成功")).to_be_visible()
    number = page.locator(".case-number").inner_text()
    with app.app_context():
        org = db.scalar(sa.select(OrgUnit.code).join(Case, Case.org_id == OrgUnit.id).where(Case.number == number))
    assert org == GRID_A1
