"""A form designed in Excel whose 相关 the page's single-field reader cannot show by (ui.relevant,
fengqiao.forms.relevance), in real Chromium and both themes: a question appears live once a
multiple choice holds 医疗 *and* the age is in range, the submission is accepted, and once the
condition fails again the hidden question's old text is not posted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from fengqiao.db import db
from fengqiao.forms import store
from fengqiao.models import Submission

FORMS = Path(__file__).resolve().parents[1] / "forms"

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _relevance_definition() -> dict:
    """tests/forms/relevance_book.py, loaded by path (another folder, which imports its neighbour)."""
    sys.path.insert(0, str(FORMS))
    try:
        spec = importlib.util.spec_from_file_location("relevance_book_browser", FORMS / "relevance_book.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(FORMS))
    from fengqiao.forms.xlsform import import_workbook

    return import_workbook(module.relevance_workbook())


def _last_submission(app) -> dict:
    with app.app_context():
        return db.scalars(sa.select(Submission).order_by(Submission.id.desc())).first().data


@pytest.mark.parametrize("app_config", [{"theme": "default"}, {"theme": "elder"}], ids=["default", "elder"])
def test_a_question_follows_a_multiple_choice_and_a_range(app_config, demo, live_server, phone_page,
                                                          screenshot_dir):
    with demo.app_context():
        store.import_definition(_relevance_definition(), "test", publish_now=True)
        db.commit()
    page = phone_page
    url = f"{live_server}/forms/relevance-survey?org=339901001001"
    page.goto(url)
    note = page.get_by_label("就医需求说明")
    medical = page.get_by_label("医疗")
    age = page.get_by_label("年龄")
    expect(note).to_be_hidden()
    age.fill("65")
    expect(note).to_be_hidden()  # 医疗 not chosen yet
    medical.check()
    expect(note).to_be_visible()  # both hold: shown live
    age.fill("125")
    expect(note).to_be_hidden()  # out of range
    age.fill("65")
    expect(note).to_be_visible()
    employer = page.locator('input[name="members-0-m_employer"]')
    expect(employer).to_be_hidden()
    page.locator('input[name="members-0-m_name"]').fill("王建军")
    page.locator('select[name="members-0-m_working"]').select_option("yes")
    expect(employer).to_be_visible()  # a condition inside a repeat reads its own row
    employer.fill("县供销社")
    note.fill("每月复诊")
    page.screenshot(path=str(screenshot_dir / f"relevance-shown-{app_config['theme']}.png"), full_page=True)
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(f"{live_server}/forms/relevance-survey/done")
    data = _last_submission(demo)
    assert (data["medical_note"], data["needs"], data["age"]) == ("每月复诊", ["medical"], 65)
    assert data["members"] == [{"m_name": "王建军", "m_working": "yes", "m_employer": "县供销社"}]

    page.goto(url)
    age.fill("70")
    medical.check()
    note.fill("不应提交的旧内容")
    page.locator('input[name="members-0-m_name"]').fill("王")  # too short: 工作单位 stays hidden
    page.locator('select[name="members-0-m_working"]').select_option("yes")
    medical.uncheck()
    expect(note).to_be_hidden()
    expect(note).to_be_disabled()
    assert page.get_by_label("就医需求说明").input_value() == "不应提交的旧内容"  # kept on the page
    page.get_by_label("照护人").wait_for(state="hidden")  # 高龄补充 (age >= 80) is not shown
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(f"{live_server}/forms/relevance-survey/done")
    data = _last_submission(demo)
    assert "medical_note" not in data and data["age"] == 70
    assert data["members"] == [{"m_name": "王", "m_working": "yes"}]
