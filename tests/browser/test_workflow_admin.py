"""An admin opens a workflow as a diagram, fixes a refused edit in the browser editor and
saves it as a new version, in real Chromium."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_admin_views_the_diagram_and_saves_an_edit(demo, live_server, page, screenshot_dir):
    browser_login(page, live_server, "admin")
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_text("系统管理", exact=True).click()  # the admin pages' group starts folded away
    nav.get_by_role("link", name="流程设计").click()
    page.wait_for_url(f"{live_server}/admin/workflows")
    page.get_by_role("link", name="网格事件").click()
    page.wait_for_url(f"{live_server}/admin/workflows/grid_incident")

    diagram = page.locator("svg.wf-diagram")
    expect(diagram).to_be_visible()
    titles = diagram.locator(".wf-state text").all_text_contents()
    assert {"待受理", "已受理", "已分派", "处置中", "已反馈", "挂账待审批", "挂账", "已结案", "不予受理"} == set(titles)
    expect(diagram.locator(".wf-final")).to_have_count(2)
    assert "受理" in diagram.locator('.wf-arrow[data-from="reported"][data-to="accepted"] text').text_content()
    # 挂账 needs the level above: 申请挂账 → 挂账待审批 → 批准挂账 → 挂账; un-parking is 恢复办理
    assert "申请挂账" in diagram.locator('.wf-arrow[data-from="in_progress"][data-to="park_requested"] text').text_content()
    assert "批准挂账" in diagram.locator('.wf-arrow[data-from="park_requested"][data-to="parked"] text').text_content()
    assert "恢复办理" in diagram.locator('.wf-arrow[data-from="parked"][data-to="in_progress"] text').text_content()
    box = diagram.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300  # drawn, not collapsed
    page.screenshot(path=str(screenshot_dir / "workflow-diagram.png"), full_page=True)

    page.get_by_role("link", name="编辑流程").click()
    page.wait_for_url(f"{live_server}/admin/workflows/grid_incident/edit")
    editor = page.get_by_label("JSON 定义")
    definition = json.loads(editor.input_value())
    for state in definition["workflow"]["states"]:
        if state["key"] == "parked":
            state["title"] = "挂账督办"
    definition["workflow"]["transitions"][0]["to"] = "nowhere"
    broken = json.dumps(definition, ensure_ascii=False, indent=2)
    editor.fill(broken)
    page.get_by_label("修改说明").fill("挂账改称挂账督办")
    page.get_by_role("button", name="保存为新版本").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("第 1 条流转「受理」引用了未定义的状态 nowhere")
    assert json.loads(editor.input_value()) == definition  # nothing typed is lost
    assert page.get_by_label("修改说明").input_value() == "挂账改称挂账督办"

    definition["workflow"]["transitions"][0]["to"] = "accepted"
    editor.fill(json.dumps(definition, ensure_ascii=False, indent=2))
    page.get_by_role("button", name="保存为新版本").click()
    page.wait_for_url(f"{live_server}/admin/workflows/grid_incident")
    expect(page.get_by_text("已保存为第 2 版")).to_be_visible()
    expect(page.locator("svg.wf-diagram .wf-state[data-state=parked]")).to_have_text("挂账督办")
    expect(page.locator("svg.wf-diagram .wf-state[data-state=park_requested]")).to_have_text("挂账待审批")

    page.get_by_role("link", name="版本历史").first.click()
    page.wait_for_url(f"{live_server}/admin/workflows/grid_incident/versions")
    expect(page.locator("tr[data-version='2']", has_text="挂账改称挂账督办")).to_be_visible()
    page.locator("tr[data-version='1']").get_by_role("link", name="查看").click()
    page.wait_for_url(f"{live_server}/admin/workflows/grid_incident/versions/1")
    expect(page.locator("svg.wf-diagram .wf-state[data-state=parked]")).to_have_text("挂账")
