"""The whole path of a grid incident, in real Chromium, each person in their own browser:
a grid worker reports on a phone; the community accepts it (a community cannot send to a
county department) and notes it for the street, whose dispatcher sends it to 水务集团; the
department acknowledges and reports back; the grid worker verifies and closes; the resident
tracks it with the code and rates it; the history shows every step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import act_on_case, person_page

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]






@pytest.mark.slow
def test_grid_incident_from_report_to_rating(demo, live_server, _chromium, screenshot_dir):
    base = live_server
    worker = person_page(_chromium, base, "zhangmin", phone=True)
    worker.goto(f"{base}/forms/grid-incident")
    worker.get_by_label("事件标题").fill("湖滨路桥东路口窨井盖破损")
    worker.get_by_label("事件类别").select_option("安全隐患")
    worker.get_by_label("详细描述").fill("窨井盖碎裂，行人易踩空。")
    worker.get_by_label("地址").fill("湖滨路与桥东路交叉口")
    worker.get_by_role("button", name="提交", exact=True).click()
    worker.wait_for_url(f"{base}/forms/grid-incident/done")
    number = worker.locator(".case-number").inner_text()
    code = worker.locator(".tracking-code").inner_text()

    community = person_page(_chromium, base, "shenli")
    community.goto(f"{base}/queues?view=unclaimed")
    expect(community.get_by_role("link", name=number)).to_be_visible()
    community.goto(f"{base}/cases/{number}")  # reported online: 受理 is the community's act
    expect(community.locator("dl.facts .badge").first).to_have_text("待受理")
    act_on_case(community, base, number, "受理")
    # the community may send only within its own area: 水务集团 is not on its list
    units = community.locator("form.case-action", has=community.get_by_role(
        "button", name="分派至职能部门/下级单位", exact=True)).locator("[name=field_unit] option")
    offered = [o.get_attribute("value") for o in units.all()]
    assert "339901001001" in offered and "339901906" not in offered, offered  # own area, not 水务集团
    community.locator("details.more-action summary", has_text="批注 / 答复群众").click()
    note = community.locator("form.case-action[data-action=comment]")
    note.locator("textarea[name=comment]").fill("井盖属水务集团管养，请街道派单")  # a working note
    note.get_by_role("button", name="批注 / 答复群众", exact=True).click()
    expect(community.get_by_text("已办理，当前状态")).to_be_visible()

    street = person_page(_chromium, base, "luojia")
    street.goto(f"{base}/queues")
    expect(street.get_by_role("link", name=number)).to_be_visible()
    act_on_case(street, base, number, "分派至职能部门/下级单位", fields={"unit": "339901906"})

    department = person_page(_chromium, base, "shuiwu")
    department.goto(f"{base}/queues")
    expect(department.get_by_role("link", name=number)).to_be_visible()
    act_on_case(department, base, number, "签收")
    act_on_case(department, base, number, "反馈处置结果", comment="已更换井盖", fields={"result": "更换新井盖并设置警示"})

    act_on_case(worker, base, number, "核查通过并结案", comment="现场核查：井盖已更换")
    worker.goto(f"{base}/cases/{number}")
    timeline = worker.locator("ol.timeline li")
    expect(timeline).to_have_count(7)  # 提交, 受理, 批注, 分派, 签收, 反馈, 结案
    worker.screenshot(path=str(screenshot_dir / "case-closed-phone.png"), full_page=True)

    resident = person_page(_chromium, base, phone=True)
    resident.goto(f"{base}/track")
    resident.get_by_label("事项编号").fill(number)
    resident.get_by_label("查询码").fill(code)
    resident.get_by_role("button", name="查询").click()
    expect(resident.get_by_text("已结案").first).to_be_visible()
    expect(resident.get_by_text("水务集团联络员")).to_have_count(0)  # no staff names for residents
    expect(resident.get_by_text("请街道派单")).to_have_count(0)  # nor working notes
    resident.get_by_text("满意", exact=True).click()
    resident.get_by_role("button", name="提交评价").click()
    expect(resident.get_by_text("感谢您的评价！")).to_be_visible()
    resident.screenshot(path=str(screenshot_dir / "track-rated-phone.png"), full_page=True)

    community.goto(f"{base}/cases/{number}")
    history = community.locator("ol.timeline").inner_text()
    for step in ["提交", "受理", "分派至职能部门/下级单位", "签收", "反馈处置结果", "核查通过并结案", "居民评价", "满意"]:
        assert step in history, step
