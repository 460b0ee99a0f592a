"""A form designed in Excel, in real Chromium: the admin uploads the workbook on /admin/forms,
sees the draft's difference, publishes it, and a resident fills the published form."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import person_page


def _household_workbook() -> bytes:
    """The 40-question survey of tests/forms/xlsform_book.py (loaded by path: another folder)."""
    spec = importlib.util.spec_from_file_location(
        "xlsform_book_browser", Path(__file__).resolve().parents[1] / "forms" / "xlsform_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.household_workbook()


pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_admin_uploads_a_workbook_and_a_resident_sees_the_form(demo, live_server, _chromium, tmp_path,
                                                               screenshot_dir):
    source = tmp_path / "household.xlsx"
    source.write_bytes(_household_workbook())
    admin = person_page(_chromium, live_server, "admin")
    admin.goto(f"{live_server}/admin/forms")
    section = admin.locator("section").filter(has=admin.get_by_role("heading", name="从 Excel 工作簿导入"))
    expect(section.get_by_role("link", name="下载模板工作簿（含示例）")).to_be_visible()
    section.get_by_label("工作簿（.xlsx）").set_input_files(str(source))
    section.get_by_role("button", name="导入工作簿").click()
    admin.wait_for_url(f"{live_server}/admin/forms/household-survey/edit")
    expect(admin.get_by_text("已从工作簿导入「入户调查」为草稿")).to_be_visible()
    admin.screenshot(path=str(screenshot_dir / "xlsform-imported-draft.png"))
    admin.get_by_role("button", name="发布第 1 版").click()
    admin.wait_for_url(f"{live_server}/admin/forms/household-survey")
    expect(admin.get_by_text("已发布第 1 版").first).to_be_visible()

    resident = _chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    resident.goto(f"{live_server}/forms/household-survey?org=339901001001")
    expect(resident.get_by_label("户主姓名")).to_be_visible()
    party_date = resident.get_by_label("入党日期")
    expect(party_date).to_be_hidden()  # 相关: shown only for 党员
    resident.get_by_label("是否党员").select_option("yes")
    expect(party_date).to_be_visible()
    resident.screenshot(path=str(screenshot_dir / "xlsform-resident-form.png"), full_page=True)
    resident.context.close()
