"""Both themes on a phone in real Chromium; 长者模式 must be larger and still fit the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.demo_data import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CONTRAST = """el => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let bg = el, back = 'rgba(0, 0, 0, 0)';
  while (bg && (back === 'rgba(0, 0, 0, 0)' || back === 'transparent')) {
    back = getComputedStyle(bg).backgroundColor; bg = bg.parentElement;
  }
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(back))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def _px(page, selector: str, prop: str) -> float:
    """A computed CSS length (``getComputedStyle``) of the first element matching ``selector``."""
    value = page.eval_on_selector(selector, "(el, prop) => getComputedStyle(el)[prop]", prop)
    return float(value.removesuffix("px"))


@pytest.mark.parametrize("app_config", [{"theme": "default"}, {"theme": "elder"}], ids=["default", "elder"])
def test_login_and_dashboard_on_a_phone(app_config, demo, live_server, phone_page, screenshot_dir):
    name = app_config["theme"]
    page = phone_page
    page.goto(f"{live_server}/login")
    button = page.get_by_role("button", name="登录")
    expect(button).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "login page scrolls sideways"
    body_font = _px(page, "body", "fontSize")
    button_height = _px(page, "form button[type=submit]", "height")
    if name == "elder":
        assert body_font >= 20, body_font
        assert button_height >= 52, button_height
        assert button.bounding_box()["height"] >= 52
        assert _px(page, "#username", "height") >= 52
        label = page.eval_on_selector(".brand", "el => getComputedStyle(el, '::after').content")
        assert "长者模式" in label
        assert page.eval_on_selector("p.muted", CONTRAST) >= 7, "grey text must reach 7:1"
        assert page.eval_on_selector("label[for=username]", CONTRAST) >= 7
        assert "必填" in page.eval_on_selector(".req", "el => getComputedStyle(el, '::after').content")
    else:
        assert body_font == 16
    page.screenshot(path=str(screenshot_dir / f"theme-{name}-login-phone.png"), full_page=True)

    page.get_by_label("用户名").fill("shenli")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    button.click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "dashboard scrolls sideways"
    if name == "elder":
        assert _px(page, "h1", "fontSize") >= 28
        menu = page.locator(".nav-toggle-label")
        assert menu.bounding_box()["height"] >= 52
        assert page.eval_on_selector(".stat span", CONTRAST) >= 7
    page.screenshot(path=str(screenshot_dir / f"theme-{name}-dashboard-phone.png"), full_page=True)

    page.get_by_text("菜单").click()
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "open menu scrolls sideways"
    if name == "elder":
        for link in nav.get_by_role("link").all():
            assert link.bounding_box()["height"] >= 52, link.inner_text()
        assert nav.get_by_role("button", name="退出").bounding_box()["height"] >= 52
    page.screenshot(path=str(screenshot_dir / f"theme-{name}-menu-phone.png"), full_page=True)
