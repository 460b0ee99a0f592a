"""A 走访 recorded without a network, in real Chromium on a 390 px phone (issue 24 §1): 张敏
opens 今天 online, loses the signal, opens a household's visit page from the phone's copy,
records the visit with a photo and 上报事件; it waits in 待上传 over a reload, is sent when the
network is back — twice, as a phone that lost the first answer would — and exactly one visit
and one case exist, the case in the community's queue with the address. A visit the server
refuses shows its error on the field, is fixed on its page and sent again; its camera-sized
photo was made small enough on the phone to pass the server's 1 MB limit."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import browser_login
from fengqiao.sdk.workdays import today_local
from playwright.sync_api import expect
from test_grid_visits import ROOM, png

from fengqiao_grid.models_visits import GridVisit, GridVisitPhoto

pytestmark = [pytest.mark.browser, pytest.mark.plugins("grid"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CACHED = """async (path) => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) return false;
  return !!(await caches.match(location.origin + path, {cacheName: 'fq-pages'}));
}"""


def _camera_photo() -> bytes:
    """A PNG of about 1.9 MB (noise does not compress), as big as a phone camera's."""
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3)).save(out, "PNG")
    return out.getvalue()


def _visits(app, room: int) -> list[GridVisit]:
    with app.app_context():
        return list(db.scalars(sa.select(GridVisit).where(GridVisit.address_id == room)))


def _today_kept(phone, base: str, room: int) -> None:
    """今天 opened online: the worker keeps it, 待上传 and the visit page of each listed household."""
    phone.goto(f"{base}/p/grid/today")
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()  # now controlled by the worker, which is asked to keep the pages
    for path in (f"/p/grid/addresses/{room}/visit", "/p/grid/today", "/outbox"):
        phone.wait_for_function(CACHED, arg=path, timeout=15000)


@pytest.mark.slow
def test_a_visit_recorded_offline_is_sent_once_when_back_online(app, client, bearer, estate, add_person, live_server,
                                                                 phone_page, screenshot_dir):
    room = estate[ROOM]
    elderly = add_person(room, moved_in="2020-01-01")
    client.post(f"/api/v1/p/grid/people/{elderly}/care", headers=bearer("zhangmin"), json={"care_tags": ["alone_elderly"]})
    phone = phone_page
    browser_login(phone, live_server, "zhangmin")
    _today_kept(phone, live_server, room)

    phone.context.set_offline(True)
    phone.reload()  # 今天 from the phone's copy
    phone.locator(f"[data-visit='{room}']").click()
    form = phone.locator("form[data-form='visit']")
    expect(form).to_contain_text(ROOM)
    form.get_by_label("走访事项").select_option("safety_check")
    form.get_by_label("照片（最多 3 张，每张 1MB 以内）").set_input_files(
        files=[{"name": "楼道.png", "mimeType": "image/png", "buffer": png((40, 120, 200), (64, 48))}])
    form.get_by_label("同时上报网格事件（进入社区待受理队列）").check()
    form.get_by_role("button", name="保存走访").click()
    # the server's rule, checked on the phone: nothing is queued
    expect(form.locator("[data-field='findings'] .error")).to_have_text("上报网格事件时请填写走访情况（发现的问题）")
    assert phone.evaluate("FqOutbox.list(FqOffline.user).then(items => items.length)") == 0
    form.get_by_label("走访情况").fill("楼道堆放纸箱，堵塞消防通道")
    form.get_by_role("button", name="保存走访").click()
    expect(phone.locator(".offline-notice")).to_contain_text("已保存到待上传，联网后自动提交")
    expect(form.locator(".error")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshot_dir / "grid-visit-offline.png"), full_page=True)
    assert _visits(app, room) == []

    phone.get_by_role("link", name="查看待上传").click()
    item = phone.locator("[data-outbox-item]")
    expect(item).to_have_count(1)
    phone.reload()  # nothing is lost over a reload
    expect(item).to_have_count(1)
    expect(item.locator("[data-outbox-state]")).to_have_text("待上传")
    expect(item).to_contain_text(f"登记走访：{ROOM}")
    expect(item.locator(".outbox-preview")).to_have_text("安全隐患排查")
    expect(item.locator("time")).to_contain_text("含 1 个附件")
    # a phone that lost the first answer sends the same item again (same Idempotency-Key)
    phone.evaluate("""FqOutbox.list(FqOffline.user).then(([item]) => {
      const twin = Object.assign({}, item, {id: FqOutbox.uuid()});
      return FqOutbox.put(twin);
    })""")
    phone.reload()
    expect(item).to_have_count(2)

    phone.context.set_offline(False)  # the "online" event sends the queue
    numbers = phone.locator("[data-case-number]")
    expect(numbers).to_have_count(2, timeout=20000)
    assert numbers.nth(0).inner_text() == numbers.nth(1).inner_text()
    number = numbers.nth(0).inner_text()
    visits = _visits(app, room)
    assert len(visits) == 1 and visits[0].case_number == number and visits[0].worker == "zhangmin"
    assert visits[0].findings == "楼道堆放纸箱，堵塞消防通道" and visits[0].purpose == "safety_check"
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count(GridVisitPhoto.id)).where(GridVisitPhoto.visit_id == visits[0].id)) == 1
    queue = client.get("/api/v1/cases?state=reported", headers=bearer("shenli")).get_json()["items"]
    assert [c["number"] for c in queue].count(number) == 1
    case = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()
    assert ROOM in str(case)
    phone.reload()
    expect(phone.locator("[data-outbox-item]")).to_have_count(0)  # shown once, then gone


