"""The staff sidebar in real Chromium (issue 22): grouped, one line per label, the current page
marked, folding to icons remembered on a desk, a drawer on a phone with no sideways scroll."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import person_page

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
              pytest.mark.plugins("points", "volunteer", "vanguard", "certificates", "agenda")]

# Every label and group title drawn in the sidebar: the height of its text (padding left out)
# against its line height, and whether it is cut (scrollWidth > clientWidth: an ellipsis shows).
LABELS = """() => [...document.querySelectorAll('#sidenav .nav-text, #sidenav div.nav-group-title')]
  .filter(el => el.getBoundingClientRect().height > 0)
  .map(el => {
    const style = getComputedStyle(el);
    const height = el.getBoundingClientRect().height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    return {text: el.textContent.trim(), height, line: parseFloat(style.lineHeight), cut: el.scrollWidth > el.clientWidth + 1};
  })"""
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


def _one_line_each(page, minimum: int) -> list[str]:
    labels = page.evaluate(LABELS)
    assert len(labels) >= minimum, labels
    wrapped = [label for label in labels if label["height"] > 1.4 * label["line"]]
    assert not wrapped, f"labels wrap: {wrapped}"
    return [label["text"] for label in labels if label["cut"]]


def test_sidebar_on_a_desk_and_a_phone(demo, live_server, _chromium, screenshot_dir):
    desk = person_page(_chromium, live_server, "admin")
    desk.set_viewport_size({"width": 1280, "height": 800})
    nav = desk.get_by_role("navigation", name="主导航")
    titles = nav.locator(".nav-group-title").all_inner_texts()
    assert titles[:3] == ["工作台", "事项", "统计"] and titles[-1] == "系统管理", titles
    assert not {"积分超市", "志愿服务"} & set(titles), titles  # one entry named like its module: no heading
    for module in ("积分超市", "志愿服务"):  # each module in a group of its own
        expect(nav.locator("div.nav-group").filter(has=desk.get_by_role("link", name=module))).to_have_count(1)
    expect(nav.get_by_role("link", name="工作台")).to_have_attribute("aria-current", "page")
    admin = nav.locator("details.nav-group-admin")
    expect(admin).not_to_have_attribute("open", "")  # 系统管理 starts folded away
    expect(nav.get_by_role("link", name="用户管理")).to_be_hidden()
    assert _one_line_each(desk, 10) == [], "a label is cut at 1280 px"
    assert desk.locator(".topbar").bounding_box()["height"] <= 57, "the sidebar sticks below a 56 px bar"
    assert desk.evaluate(SIDEWAYS) <= 0
    expect(desk.locator("header a.bell")).to_be_visible()
    expect(desk.locator("header").get_by_role("button", name="退出")).to_be_visible()
    desk.screenshot(path=str(screenshot_dir / "nav-home-desktop.png"))

    nav.get_by_role("link", name="事项队列").click()
    desk.wait_for_url(f"{live_server}/queues")
    queue = nav.get_by_role("link", name="事项队列")
    expect(queue).to_have_attribute("aria-current", "page")
    expect(queue).to_have_class("nav-link active")
    assert nav.locator("[aria-current]").count() == 1
    desk.screenshot(path=str(screenshot_dir / "nav-queue-desktop.png"))

    admin.locator("summary").click()  # open 系统管理: its labels fit too
    nav.get_by_role("link", name="用户管理").click()
    desk.wait_for_url(f"{live_server}/admin/users")
    expect(admin).to_have_attribute("open", "")  # open where its page is current
    assert _one_line_each(desk, 20) == []
    desk.goto(f"{live_server}/admin/users/new")  # a page under an entry marks the entry
    expect(nav.get_by_role("link", name="用户管理")).to_have_attribute("aria-current", "true")

    fold = desk.get_by_role("button", name="收起侧边栏")
    fold.click()
    expect(desk.get_by_role("button", name="展开侧边栏")).to_have_attribute("aria-expanded", "false")
    assert nav.bounding_box()["width"] < 80
    desk.reload()  # remembered in this browser
    assert nav.bounding_box()["width"] < 80
    expect(nav.get_by_role("link", name="事项队列")).to_be_visible()  # an icon, still named
    desk.screenshot(path=str(screenshot_dir / "nav-folded-desktop.png"))
    desk.get_by_role("button", name="展开侧边栏").click()
    assert nav.bounding_box()["width"] > 200
    desk.context.close()

    phone = person_page(_chromium, live_server, "admin", phone=True)
    nav = phone.get_by_role("navigation", name="主导航")
    expect(nav).to_be_hidden()
    assert phone.evaluate(SIDEWAYS) <= 0, "the staff home scrolls sideways"
    expect(phone.locator("header a.bell")).to_be_visible()
    expect(phone.locator("[data-nav-fold]")).to_be_hidden()  # folding is for a desk
    phone.screenshot(path=str(screenshot_dir / "nav-home-phone.png"), full_page=True)
    phone.get_by_text("菜单").click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="工作台")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("button", name="退出")).to_be_visible()
    assert _one_line_each(phone, 10) == []
    assert phone.evaluate(SIDEWAYS) <= 0, "the open drawer scrolls sideways"
    phone.screenshot(path=str(screenshot_dir / "nav-drawer-phone.png"), animations="disabled")
    phone.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    phone.get_by_text("菜单").click()
    nav.get_by_role("link", name="事项队列").click()
    phone.wait_for_url(f"{live_server}/queues")
    expect(nav).to_be_hidden()
    assert phone.evaluate(SIDEWAYS) <= 0, "the queue scrolls sideways"
    phone.screenshot(path=str(screenshot_dir / "nav-queue-phone.png"), full_page=True)
    phone.context.close()
