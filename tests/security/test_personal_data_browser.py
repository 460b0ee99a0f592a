"""The reveal button on the case page, in real Chromium: masked by default, one field shown
in full after a reason, masked again on the next visit; a viewer gets no button."""

from __future__ import annotations

import pytest

from fengqiao.testing.plugin import browser_login, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

ID, MOBILE = "339901195203140111", "13800138000"
# 求助: a 投诉 would hide the caller from shenli (ui.hidden_from_handler)
REQUEST = {"request_type": "help", "summary": "烧烤店油烟扰民", "content": "每晚十点后油烟很大。",
           "caller_name": "陈德福", "caller_mobile": MOBILE, "id_card": ID}


def test_reveal_one_field_with_a_reason(demo, client, live_server, page, _chromium, screenshot_dir):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/cases/{number}")
    row = page.locator('dd[data-pointer="/caller_mobile"]')
    assert "138****8000" in row.inner_text() and MOBILE not in page.content()
    row.get_by_text("查看完整信息").click()
    row.get_by_role("button", name="查看").click()  # no reason: the browser asks for one first
    assert page.url.endswith(f"/cases/{number}")
    row.get_by_label("查看理由").fill("电话回访反映人")
    row.get_by_role("button", name="查看").click()
    page.wait_for_url(f"{live_server}/cases/{number}/reveal")
    shown = page.locator('dd.revealed[data-pointer="/caller_mobile"]')
    assert MOBILE in shown.inner_text() and "已记入审计日志" in shown.inner_text()
    assert ID not in page.content()  # only the one field
    page.screenshot(path=str(screenshot_dir / "personal-data-reveal.png"), full_page=True)
    page.goto(f"{live_server}/cases/{number}")
    assert MOBILE not in page.content()

    viewer = _chromium.new_context(locale="zh-CN").new_page()
    browser_login(viewer, live_server, "lingdao")
    viewer.goto(f"{live_server}/cases/{number}")
    assert "138****8000" in viewer.content() and viewer.get_by_text("查看完整信息").count() == 0
    viewer.context.close()