@pytest.mark.slow
def test_a_visit_the_server_refuses_is_fixed_on_its_page(app, client, bearer, estate, add_person, live_server,
                                                          phone_page):
    room = estate[ROOM]
    add_person(room, moved_in="2020-01-01")
    phone = phone_page
    browser_login(phone, live_server, "zhangmin")
    _today_kept(phone, live_server, room)
    phone.context.set_offline(True)
    phone.goto(f"{live_server}/p/grid/addresses/{room}/visit")
    form = phone.locator("form[data-form='visit']")
    form.get_by_label("走访事项").select_option("home_visit")
    form.get_by_label("走访情况").fill("老人身体好，已提醒用电安全")
    big = _camera_photo()
    assert len(big) > 1024 * 1024
    form.get_by_label("照片（最多 3 张，每张 1MB 以内）").set_input_files(
        files=[{"name": "门口.png", "mimeType": "image/png", "buffer": big}])
    form.get_by_role("button", name="保存走访").click()
    expect(phone.locator(".offline-notice")).to_contain_text("已保存到待上传")
    kept = phone.evaluate("FqOutbox.list(FqOffline.user).then(([i]) => [i.files[0][1].size, i.files[0][1].type])")
    assert kept[0] <= 1024 * 1024 and kept[1] == "image/jpeg"  # made smaller on the phone
    # what only the server refuses (here: the queued date altered behind the page's back)
    tomorrow = (today_local() + timedelta(days=1)).isoformat()
    phone.evaluate("""(day) => FqOutbox.list(FqOffline.user).then(([item]) => {
      item.body.date = day; return FqOutbox.put(item); })""", tomorrow)
    phone.goto(f"{live_server}/outbox")
    phone.context.set_offline(False)
    item = phone.locator("[data-outbox-item]")
    expect(item.locator("[data-outbox-state]")).to_have_text("失败：内容需要修改", timeout=15000)
    expect(item.locator('[data-pointer="/date"]')).to_have_text("走访日期：走访日期不能晚于今天")
    assert _visits(app, room) == []
    item.get_by_role("link", name="打开修改").click()
    expect(form.locator("[data-field='date'] .error")).to_have_text("走访日期不能晚于今天")
    assert form.get_by_label("走访情况").input_value() == "老人身体好，已提醒用电安全"
    form.get_by_label("走访日期").fill(today_local().isoformat())
    form.get_by_role("button", name="保存走访").click()
    phone.wait_for_url(f"{live_server}/outbox")
    expect(phone.locator("[data-outbox-item]")).to_contain_text("已提交登记", timeout=15000)
    visits = _visits(app, room)
    assert len(visits) == 1 and visits[0].visited_on == today_local() and visits[0].case_number is None
    with app.app_context():  # the photo came along through the refusal and the fix
        photo = db.scalar(sa.select(GridVisitPhoto).where(GridVisitPhoto.visit_id == visits[0].id))
        assert photo is not None and photo.content_type == "image/jpeg"


