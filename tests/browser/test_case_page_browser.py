"""The case page in real Chromium (issue 22 §3): tabs driven by the keyboard and remembered in
the URL hash, the history as a timeline, the header's actions opening their forms, a compact
header on a 390×844 phone without sideways scroll, and the print view's 打印 button and QR.
Screenshots: test-artifacts/case-desktop.png, case-phone.png, case-print.png."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import api_token, browser_login, person_page, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

REQUEST = {"request_type": "help", "summary": "湖滨路烧烤店夜间油烟噪音扰民",
           "content": "每晚十点后油烟和噪音很大，影响老人休息。", "caller_name": "陈德福",
           "caller_mobile": "13800138000", "id_card": "339901195203140111"}
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"
AXE = Path(os.environ.get("FENGQIAO_AXE_JS")
           or Path(__file__).resolve().parents[2] / ".cache/axe/node_modules/axe-core/axe.min.js")
SERIOUS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))"""
FOCUS_SHOWN = """() => { const s = getComputedStyle(document.activeElement);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'; }"""


def _case(client) -> str:
    """An open case of 揽月社区 with a few history rows (submitted, two working notes)."""
    headers = {"Authorization": f"Bearer {api_token(client, 'shenli')}"}
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    for note in ("已电话联系反映人，约定明晚现场查看", "已通知城管中队夜间巡查"):
        version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
        answer = client.post(f"/api/v1/cases/{number}/actions/comment", headers=headers,
                             json={"version": version, "comment": note})
        assert answer.status_code == 200, answer.get_data(as_text=True)
    return number


def test_tabs_by_keyboard_timeline_and_header_actions(demo, client, live_server, _chromium, screenshot_dir):
    number = _case(client)
    desk = person_page(_chromium, live_server, "shenli")
    blocked = []
    desk.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    desk.goto(f"{live_server}/cases/{number}")

    tabs = desk.get_by_role("tablist", name="事项内容")
    detail, history = tabs.get_by_role("tab", name="详情"), tabs.get_by_role("tab", name=re.compile("流转记录"))
    related = tabs.get_by_role("tab", name=re.compile("关联事项"))
    expect(detail).to_have_attribute("aria-selected", "true")
    expect(desk.get_by_role("tabpanel", name="详情")).to_be_visible()
    expect(desk.locator("#case-history-panel")).to_be_hidden()  # panels renamed: the hash names the tab
    expect(desk.locator("dl.facts .badge").first).to_have_text("待受理")  # the facts as before, in 详情

    detail.focus()
    desk.keyboard.press("ArrowRight")
    expect(history).to_be_focused()
    expect(history).to_have_attribute("aria-selected", "true")
    expect(desk.locator("#case-history-panel")).to_be_visible()
    expect(desk.locator("#case-detail-panel")).to_be_hidden()
    assert desk.evaluate("location.hash") == "#case-history"
    assert desk.evaluate(FOCUS_SHOWN), "the focused tab shows its focus"
    desk.keyboard.press("End")
    expect(related).to_be_focused()
    expect(desk.get_by_role("tabpanel", name=re.compile("关联事项"))).to_contain_text("暂无关联事项")
    desk.keyboard.press("ArrowRight")  # wraps round to the first
    expect(detail).to_be_focused()
    desk.keyboard.press("ArrowLeft")
    expect(related).to_be_focused()
    desk.keyboard.press("Home")
    expect(detail).to_be_focused()
    desk.keyboard.press("ArrowRight")
    desk.keyboard.press("Tab")  # from the tab into its panel
    assert desk.evaluate("document.activeElement.id") == "case-history-panel"
    expect(history).to_have_attribute("tabindex", "0")
    expect(detail).to_have_attribute("tabindex", "-1")  # one stop for the tab list

    items = desk.locator("ol.timeline li")
    expect(items).to_have_count(3)  # 提交, two notes
    expect(items.nth(1)).to_contain_text("已电话联系反映人")
    expect(items.nth(0)).to_contain_text("提交")
    dot = desk.evaluate("""() => { const s = getComputedStyle(document.querySelector('ol.timeline li .tl-item'), '::before');
        return {radius: s.borderRadius, width: s.width}; }""")
    line = desk.evaluate("getComputedStyle(document.querySelector('ol.timeline'), '::before').width")
    assert dot == {"radius": "50%", "width": "12px"} and line == "2px", (dot, line)  # a dot on a vertical line
    desk.reload()  # the tab is remembered in the hash, and the page opens at its header
    expect(history).to_have_attribute("aria-selected", "true")
    expect(items.first).to_be_visible()
    assert desk.evaluate("window.scrollY") == 0 and desk.evaluate("document.activeElement === document.body")

    header = desk.locator("header.case-head")
    first = header.locator("a[data-open-action]").first
    target = first.get_attribute("href")
    first.click()  # a primary action: its form, with the focus in it
    assert desk.evaluate("document.activeElement.closest('form') && document.activeElement.closest('form').id") \
        == target[1:]
    header.locator("details.case-more summary").click()
    header.get_by_role("link", name="批注 / 答复群众").click()  # a step behind 更多: opened for it
    expect(desk.locator("details.more-action", has_text="批注 / 答复群众")).to_have_attribute("open", "")
    assert desk.evaluate("document.activeElement.closest('form').dataset.action") == "comment"
    expect(header.locator("details.case-more")).not_to_have_attribute("open", "")
    more = header.locator("details.case-more summary")
    more.focus()
    desk.keyboard.press("Enter")  # by keyboard: open, then Escape closes it and keeps the focus there
    expect(header.locator("details.case-more")).to_have_attribute("open", "")
    desk.keyboard.press("Escape")
    expect(header.locator("details.case-more")).not_to_have_attribute("open", "")
    expect(more).to_be_focused()
    desk.goto(f"{live_server}/cases/{number}")
    desk.screenshot(path=str(screenshot_dir / "case-desktop.png"), full_page=True)
    desk.keyboard.press("Tab")  # 跳到正文
    desk.keyboard.press("Enter")
    desk.keyboard.press("Tab")  # the first stop in the page: the skip link to 办理
    expect(desk.get_by_role("link", name="跳到办理")).to_be_focused()
    desk.keyboard.press("Enter")
    assert desk.evaluate("document.activeElement.id") == "handle"
    assert desk.evaluate(SIDEWAYS) <= 0
    assert not blocked, blocked
    desk.context.close()


