"""A grid worker reports an incident on a phone: conditional fields, rows and errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_grid_worker_reports_on_a_phone(demo, live_server, phone_page, screenshot_dir):
    page = phone_page
    browser_login(page, live_server, "zhangmin")
    page.goto(f"{live_server}/forms/grid-incident")
    note = page.locator('[data-pointer="/handling_note"]')
    expect(note).not_to_be_visible()  # shown only once 已自行处置 is ticked
    page.get_by_label("事件标题").fill("揽月花园3幢楼道堆物堵塞消防通道")
    page.get_by_label("事件类别").select_option("安全隐患")
    page.get_by_label("详细描述").fill("3幢2单元楼道堆放纸箱和旧家具。")
    page.get_by_label("地址").fill("揽月花园3幢2单元")
    page.get_by_label("涉及人数").fill("两个")
    page.get_by_text("已自行处置", exact=True).click()
    expect(note).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "grid-incident-phone.png"), full_page=True)
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state()
    expect(page.get_by_text("应填写整数")).to_be_visible()
    expect(page.locator('[data-pointer="/handling_note"] .error')).to_have_text("此项为必填项")
    assert page.get_by_label("事件标题").input_value() == "揽月花园3幢楼道堆物堵塞消防通道"
    page.screenshot(path=str(screenshot_dir / "grid-incident-errors-phone.png"), full_page=True)
    page.get_by_label("涉及人数").fill("2")
    page.get_by_text("已自行处置", exact=True).click()  # untick: the note is no longer needed
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(f"{live_server}/forms/grid-incident/done")
    assert page.locator(".case-number").inner_text().startswith("WG-")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_rows_are_added_in_the_browser(demo, live_server, page):
    browser_login(page, live_server, "fengguoping")
    page.goto(f"{live_server}/forms/dispute-registration")
    rows = page.locator("fieldset.group .group-row")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="＋ 添加一项").click()
    expect(rows).to_have_count(3)  # added client-side, no reload
    expect(page.locator('input[name="parties-2-name"]')).to_have_count(1)
    rows.nth(2).get_by_role("button", name="删除此项").click()
    expect(rows).to_have_count(2)
