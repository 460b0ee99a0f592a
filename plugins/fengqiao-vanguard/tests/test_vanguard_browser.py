"""In Chromium: the branch secretary approves an event in the scoring queue, and the member's
own score page (on a phone) shows the new score."""

from __future__ import annotations

import pytest
from fengqiao.sdk.testing import browser_login
from playwright.sync_api import expect
from vanguard_helpers import new_member, propose

pytestmark = [pytest.mark.browser, pytest.mark.plugins("vanguard"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_secretary_approves_and_the_member_sees_the_new_score(client, bearer, live_server, page, phone_page,
                                                               screenshot_dir):
    base = live_server
    member_id = new_member(client, bearer("shenli"), name="张建华", username="zhangmin")
    propose(client, bearer("luojia"), member_id, "service", 12.5, reason="组织楼道清洁，服务群众")

    browser_login(phone_page, base, "zhangmin")  # the member, before the review
    phone_page.goto(f"{base}/p/vanguard/me")
    expect(phone_page.locator("[data-score]")).to_have_text("0")
    expect(phone_page.locator("[data-status=pending]")).to_be_visible()

    browser_login(page, base, "shenli")  # the branch secretary
    page.get_by_role("link", name="先锋指数").first.click()
    page.get_by_role("link", name="审核队列（1）").click()
    row = page.locator("tr[data-event]")
    assert "组织楼道清洁，服务群众" in row.inner_text()
    row.get_by_placeholder("意见（不通过时必填）").fill("情况属实")
    row.get_by_role("button", name="通过", exact=True).click()
    expect(page.get_by_text("没有待审核的积分事项。")).to_be_visible()
    page.goto(f"{base}/p/vanguard/members/{member_id}")
    expect(page.locator("[data-score]")).to_have_text("12.5")
    page.screenshot(path=str(screenshot_dir / "vanguard-member-secretary.png"), full_page=True)

    phone_page.reload()
    expect(phone_page.locator("[data-score]")).to_have_text("12.5")
    expect(phone_page.locator("[data-status=approved]")).to_be_visible()
    assert "shenli 审核通过：情况属实" in phone_page.locator("[data-status=approved]").inner_text()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.screenshot(path=str(screenshot_dir / "vanguard-member-phone.png"), full_page=True)