def test_header_on_a_phone_and_the_print_view(demo, client, live_server, _chromium, screenshot_dir):
    number = _case(client)
    phone = person_page(_chromium, live_server, "shenli", phone=True)
    phone.goto(f"{live_server}/cases/{number}")
    header = phone.locator("header.case-head")
    expect(header.locator(".case-head-number")).to_have_text(number)
    expect(header).to_contain_text("待受理")
    expect(header.locator("a[data-open-action]").first).to_be_in_viewport()  # the next step without scrolling
    box = header.bounding_box()
    assert box["height"] < 520 and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert phone.evaluate(SIDEWAYS) <= 0, "the case page scrolls sideways on a phone"
    header.locator("details.case-more summary").click()  # the menu opens in place on a phone
    menu = header.locator(".case-more-list")
    expect(menu.get_by_role("link", name="批注 / 答复群众")).to_be_in_viewport()
    assert menu.bounding_box()["x"] >= 0 and menu.bounding_box()["x"] + menu.bounding_box()["width"] <= 390
    assert phone.evaluate(SIDEWAYS) <= 0
    header.locator("details.case-more summary").click()
    phone.get_by_role("tab", name=re.compile("流转记录")).click()
    expect(phone.locator("ol.timeline li").first).to_be_visible()
    assert phone.evaluate(SIDEWAYS) <= 0
    phone.get_by_role("tab", name="详情").click()
    phone.screenshot(path=str(screenshot_dir / "case-phone.png"), full_page=True)
    phone.context.close()

    desk = person_page(_chromium, live_server, "shenli")
    desk.goto(f"{live_server}/cases/{number}")
    desk.locator("header.case-head").get_by_role("link", name="打印").click()
    desk.wait_for_url(f"{live_server}/cases/{number}/print")
    qr = desk.get_by_role("img", name=re.compile("二维码"))
    expect(qr).to_be_visible()
    assert desk.evaluate("img => img.complete && img.naturalWidth > 0", qr.element_handle())
    expect(desk.locator(".print-head")).to_contain_text("澄湖街道")
    expect(desk.locator(".print-history tbody tr")).to_have_count(3)
    assert "13800138000" not in desk.content()
    desk.evaluate("() => { window.print = () => { window.printed = true; }; }")
    desk.get_by_role("button", name="打印").click()
    assert desk.evaluate("window.printed === true"), "打印 calls window.print()"
    desk.emulate_media(media="print")
    expect(desk.locator(".print-tools")).to_be_hidden()
    expect(desk.locator("#sidenav")).to_be_hidden()
    desk.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    assert desk.evaluate(SIDEWAYS) <= 0
    desk.screenshot(path=str(screenshot_dir / "case-print.png"), full_page=True)
    desk.context.close()


@pytest.mark.slow
def test_every_tab_and_the_print_view_pass_axe(demo, client, live_server, _chromium):
    """axe-core on each tab (the widget's roles and states included) and on the print view."""
    if not AXE.is_file():
        pytest.skip(f"axe-core not found at {AXE} (`make browser` installs it with npm)")
    number = _case(client)
    context = _chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.add_init_script(path=str(AXE))
    desk = context.new_page()
    browser_login(desk, live_server, "shenli")
    found = {}
    for tab in ("case-detail", "case-history", "case-files", "case-related"):
        desk.goto(f"{live_server}/cases/{number}")
        desk.locator(f'a[href="#{tab}"]').click()
        expect(desk.locator(f"#{tab}-panel")).to_be_visible()
        found[tab] = desk.evaluate(SERIOUS)
    desk.locator("header.case-head details.case-more summary").click()  # the open 更多操作 menu too
    found["more"] = desk.evaluate(SERIOUS)
    desk.goto(f"{live_server}/cases/{number}/print")
    found["print"] = desk.evaluate(SERIOUS)
    context.close()
    assert not any(found.values()), found
