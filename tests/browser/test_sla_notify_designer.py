"""The designer's 时限通知 pickers in real Chromium: ticking a recipient rewrites the JSON
definition at once (the script's port of cases/workflow_tables.py) exactly as the server reads
the same rows — an event ticked like the defaults is left out, unticking all declares [] —
and the saved draft carries it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from fengqiao.cases import case_types
from fengqiao.cases import workflow_tables as wt
from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _definition(page) -> dict:
    return json.loads(page.locator("textarea[name=definition]").input_value())


def _picker(page, event: str):
    picker = page.locator(f"details#f-sla-notify_{event}")
    picker.locator("summary").click()
    return picker


@pytest.mark.slow
def test_the_sla_pickers_update_the_definition_like_the_server(demo, live_server, page):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/workflows/proxy_service/design")
    base = _definition(page)
    assert base["sla"]["notify"] == {"due_soon": ["assignee", "unit_heads"], "overdue": ["assignee", "unit_heads"]}

    overdue = _picker(page, "overdue")
    overdue.get_by_label("事项所属单位", exact=True).check()
    expect(page.locator("textarea[name=definition]")).to_have_value(re.compile('"case_unit"'))
    first = _definition(page)  # the script's base for the next edit (as the server's is the posted JSON)
    assert first["sla"]["notify"]["overdue"] == ["assignee", "unit_heads", "case_unit"]
    overdue.get_by_label("单位负责人", exact=True).uncheck()
    due_soon = _picker(page, "due_soon")
    due_soon.get_by_label("承办人", exact=True).uncheck()
    due_soon.get_by_label("单位负责人", exact=True).uncheck()
    expect(due_soon.locator("[data-wfd-pick-summary]")).to_contain_text("不通知")
    escalated = _picker(page, "escalated")
    escalated.get_by_label("承办人", exact=True).check()

    script = _definition(page)
    entries = page.evaluate("() => Array.from(new FormData(document.querySelector('form[data-wfd]')).entries())")
    server, problems = wt.from_tables(wt.tables_from_form(MultiDict(entries)), first)
    assert problems == [] and script == server
    assert script["sla"]["notify"] == {"due_soon": [], "overdue": ["assignee", "case_unit"],
                                       "escalated": ["escalated_unit", "assignee"]}

    page.get_by_label("修改说明").fill("超期通知事项所属单位")
    page.locator("[data-wfd-save]").click()
    page.wait_for_url(f"{live_server}/admin/workflows/proxy_service/design")
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    with demo.app_context():
        saved = case_types.get_draft("proxy_service").definition
    assert saved["sla"]["notify"] == script["sla"]["notify"]
