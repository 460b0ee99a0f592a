"""The designer's 办理后通知 picker in real Chromium: ticking a recipient rewrites the JSON
definition at once (the script's port of cases/workflow_tables.py), as the server reads the same
rows (a new choice goes after those already listed), and the saved draft carries it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from fengqiao.cases import case_types
from fengqiao.cases import workflow_tables as wt
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.testing.plugin import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

FILE = json.loads((CORE_DEFINITIONS / "grid_incident.casetype.json").read_text(encoding="utf-8"))
NAMES = [t["name"] for t in FILE["workflow"]["transitions"]]


def _definition(page) -> dict:
    return json.loads(page.locator("textarea[name=definition]").input_value())


@pytest.mark.slow
def test_ticking_a_recipient_updates_the_definition_like_the_server(demo, live_server, page):
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/workflows/grid_incident/design")
    base = _definition(page)
    verify_fail, accept = NAMES.index("verify_fail"), NAMES.index("accept")
    assert base["workflow"]["transitions"][verify_fail]["notify"] == ["assignee"]

    page.locator(f"#f-transitions-{accept} details[data-wfd-more] > summary").click()
    picker = page.locator(f"details#f-transitions-{accept}-notify")
    picker.locator("summary").click()
    picker.get_by_label("事项所属单位", exact=True).check()
    expect(page.locator("textarea[name=definition]")).to_have_value(re.compile('"case_unit"'))
    first = _definition(page)  # the script's base for the next edit (as the server's is the posted JSON)
    assert first["workflow"]["transitions"][accept]["notify"] == ["case_unit"]
    picker.get_by_label("承办人", exact=True).check()
    expect(picker.locator("[data-wfd-pick-summary]")).to_contain_text("承办人")

    script = _definition(page)
    entries = page.evaluate("() => Array.from(new FormData(document.querySelector('form[data-wfd]')).entries())")
    server, problems = wt.from_tables(wt.tables_from_form(MultiDict(entries)), first)
    assert problems == [] and script == server
    assert script["workflow"]["transitions"][accept]["notify"] == ["case_unit", "assignee"]  # new ones after
    assert script["workflow"]["transitions"][verify_fail]["notify"] == ["assignee"]  # untouched rows kept

    page.get_by_label("修改说明").fill("受理后通知承办人和所属单位")
    page.locator("[data-wfd-save]").click()
    page.wait_for_url(f"{live_server}/admin/workflows/grid_incident/design")
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    with demo.app_context():
        saved = case_types.get_draft("grid_incident").definition
    assert saved["workflow"]["transitions"][accept]["notify"] == ["case_unit", "assignee"]
