"""On a phone, a resident tracks their closed case, rates it 不满意 and asks to reopen it;
then reads a published case on the 回音壁."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import submit_form, walk_case

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

REQUEST = {"request_type": "help", "summary": "揽月花园5幢路灯不亮", "content": "5幢门口路灯坏了一周。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


@pytest.mark.slow
def test_resident_rates_dissatisfied_and_reopens_on_a_phone(client, bearer, live_server, phone_page,
                                                            screenshot_dir):
    base, page = live_server, phone_page
    receipt = submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    number, code = receipt["case_number"], receipt["tracking_code"]
    # a working note (not public), then 即时答复: its comment is the reply the resident reads
    walk_case(client, number, [("comment", {"comment": "沈丽：物业经理电话已记下，内部跟进"}),
                               ("answer", {"comment": "已通知物业维修，预计明天修复"})], bearer("shenli"))

    page.goto(f"{base}/track")
    page.get_by_label("事项编号").fill(number)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("[data-state]")).to_have_text("已结单")
    # the 即时答复 reply is shown before the resident rates
    expect(page.locator("[data-reply]")).to_contain_text("已通知物业维修，预计明天修复")
    expect(page.get_by_text("沈丽")).to_have_count(0)  # no staff names for residents
    expect(page.get_by_text("内部跟进")).to_have_count(0)  # nor working notes
    page.get_by_text("不满意", exact=True).click()
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价！")).to_be_visible()
    expect(page.get_by_text("对办理结果不满意？申请重办")).to_be_visible()

    page.get_by_role("button", name="申请重办").click()  # no reason yet: a message, nothing lost
    expect(page.get_by_text("请填写申请重办的理由")).to_be_visible()
    page.locator("textarea[name=reason]").fill("路灯还是不亮，晚上出行不安全")
    page.get_by_role("button", name="申请重办").click()
    page.wait_for_url(f"{base}/track?*")
    expect(page.get_by_text("已收到您的重办申请，当前状态：待受理")).to_be_visible()
    expect(page.locator("[data-state]")).to_have_text("待受理")
    timeline = page.locator("ol.timeline").inner_text()
    assert "居民申请重办" in timeline and "路灯还是不亮" in timeline
    expect(page.locator("textarea[name=reason]")).to_have_count(0)  # once only
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "track-reopened-phone.png"), full_page=True)


def test_board_on_a_phone(client, bearer, live_server, phone_page, screenshot_dir):
    base, page = live_server, phone_page
    number = submit_form(client, "livelihood-request", {**REQUEST, "summary": "请回电13800138000：路灯不亮"},
                         org="339901001001")["case_number"]
    walk_case(client, number, [("answer", {"comment": "已维修"})], bearer("shenli"))
    from fengqiao.testing.plugin import csrf_token, login

    login(client, "shenli")
    token = csrf_token(client, f"/cases/{number}/board")
    assert client.post(f"/cases/{number}/board",
                       data={"csrf_token": token, "summary": "社区已协调物业更换路灯"}).status_code == 302

    page.goto(f"{base}/track")
    page.get_by_role("link", name="回音壁").first.click()
    page.wait_for_url(f"{base}/board")
    item = page.locator(f'[data-number="{number}"]')
    expect(item).to_contain_text("138****8000")
    assert "13800138000" not in page.content() and "揽月社区" in item.inner_text()
    assert "社区已协调物业更换路灯" in item.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "board-phone.png"), full_page=True)
