"""A staff member signs in, sees the Chinese dashboard and signs out, in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.demo_data import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_login_dashboard_logout(demo, live_server, page, screenshot_dir):
    page.goto(f"{live_server}/")  # residents' home: staff sign in from its link
    page.get_by_role("link", name="登录工作台").click()
    assert page.url.startswith(f"{live_server}/login")
    page.get_by_label("用户名").fill("shenli")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.get_by_text("揽月社区（社区/村）· 工作人员")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "dashboard-desktop.png"), full_page=True)
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{live_server}/login")
    expect(page.get_by_text("您已安全退出")).to_be_visible()


def test_wrong_password_on_a_phone(demo, live_server, phone_page, screenshot_dir):
    page = phone_page
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("shenli")
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert").filter(has_text="用户名或密码错误")).to_be_visible()
    assert page.get_by_label("用户名").input_value() == "shenli"  # nothing typed is lost
    page.screenshot(path=str(screenshot_dir / "login-error-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the login page must not scroll sideways on a phone"


def test_phone_menu_opens(demo, live_server, phone_page, screenshot_dir):
    page = phone_page
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav).not_to_be_visible()
    page.get_by_text("菜单").click()
    expect(nav).to_be_visible()
    nav.get_by_text("系统管理", exact=True).click()  # the admin pages' group starts folded away
    nav.get_by_role("link", name="组织机构").click()
    page.wait_for_url(f"{live_server}/admin/orgs")
    expect(page.get_by_role("link", name="揽月社区")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "orgs-phone.png"), full_page=True)
