"""Bulk claim from the queue in real Chromium: staff ticks cases, the bar counts them and
offers what every ticked case allows, and the result page lists each case's outcome — here
one case a colleague claimed meanwhile fails, the others succeed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import api_token, browser_login, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

REQUEST = {"request_type": "help", "summary": "独居老人家中水管漏水", "content": "请社区帮忙联系维修。",
           "caller_name": "王秀英", "caller_mobile": "13912345678"}


def test_bulk_claim_two_cases(demo, client, live_server, page, screenshot_dir):
    numbers = [submit_form(client, "livelihood-request", {**REQUEST, "summary": f"{REQUEST['summary']}{i}"},
                           org="339901001001")["case_number"] for i in range(3)]
    first, second, third = numbers
    browser_login(page, live_server, "shenli")

    page.goto(f"{live_server}/queues?view=unclaimed")
    claim = page.get_by_role("button", name="批量认领")
    assert claim.is_disabled()  # nothing ticked yet
    page.get_by_label(f"选择 {first}").check()
    page.get_by_label(f"选择 {second}").check()
    expect(page.locator("#picked-count")).to_have_text("2")
    assert claim.is_enabled()

    # Searching by the reporter's phone tail finds them too (the page keeps the view).
    page.get_by_label("搜索").fill("5678")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(f"{live_server}/queues?view=unclaimed&q=5678*")
    expect(page.locator("tbody tr")).to_have_count(3)
    page.get_by_label(f"选择 {first}").check()
    page.get_by_label(f"选择 {second}").check()
    page.get_by_label(f"选择 {third}").check()

    # A colleague claims the third case meanwhile.
    taken = client.post(f"/api/v1/cases/{third}/actions/claim", json={"version": 1},
                        headers={"Authorization": f"Bearer {api_token(client, 'luojia')}"})
    assert taken.status_code == 200

    claim.click()
    page.wait_for_url(f"{live_server}/queues/bulk")
    expect(page.get_by_role("heading", name="批量办理结果")).to_be_visible()
    expect(page.get_by_text("成功 2 件，失败 1 件")).to_be_visible()
    for number in (first, second):
        expect(page.locator(f'tr[data-number="{number}"]').get_by_text("成功")).to_be_visible()
    failed = page.locator(f'tr[data-number="{third}"]')
    expect(failed.get_by_text("失败")).to_be_visible()
    expect(failed.get_by_text("已被他人认领")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "queue-bulk-result.png"), full_page=True)

    page.get_by_role("link", name="返回队列").click()
    page.wait_for_url(f"{live_server}/queues?view=unclaimed&q=5678*")
    page.goto(f"{live_server}/queues?view=mine")
    expect(page.get_by_role("link", name=first)).to_be_visible()
    expect(page.get_by_role("link", name=second)).to_be_visible()
    expect(page.get_by_role("link", name=third)).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "queue-mine.png"), full_page=True)
