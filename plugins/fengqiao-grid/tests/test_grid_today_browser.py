"""In real Chromium on a 390 px phone: 张敏 (grid worker) opens 今天, taps 走访 beside an
独居老人's household, records the visit with a photo and spawns a case in the same tap; 沈丽
(揽月社区 staff) finds the case in the community's queue and its page names the address."""

from __future__ import annotations

import pytest
from fengqiao.sdk.testing import browser_login
from playwright.sync_api import expect
from test_grid_visits import ROOM, png

pytestmark = [pytest.mark.browser, pytest.mark.plugins("grid"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.mark.slow
def test_grid_worker_visits_with_a_photo_and_spawns_a_case_on_a_phone(app, client, bearer, estate, add_person,
                                                                       live_server, phone_page, page, tmp_path,
                                                                       screenshot_dir):
    elderly = add_person(estate[ROOM], moved_in="2020-01-01")
    client.post(f"/api/v1/p/grid/people/{elderly}/care", headers=bearer("zhangmin"), json={"care_tags": ["alone_elderly"]})
    photo = tmp_path / "louda.png"
    photo.write_bytes(png((40, 120, 200), (64, 48)))

    phone = phone_page
    browser_login(phone, live_server, "zhangmin")
    phone.goto(f"{live_server}/p/grid/today")
    due = phone.locator("[data-section='due']")
    expect(due).to_contain_text(ROOM)
    expect(due).to_contain_text("独居老人")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshot_dir / "grid-today-phone.png"), full_page=True)

    due.locator(f"[data-visit='{estate[ROOM]}']").click()
    form = phone.locator("form[data-form='visit']")
    form.get_by_label("走访事项").select_option("safety_check")
    form.get_by_label("走访情况").fill("楼道堆放纸箱，堵塞消防通道")
    form.get_by_label("照片（最多 3 张，每张 1MB 以内）").set_input_files(str(photo))
    form.get_by_label("同时上报网格事件（进入社区待受理队列）").check()
    form.get_by_role("button", name="保存走访").click()
    expect(phone.get_by_text("走访已登记，已上报网格事件")).to_be_visible()
    link = phone.locator("[data-case]")
    number = link.get_attribute("data-case")
    assert number and number.startswith("WG")
    expect(phone.locator(".visit-photos img")).to_have_count(1)
    assert phone.evaluate("document.querySelector('.visit-photos img').naturalWidth") > 0  # the photo is served
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshot_dir / "grid-visit-phone.png"), full_page=True)

    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    expect(page.get_by_text(number)).to_be_visible()
    page.goto(f"{live_server}/cases/{number}")
    expect(page.locator("body")).to_contain_text(ROOM)
    expect(page.locator("body")).to_contain_text("楼道堆放纸箱")
