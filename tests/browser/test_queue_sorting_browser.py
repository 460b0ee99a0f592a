"""Sorting, page numbers and saved filters on the staff queue in real Chromium (issue 22 §2):
a header sorts (and says so with aria-sort), the pager counts and numbers the pages, a filter
saved under a name comes back as a chip that applies it, and a phone can sort without headers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fengqiao.testing.plugin import person_page, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

LANYUE = "339901001001"
REQUEST = {"request_type": "help", "summary": "楼道灯坏了", "content": "三楼楼道灯不亮。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def cases(client, demo):
    return [submit_form(client, "livelihood-request", {**REQUEST, "summary": f"楼道灯坏了{i}"}, org=LANYUE)["case_number"]
            for i in range(3)]


def test_sort_pages_and_saved_filters_on_a_desk_and_a_phone(live_server, _chromium, screenshot_dir, cases):
    desk = person_page(_chromium, live_server, "shenli")
    desk.goto(f"{live_server}/queues?limit=2")
    expect(desk.locator(".pager-total")).to_have_text("共 3 件")
    expect(desk.locator(".pager [aria-current=page]")).to_have_text("1")
    number = desk.locator("th[data-col=number]")
    expect(number).not_to_have_attribute("aria-sort", "ascending")
    number.get_by_role("link", name="编号").click()
    desk.wait_for_url("**/queues?*sort=number*")
    expect(number).to_have_attribute("aria-sort", "ascending")
    expect(desk.locator("tbody tr").first).to_have_attribute("data-number", cases[0])
    number.get_by_role("link", name="编号").click()  # again: the other way round
    expect(number).to_have_attribute("aria-sort", "descending")
    expect(desk.locator("tbody tr").first).to_have_attribute("data-number", cases[2])
    desk.locator(".pager").get_by_role("link", name="下一页").click()
    expect(desk.locator(".pager [aria-current=page]")).to_have_text("2")
    expect(desk.locator("tbody tr")).to_have_count(1)
    expect(desk.locator("tbody tr").first).to_have_attribute("data-number", cases[0])

    desk.get_by_text("保存当前筛选").click()
    desk.get_by_label("筛选名称").fill("编号倒序")
    desk.locator(".saved-add").get_by_role("button", name="保存").click()
    chip = desk.locator(".saved-chip").filter(has_text="编号倒序")
    expect(chip).to_have_class("saved-chip is-current")
    expect(desk.locator(".alert-success")).to_contain_text("已保存筛选「编号倒序」")
    assert desk.evaluate(SIDEWAYS) <= 0
    desk.screenshot(path=str(screenshot_dir / "queue-sorted-saved-desktop.png"), full_page=True)

    desk.goto(f"{live_server}/queues?view=mine")
    expect(chip).not_to_have_class("saved-chip is-current")
    chip.get_by_role("link", name="编号倒序").click()
    desk.wait_for_url("**/queues?sort=-number")
    expect(desk.locator("th[data-col=number]")).to_have_attribute("aria-sort", "descending")
    chip.get_by_role("button", name="删除筛选：编号倒序").click()
    expect(desk.locator(".saved-chip")).to_have_count(0)

    phone = person_page(_chromium, live_server, "shenli", phone=True)
    phone.goto(f"{live_server}/queues")
    phone.get_by_label("排序").select_option("deadline")
    phone.locator(".queue-sort").get_by_role("button", name="应用").click()
    phone.wait_for_url("**/queues?*sort=deadline*")
    expect(phone.get_by_label("排序")).to_have_value("deadline")
    assert phone.evaluate(SIDEWAYS) <= 0, "no sideways scroll on a phone"
    phone.screenshot(path=str(screenshot_dir / "queue-sort-phone.png"), full_page=True)
