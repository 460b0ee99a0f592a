"""The residents' home at 1280 px and on a phone, and the grid worker's phone home, in real
Chromium (screenshots in test-artifacts/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
              pytest.mark.plugins("certificates", "points", "vanguard", "volunteer")]


def test_public_home_on_desk_and_phone_and_the_grid_workers_button(demo, live_server, page, phone_page,
                                                                    screenshot_dir):
    for shot, browser in (("home-public-1280.png", page), ("home-public-390.png", phone_page)):
        browser.goto(f"{live_server}/")
        for name in ("我要上报/办事", "查询办理进度", "回音壁", "积分超市", "证明事项清单"):
            expect(browser.locator("a.home-entry", has_text=name)).to_be_visible()
        expect(browser.get_by_role("link", name="登录工作台")).to_be_visible()
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), shot
        browser.screenshot(path=str(screenshot_dir / shot), full_page=True)
    browser_login(phone_page, live_server, "zhangmin")
    button = phone_page.get_by_role("link", name="上报事件")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["y"] + box["height"] <= 844 and box["height"] >= 60  # big, and on the first screen
    phone_page.screenshot(path=str(screenshot_dir / "home-grid-worker-390.png"))
    button.click()
    expect(phone_page.get_by_role("heading", name="网格事件上报")).to_be_visible()
