"""A neighbour dispute from registration to 司法确认 and 结案, in real Chromium: 揽月社区's
social worker registers it; the community mediator screens it (排查研判); the secretary
accepts it (受理分流); the mediator mediates, records the structured agreement (parties,
terms, amount) — the case's clock stops there, met — applies for 司法确认, records the
court's ruling, does the 履行回访 and closes the case. Screenshots land in
test-artifacts/dispute-*.png."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import act_on_case, person_page

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

WORKER, MEDIATOR, SECRETARY = "shenli", "tangmin", "gaojie"  # 揽月社区 (demo_data.STAFF)
TERMS = "李志刚于2026年12月20日前赔偿钱芳吊顶修复费用3000元，并更换卫生间防水层。"






@pytest.mark.slow
def test_dispute_from_registration_to_judicial_confirmation(demo, live_server, _chromium, screenshot_dir):
    base = live_server
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()

    worker = person_page(_chromium, base, WORKER)
    worker.goto(f"{base}/forms/dispute-registration")
    worker.get_by_label("纠纷类型").select_option("邻里纠纷")
    worker.get_by_label("纠纷标题").fill("楼上漏水致楼下吊顶受损")
    worker.get_by_label("来源").select_option("当事人申请")
    worker.get_by_label("纠纷简要情况").fill("揽月花园5幢702卫生间漏水，602吊顶发霉脱落，双方就赔偿金额争执。")
    worker.get_by_label("涉及金额（元）").fill("5000")
    worker.get_by_label("中", exact=True).check()
    for i, (name, role) in enumerate([("钱芳", "申请人"), ("李志刚", "被申请人")]):  # 当事人, one row each
        worker.locator(f"#parties-{i}-name").fill(name)
        worker.locator(f"#parties-{i}-role").select_option(role)
    worker.get_by_label("各方同意调解").check()
    worker.screenshot(path=str(screenshot_dir / "dispute-1-registration.png"), full_page=True)
    worker.get_by_role("button", name="提交", exact=True).click()
    worker.wait_for_url(f"{base}/forms/dispute-registration/done")
    number = worker.locator(".case-number").inner_text()
    assert number.startswith("TJ-")

    mediator = person_page(_chromium, base, MEDIATOR)
    mediator.goto(f"{base}/queues")
    expect(mediator.get_by_role("link", name=number)).to_be_visible()
    act_on_case(mediator, base, number, "排查研判", comment="上门核实，双方情绪尚稳定",
         fields={"screening": "当事人申请后研判", "risk_level": "中", "mediable": True})

    secretary = person_page(_chromium, base, SECRETARY)
    act_on_case(secretary, base, number, "受理分流", fields={"mediation_body": "村（社区）人民调解委员会"})

    act_on_case(mediator, base, number, "开始调解")
    expect(mediator.locator("dl.facts").first).to_contain_text("唐敏")  # the mediator now holds it
    act_on_case(mediator, base, number, "记录调解会", comment="第一次调解：双方到场，对维修方案达成一致，赔偿金额仍有分歧")
    act_on_case(mediator, base, number, "达成协议", comment="第二次调解达成书面协议",
         fields={"form": "书面调解协议书", "parties": "钱芳\n李志刚", "terms": TERMS, "amount": "3000",
                 "performance_deadline": (today + timedelta(days=13)).isoformat()},
         shot=screenshot_dir / "dispute-2-agreement-form.png")
    facts = mediator.locator("dl.facts").first
    expect(facts.locator(".badge").first).to_have_text("已达成协议")
    expect(facts).to_contain_text("按期办结")  # the clock ended at the agreement, within 30 days
    expect(facts.locator(".clock-stopped")).to_be_visible()
    records = mediator.locator(".step-records")
    for words in ("协议当事人", "钱芳、李志刚", "协议内容", TERMS, "协议金额（元）", "3000", "书面调解协议书"):
        expect(records).to_contain_text(words)
    assert "3000.0" not in records.inner_text()
    agreed = mediator.locator("ol.timeline li[data-action=agree]")
    expect(agreed).to_contain_text("协议金额（元）：3000")  # the history carries the amount too
    expect(agreed).to_contain_text("协议当事人：钱芳、李志刚")
    mediator.screenshot(path=str(screenshot_dir / "dispute-3-agreed-sla-met.png"), full_page=True)

    act_on_case(mediator, base, number, "申请司法确认", comment="双方共同向法院申请司法确认",
         fields={"court": "云澜县人民法院", "applied_on": today.isoformat(), "joint": True})
    act_on_case(mediator, base, number, "登记司法确认结果", comment="法院裁定协议有效",
         fields={"result": "裁定确认有效", "ruled_on": today.isoformat(), "court_case_number": "(2026)浙0199民特123号"},
         shot=screenshot_dir / "dispute-4-confirmation-form.png")
    expect(mediator.locator("dl.facts").first).to_contain_text("履行回访期限")
    for words in ("受理法院", "云澜县人民法院", "确认结果", "裁定确认有效", "(2026)浙0199民特123号"):
        expect(records).to_contain_text(words)
    expect(mediator.locator("dl.facts").first).to_contain_text("按期办结")  # 司法确认 does not restart the clock

    act_on_case(mediator, base, number, "回访履行情况并结案", comment="回访：赔偿款已付清，防水层已更换",
         fields={"performance": "已履行", "satisfied": "满意"})
    facts = mediator.locator("dl.facts").first
    expect(facts.locator(".badge").first).to_have_text("已结案")
    expect(facts).to_contain_text("按期办结")
    history = mediator.locator("ol.timeline").inner_text()
    for step in ("提交", "排查研判", "受理分流", "开始调解", "记录调解会", "达成协议", "申请司法确认",
                 "登记司法确认结果", "回访履行情况并结案"):
        assert step in history, step
    text = mediator.locator("main").inner_text()
    for raw in ("confirmed", "written", "performed", "satisfied", "medium", "village", "'from'"):
        assert raw not in text, raw  # labels, never codes
    mediator.screenshot(path=str(screenshot_dir / "dispute-5-closed.png"), full_page=True)
