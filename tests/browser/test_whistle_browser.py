"""吹哨报到 in real Chromium: the street's leader picks the departments to summon on the case page, a
department checks in from its own browser, and the page shows who has checked in; a bad
merge target shows its Chinese field error and keeps what was typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import api_token, person_page, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

RAISE = {"summary": "澄湖老街违章搭建阻塞消防通道", "address": "澄湖老街12号", "category": "enforcement",
         "description": "商户在消防通道搭建雨棚，社区多次劝说无效，需执法与住建部门联合处置。"}


@pytest.mark.slow
def test_summon_departments_and_check_in(demo, client, live_server, _chromium, screenshot_dir):
    base = live_server
    token = api_token(client, "shenli")
    number = submit_form(client, "whistle-request", RAISE, headers={"Authorization": f"Bearer {token}"})["case_number"]

    leader = person_page(_chromium, base, "zhoujian")  # the street's leader approves 吹哨
    leader.goto(f"{base}/cases/{number}")
    form = leader.locator("form.case-action[data-action=approve]")
    form.get_by_label("综合行政执法局").check()
    form.get_by_label("住建局").check()
    form.get_by_role("button", name="审批同意并吹哨").click()
    leader.wait_for_url(f"{base}/cases/{number}")
    expect(leader.get_by_text("已办理，当前状态：已吹哨，待报到")).to_be_visible()
    expect(leader.locator("tr[data-unit='339901902']").get_by_text("未报到")).to_be_visible()

    department = person_page(_chromium, base, "zhifa")
    department.goto(f"{base}/cases/{number}")
    department.locator("details.more-action", has_text="报到").locator("summary").click()
    report = department.locator("form.case-action[data-action=report_in]")
    report.locator("textarea[name=comment]").fill("执法中队二十分钟内到场")
    report.get_by_role("button", name="报到").click()
    department.wait_for_url(f"{base}/cases/{number}")
    assert "未报到" not in department.locator("tr[data-unit='339901902']").inner_text()
    department.screenshot(path=str(screenshot_dir / "whistle-checked-in.png"), full_page=True)

    street = person_page(_chromium, base, "luojia")  # the dispatcher merges duplicates
    street.goto(f"{base}/cases/{number}")
    street.locator("details.more-action", has_text="合并重复件").locator("summary").click()
    merge = street.locator("form.case-action[data-action=merge]")
    merge.locator("[name=field_into]").fill("CS-19990101-000001")
    merge.locator("textarea[name=comment]").fill("与老街消防通道一案重复")
    merge.get_by_role("button", name="合并重复件").click()
    error = street.locator("form.case-action[data-action=merge] .error")
    expect(error).to_contain_text("找不到可并入的事项")
    assert merge.locator("textarea[name=comment]").input_value() == "与老街消防通道一案重复"
