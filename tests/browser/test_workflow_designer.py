"""The no-code workflow designer in real Chromium: an admin adds a state and a transition
through the tables (no JSON typed), the diagram redraws live, the draft is saved and the JSON
tab shows it; and the script reads the tables exactly as the server does
(static/workflow_designer.js against cases/workflow_tables.py on the same rows)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from fengqiao.cases import case_types
from fengqiao.cases import workflow_tables as wt
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

FILE = json.loads((CORE_DEFINITIONS / "grid_incident.casetype.json").read_text(encoding="utf-8"))
N = len(FILE["workflow"]["transitions"])  # index of the first added transition


def _definition(page) -> dict:
    return json.loads(page.locator("textarea[name=definition]").input_value())


def _pick(page, name: str, label: str) -> None:
    """Open a checkbox picker (从 / 谁可以办理 …) and tick one choice by its Chinese label."""
    picker = page.locator(f"details#f-{name}")
    if picker.get_attribute("open") is None:
        picker.locator("summary").click()
    picker.get_by_label(label, exact=True).check()


@pytest.mark.slow
def test_admin_adds_a_state_and_a_transition_without_json(demo, live_server, page, phone_page, screenshot_dir):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/workflows/grid_incident/design")
    expect(page.get_by_role("tab", name="表格")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-json")).to_be_hidden()
    expect(page.locator("[data-wfd-diagram] svg.wf-diagram")).to_be_visible()

    page.locator("button[name=add_state]").click()  # the script adds the row: no page load
    new_state = page.locator("[data-wfd-row=states]").last
    expect(new_state.locator("input[name$=-key]")).to_have_value("state1")
    new_state.locator("input[name$=-title]").fill("待复查")
    expect(page.locator("select[name=initial] option[value=state1]")).to_have_text("待复查")

    page.locator("button[name=add_transition]").click()
    page.locator(f"input[name=transitions-{N}-title]").fill("提交复查")
    _pick(page, f"transitions-{N}-from", "处置中")
    page.locator(f"select[name=transitions-{N}-to]").select_option(label="待复查")
    _pick(page, f"transitions-{N}-roles", "工作人员")
    page.locator("button[name=add_transition]").click()
    page.locator(f"input[name=transitions-{N + 1}-title]").fill("复查完成")
    _pick(page, f"transitions-{N + 1}-from", "待复查")
    page.locator(f"select[name=transitions-{N + 1}-to]").select_option(label="已结案")
    _pick(page, f"transitions-{N + 1}-roles", "网格员")

    # the diagram is redrawn by the server, 300 ms after the last edit
    expect(page.locator("[data-wfd-diagram] .wf-state[data-state=state1]")).to_have_text("待复查")
    expect(page.locator('[data-wfd-diagram] .wf-arrow[data-from="in_progress"][data-to="state1"]')).to_contain_text("提交复查")
    definition = _definition(page)
    assert definition["workflow"]["states"][-1] == {"key": "state1", "title": "待复查"}
    assert definition["workflow"]["transitions"][N] == {
        "name": "step1", "title": "提交复查", "from": ["in_progress"], "to": "state1", "roles": ["staff"]}
    assert definition["workflow"]["transitions"][:N] == FILE["workflow"]["transitions"]
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "workflow-designer-desktop.png"), full_page=True)
    tables_box = page.locator(".wfd-main").bounding_box()
    diagram_box = page.locator(".wfd-side").bounding_box()
    assert diagram_box["x"] > tables_box["x"] + tables_box["width"] - 1  # side by side at 1280 px

    page.get_by_label("修改说明").fill("增加复查")
    page.locator("[data-wfd-save]").click()
    page.wait_for_url(f"{live_server}/admin/workflows/grid_incident/design")
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    with demo.app_context():
        saved = case_types.get_draft("grid_incident").definition
    assert saved == definition
    page.get_by_role("tab", name="高级（JSON）").click()
    expect(page.locator("textarea[name=definition]")).to_be_visible()
    assert _definition(page) == saved and "待复查" in page.locator("textarea[name=definition]").input_value()

    # the JSON tab edits the tables too
    edited = json.loads(json.dumps(saved))
    edited["workflow"]["states"][-1]["title"] = "复查中"
    page.locator("textarea[name=definition]").fill(json.dumps(edited, ensure_ascii=False, indent=2))
    page.get_by_role("tab", name="表格").click()
    expect(page.locator("[data-wfd-row=states]").last.locator("input[name$=-title]")).to_have_value("复查中")
    expect(page.locator("[data-wfd-diagram] .wf-state[data-state=state1]")).to_have_text("复查中")

    browser_login(phone_page, live_server, "admin")
    phone_page.goto(f"{live_server}/admin/workflows/grid_incident/design")
    expect(phone_page.locator("[data-wfd-row=states]").first).to_be_visible()
    main, side = phone_page.locator(".wfd-main").bounding_box(), phone_page.locator(".wfd-side").bounding_box()
    assert side["y"] >= main["y"] + main["height"] - 1 and main["width"] <= 390  # stacked on a phone
    phone_page.screenshot(path=str(screenshot_dir / "workflow-designer-phone.png"), full_page=False)


# The same rows, read by the script and by the server: they must give the same definition.
CHANGES = [
    ("states-0-key", "submitted"),  # a renamed state is followed into from/to and initial
    ("states-5-pauses", "y"), ("states-6-pauses", ""),  # 暂停计时 moves from 挂账 to 挂账待审批
    ("transitions-0-fields-0-options", "normal=一般\nurgent=紧急"),
    ("transitions-7-fields-0-kind", "textarea"),
    ("transitions-1-step_title", "复核"), ("transitions-1-step_amount", "1.5"),
    ("transitions-1-step_unit", "working_hours"),
    ("transitions-3-roles=leader", "y"), ("transitions-3-comment", "y"),
    ("sla-default_amount", "4"), ("sla-tiers-1-amount", "二"),
    ("sla-escalation-0-level", "street"),
]


@pytest.mark.slow
def test_the_script_reads_the_tables_as_the_server_does(demo, live_server, page):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/workflows/grid_incident/design")
    base = _definition(page)
    entries = page.evaluate("""(changes) => {
        const form = document.querySelector("form[data-wfd]");
        for (const [target, value] of changes) {
          const [name, option] = target.split("=");
          const el = form.querySelector(option ? `[name="${name}"][value="${option}"]` : `[name="${name}"]`);
          if (el.type === "checkbox") el.checked = value === "y"; else el.value = value;
        }
        const entries = Array.from(new FormData(form).entries());
        form.querySelector('[name="states-0-key"]').dispatchEvent(new Event("input", {bubbles: true}));
        return entries;
    }""", [list(c) for c in CHANGES])
    server, problems = wt.from_tables(wt.tables_from_form(MultiDict(entries)), base)
    assert [p for p, _, _ in problems] == ["/sla/tiers/1/amount"]  # 二 is no number: left out by both
    script = _definition(page)
    assert script == server
    assert script["workflow"]["initial"] == "submitted"
    by_name = {t["name"]: t for t in script["workflow"]["transitions"]}
    assert "pause_sla" in by_name["request_park"]["effects"]
    assert by_name["report_back"]["fields"]["properties"]["result"] == {
        "type": "string", "title": "处置结果", "maxLength": 2000, "x-widget": "textarea"}
    assert by_name["dispatch"]["roles"] == ["staff", "supervisor", "leader"]
    assert by_name["dispatch"]["guards"] == ["comment_required"]
