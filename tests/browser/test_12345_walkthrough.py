"""A 12345 order (民生诉求) from a resident's phone to 回访, in real Chromium, each person in
their own browser: the resident submits the public form (it names its accepting unit, the
county 12345 centre) and keeps the tracking code; the centre confirms the request and
dispatches it to 揽月社区; the community signs in within the 签收 limit shown on the case
page, contacts the caller and replies; the centre reviews and does the structured 回访; the
resident reads the reply on /track. Screenshots land in test-artifacts/12345-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import act_on_case, case_action_form, person_page

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CENTRE, COMMUNITY = "wangqing", "shenli"  # 县指挥中心（12345） and 揽月社区 (demo_data.STAFF)
LANYUE = "339901001001"
REPLY = "已联系物业更换楼道感应灯，3幢2单元各层照明已恢复。"










@pytest.mark.slow
def test_12345_order_from_phone_to_follow_up(demo, live_server, _chromium, screenshot_dir):
    base = live_server
    resident = person_page(_chromium, base, phone=True)
    resident.goto(f"{base}/forms/livelihood-request")
    # the form names who accepts it: no silent landing at the county root
    expect(resident.locator("p.landing")).to_contain_text("县指挥中心（12345）")
    resident.get_by_label("求助", exact=True).check()
    resident.get_by_label("紧急", exact=True).check()
    resident.get_by_label("诉求标题").fill("揽月花园3幢楼道灯不亮")
    resident.get_by_label("诉求内容").fill("3幢2单元1至6楼楼道灯坏了一周，老人晚上上下楼不安全，请尽快修理。")
    resident.get_by_label("事发地址").fill("揽月花园3幢2单元")
    resident.get_by_label("姓名").fill("周阿姨")
    resident.get_by_label("联系电话").fill("13905710123")
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    resident.screenshot(path=str(screenshot_dir / "12345-1-phone-form.png"), full_page=True)
    resident.get_by_role("button", name="提交", exact=True).click()
    resident.wait_for_url(f"{base}/forms/livelihood-request/done")
    number = resident.locator(".case-number").inner_text()
    code = resident.locator(".tracking-code").inner_text()
    assert number.startswith("GD-") and code
    resident.screenshot(path=str(screenshot_dir / "12345-2-phone-done.png"), full_page=True)

    # the centre sees it (its own unit), confirms the request type and urgency, dispatches
    centre = person_page(_chromium, base, CENTRE)
    centre.goto(f"{base}/queues")
    expect(centre.get_by_role("link", name=number)).to_be_visible()
    centre.goto(f"{base}/cases/{number}")
    expect(centre.locator("dd.case-type")).to_contain_text("民生诉求")
    dispatch = case_action_form(centre, "派单")
    units = dispatch.locator("[name=field_unit] option").all_inner_texts()
    assert "揽月社区（属地单位）" in units and "水务集团（职能部门）" in units, units
    # the reporter's urgency is provisional: the centre regrades a broken corridor light to 一般
    expect(dispatch.locator("[name=field_urgency] option:checked")).to_have_text("紧急")
    act_on_case(centre, base, number, "派单", comment="诉求属实，非紧急，请揽月社区签收办理",
         fields={"unit": "揽月社区（属地单位）", "request_type": "求助", "urgency": "一般"})
    expect(centre.locator("ol.timeline li[data-action=dispatch]")).to_contain_text("紧急 → 一般")
    facts = centre.locator("dl.facts").first
    expect(facts).to_contain_text("签收期限")  # the step limit the unit is held to
    expect(centre.locator(".clock-parts")).to_contain_text("起算")
    expect(centre.locator(".clock-parts")).to_contain_text("时限")
    centre.screenshot(path=str(screenshot_dir / "12345-3-dispatched-deadline.png"), full_page=True)

    # the community signs in, contacts the caller, replies
    community = person_page(_chromium, base, COMMUNITY)
    community.goto(f"{base}/queues")
    expect(community.get_by_role("link", name=number)).to_be_visible()
    community.goto(f"{base}/cases/{number}")
    expect(community.locator("dl.facts").first).to_contain_text("签收期限")
    community.screenshot(path=str(screenshot_dir / "12345-4-unit-to-sign.png"), full_page=True)
    act_on_case(community, base, number, "签收")
    expect(community.locator("dl.facts").first).to_contain_text("联系诉求人期限")
    act_on_case(community, base, number, "联系诉求人", comment="已电话联系周阿姨，约定今天下午上门查看",
         fields={"method": "电话", "reached": True})
    act_on_case(community, base, number, "办结反馈", comment="物业已更换感应灯", fields={"reply": REPLY})
    community.screenshot(path=str(screenshot_dir / "12345-5-replied.png"), full_page=True)

    # the centre reviews, then calls back: the structured 回访 closes the order
    act_on_case(centre, base, number, "审核通过", comment="答复内容完整")
    expect(centre.locator("dl.facts").first).to_contain_text("回访期限")
    act_on_case(centre, base, number, "回访并结单", comment="回访：周阿姨确认灯已修好",
         fields={"reached": True, "method": "电话", "solved": "已解决", "satisfied": "满意"},
         shot=screenshot_dir / "12345-6-follow-up-form.png")
    expect(centre.locator("dd .badge").first).to_have_text("已结单")
    records = centre.locator(".step-records").inner_text()
    for words in ("问题是否解决", "已解决", "诉求人是否满意", "满意"):
        assert words in records, words
    history = centre.locator("ol.timeline").inner_text()
    for step in ("提交", "派单", "签收", "联系诉求人", "办结反馈", "审核通过", "回访并结单"):
        assert step in history, step
    assert "揽月社区" in records and LANYUE not in records  # the unit dispatched to, by name
    for raw in ("satisfied", "solved", "urgent", "phone", "help", "'from'"):
        assert raw not in centre.locator("main").inner_text(), raw  # labels, never codes
    centre.screenshot(path=str(screenshot_dir / "12345-7-closed.png"), full_page=True)

    # the resident reads the reply with the tracking code, on the phone
    resident.goto(f"{base}/track")
    resident.get_by_label("事项编号").fill(number)
    resident.get_by_label("查询码").fill(code)
    resident.get_by_role("button", name="查询").click()
    expect(resident.get_by_text("已结单").first).to_be_visible()
    expect(resident.locator(".replies")).to_contain_text(REPLY)
    expect(resident.get_by_text("沈丽")).to_have_count(0)  # no staff names for residents
    resident.screenshot(path=str(screenshot_dir / "12345-8-track-phone.png"), full_page=True)
