"""An admin makes a new matter type in the browser: 新建事项类型 → a refused form that keeps what
was typed → the draft → 发布, in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_admin_creates_and_publishes_a_new_type(demo, live_server, page, screenshot_dir):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/workflows")
    page.get_by_role("link", name="新建事项类型").click()
    page.wait_for_url(f"{live_server}/admin/workflows/new")
    page.get_by_label("名称").fill("电动车违规充电隐患")
    page.get_by_label("编号前缀").fill("WG")  # taken by 网格事件
    page.get_by_label("适用范围").select_option(label="　澄湖街道（339901001）")
    page.get_by_label("标识").fill("ebike_charging")
    page.get_by_role("button", name="创建并开始设计").click()
    expect(page.get_by_text("编号前缀 WG 已被「网格事件」使用，请换一个")).to_be_visible()
    assert page.get_by_label("名称").input_value() == "电动车违规充电隐患"
    page.screenshot(path=str(screenshot_dir / "case-type-new-refused.png"), full_page=True)

    page.get_by_label("编号前缀").fill("DC")
    page.get_by_role("button", name="创建并开始设计").click()
    page.wait_for_url(lambda url: "/admin/workflows/ebike_charging" in url)
    page.goto(f"{live_server}/admin/workflows/ebike_charging")
    banner = page.locator("[data-draft]")
    expect(banner).to_contain_text("草稿（未发布）")
    page.screenshot(path=str(screenshot_dir / "case-type-draft.png"), full_page=True)
    page.get_by_label("发布说明").fill("试运行")
    page.get_by_role("button", name="发布", exact=True).click()
    page.wait_for_url(f"{live_server}/admin/workflows/ebike_charging")
    expect(page.get_by_text("已发布为第 1 版")).to_be_visible()
    page.goto(f"{live_server}/admin/workflows")
    row = page.locator("tr[data-case-type='ebike_charging']")
    expect(row).to_contain_text("第 1 版")
    expect(row).to_contain_text("澄湖街道")
    page.screenshot(path=str(screenshot_dir / "case-type-list.png"), full_page=True)
