"""The whole path of a grid incident, in real Chromium, each person in their own browser:
a grid worker reports on a phone; the community accepts and dispatches it to 水务集团; the
department acknowledges and reports back; the grid worker verifies and closes; the resident
tracks it with the code and rates it; the history shows every step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _person(browser, base, username=None, phone=False):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    page = browser.new_context(locale="zh-CN", viewport=size).new_page()
    if username:
        browser_login(page, base, username)
    return page


def _act(page, base, number, button, comment=None, fields=None):
    page.goto(f"{base}/cases/{number}")
    form = page.locator("form.case-action", has=page.get_by_role("button", name=button, exact=True))
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    for name, value in (fields or {}).items():
        control = form.locator(f"[name=field_{name}]")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(f"{base}/cases/{number}")
    expect(page.get_by_text("已办理，当前状态")).to_be_visible()


def test_grid_incident_from_report_to_rating(demo, live_server, _chromium, screenshot_dir):
    base = live_server
    worker = _person(_chromium, base, "zhangmin", phone=True)
    worker.goto(f"{base}/forms/grid-incident")
    worker.get_by_label("事件标题").fill("湖滨路桥东路口窨井盖破损")
    worker.get_by_label("事件类别").select_option("安全隐患")
    worker.get_by_label("详细描述").fill("窨井盖碎裂，行人易踩空。")
    worker.get_by_label("地址").fill("湖滨路与桥东路交叉口")
    worker.get_by_role("button", name="提交", exact=True).click()
    worker.wait_for_url(f"{base}/forms/grid-incident/done")
    number = worker.locator(".case-number").inner_text()
    code = worker.locator(".tracking-code").inner_text()

    community = _person(_chromium, base, "shenli")
    community.goto(f"{base}/queues?view=unclaimed")
    expect(community.get_by_role("link", name=number)).to_be_visible()
    _act(community, base, number, "受理")
    _act(community, base, number, "分派至职能部门/下级单位", fields={"unit": "339901906"})

    department = _person(_chromium, base, "shuiwu")
    department.goto(f"{base}/queues")
    expect(department.get_by_role("link", name=number)).to_be_visible()
    _act(department, base, number, "签收")
    _act(department, base, number, "反馈处置结果", comment="已更换井盖", fields={"result": "更换新井盖并设置警示"})

    _act(worker, base, number, "核查通过并结案", comment="现场核查：井盖已更换")
    worker.goto(f"{base}/cases/{number}")
    timeline = worker.locator("ol.timeline li")
    expect(timeline).to_have_count(6)  # 提交, 受理, 分派, 签收, 反馈, 结案
    worker.screenshot(path=str(screenshot_dir / "case-closed-phone.png"), full_page=True)

    resident = _person(_chromium, base, phone=True)
    resident.goto(f"{base}/track")
    resident.get_by_label("事项编号").fill(number)
    resident.get_by_label("查询码").fill(code)
    resident.get_by_role("button", name="查询").click()
    expect(resident.get_by_text("已结案").first).to_be_visible()
    expect(resident.get_by_text("水务集团联络员")).to_have_count(0)  # no staff names for residents
    resident.get_by_text("满意", exact=True).click()
    resident.get_by_role("button", name="提交评价").click()
    expect(resident.get_by_text("感谢您的评价！")).to_be_visible()
    resident.screenshot(path=str(screenshot_dir / "track-rated-phone.png"), full_page=True)

    community.goto(f"{base}/cases/{number}")
    history = community.locator("ol.timeline").inner_text()
    for step in ["提交", "受理", "分派至职能部门/下级单位", "签收", "反馈处置结果", "核查通过并结案", "居民评价", "满意"]:
        assert step in history, step