@pytest.mark.slow
def test_a_visit_post_dropped_by_the_network_is_queued_by_the_worker(app, client, bearer, estate, add_person,
                                                                     live_server, phone_page):
    """The phone believes it is online, but the network fails under the POST: the service
    worker reads the kept visit page, keeps the posted visit in 待上传 and sends it later."""
    room = estate[ROOM]
    add_person(room, moved_in="2020-01-01")
    phone = phone_page
    browser_login(phone, live_server, "zhangmin")
    _today_kept(phone, live_server, room)
    phone.context.set_offline(True)
    phone.goto(f"{live_server}/p/grid/addresses/{room}/visit")
    phone.evaluate("Object.defineProperty(navigator, 'onLine', {get: () => true})")  # a flaky network
    form = phone.locator("form[data-form='visit']")
    form.get_by_label("走访事项").select_option("dispute_check")
    form.get_by_label("走访情况").fill("邻里因噪音有口角，已劝解")
    form.get_by_label("照片（最多 3 张，每张 1MB 以内）").set_input_files(
        files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png((10, 160, 90), (32, 32))}])
    form.get_by_label("同时上报网格事件（进入社区待受理队列）").check()
    form.get_by_role("button", name="保存走访").click()
    phone.wait_for_url(f"{live_server}/outbox?queued=1")
    expect(phone.locator(".offline-notice")).to_contain_text("网络中断，已保存到待上传")
    item = phone.locator("[data-outbox-item]")
    expect(item.locator("[data-outbox-state]")).to_have_text("待上传")
    expect(item).to_contain_text(f"登记走访：{ROOM}")
    expect(item.locator("time")).to_contain_text("含 1 个附件")
    phone.context.set_offline(False)
    expect(phone.locator("[data-case-number]")).to_be_visible(timeout=15000)
    visits = _visits(app, room)
    assert len(visits) == 1 and visits[0].purpose == "dispute_check" and visits[0].case_number
    assert visits[0].findings == "邻里因噪音有口角，已劝解"


def test_a_camera_photo_posted_online_is_made_small_enough_first(app, estate, add_person, live_server, phone_page):
    """Online the page posts natively; a camera-sized photo (over the server's 1 MB a photo)
    is made smaller on the phone first instead of being refused after the upload."""
    room = estate[ROOM]
    add_person(room, moved_in="2020-01-01")
    phone = phone_page
    browser_login(phone, live_server, "zhangmin")
    phone.goto(f"{live_server}/p/grid/addresses/{room}/visit")
    form = phone.locator("form[data-form='visit']")
    form.get_by_label("走访事项").select_option("home_visit")
    form.get_by_label("走访情况").fill("老人身体好")
    big = _camera_photo()
    assert len(big) > 1024 * 1024
    form.get_by_label("照片（最多 3 张，每张 1MB 以内）").set_input_files(
        files=[{"name": "门口.png", "mimeType": "image/png", "buffer": big}])
    with phone.expect_navigation():
        form.get_by_role("button", name="保存走访").click()
    visits = _visits(app, room)
    assert len(visits) == 1 and visits[0].findings == "老人身体好"
    with app.app_context():
        photo = db.scalar(sa.select(GridVisitPhoto).where(GridVisitPhoto.visit_id == visits[0].id))
        assert photo is not None and photo.content_type == "image/jpeg"
