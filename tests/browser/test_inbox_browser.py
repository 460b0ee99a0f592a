"""The message centre in real Chromium (issue 21): a grid worker's bell count rises when a case
is assigned to them, the inbox opens the case, and the count falls — on a phone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from fengqiao.db import db
from fengqiao.jobs.runner import run_record
from fengqiao.models import JobRecord
from fengqiao.testing.plugin import api_token, person_page, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

INCIDENT = {"summary": "揽月花园路灯不亮", "category": "市容环境", "description": "3幢前路灯连续三晚不亮，居民夜行不便。",
            "location": {"address": "揽月花园3幢"}}


def _run_outbox(app) -> None:
    """Run whatever the outbox still holds, in this process (the tests have no worker; a
    job the commit hook already ran is skipped)."""
    with app.app_context():
        for job_id in db.scalars(sa.select(JobRecord.id).where(JobRecord.status != "done")).all():
            run_record(job_id)


def test_bell_rises_on_assignment_and_falls_after_opening(app, demo, client, live_server, _chromium,
                                                          screenshot_dir):
    base = live_server
    reporter = {"Authorization": f"Bearer {api_token(client, 'zhangmin')}"}
    number = submit_form(client, "grid-incident", INCIDENT, headers=reporter)["case_number"]
    _run_outbox(app)

    worker = person_page(_chromium, base, "zhangmin", phone=True)
    bell = worker.locator("a.bell .bell-count")
    expect(bell).to_have_text("0")

    staff = {"Authorization": f"Bearer {api_token(client, 'shenli')}"}
    version = client.get(f"/api/v1/cases/{number}", headers=staff).get_json()["version"]
    assigned = client.post(f"/api/v1/cases/{number}/actions/assign", headers=staff,
                           json={"version": version, "fields": {"assignee": "zhangmin"}})
    assert assigned.status_code == 200, assigned.get_data(as_text=True)
    _run_outbox(app)

    worker.reload()
    expect(bell).to_have_text("1")
    worker.locator("a.bell").click()
    worker.wait_for_url(f"{base}/inbox")
    item = worker.locator("li.inbox-item", has_text=number)
    expect(item).to_have_class("card inbox-item is-unread")
    expect(item.get_by_text("已指派给您办理")).to_be_visible()
    worker.screenshot(path=str(screenshot_dir / "inbox-unread.png"), full_page=True)
    item.get_by_role("link", name=f"指派：事项 {number}").click()
    worker.wait_for_url(f"{base}/cases/{number}")
    expect(bell).to_have_text("0")
    worker.goto(f"{base}/inbox?unread=1")
    expect(worker.get_by_text("没有未读消息")).to_be_visible()
    worker.screenshot(path=str(screenshot_dir / "inbox-read.png"), full_page=True)

    desk = person_page(_chromium, base, "shenli")  # on a desk the bell sits after the menu
    desk.goto(f"{base}/inbox")
    expect(desk.locator("a.bell")).to_be_visible()
    expect(desk.get_by_text("暂无消息")).to_be_visible()
    desk.screenshot(path=str(screenshot_dir / "inbox-desktop.png"))
