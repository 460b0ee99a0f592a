"""Forms without a network in real Chromium (issue 24 §1): a grid worker's phone keeps the
form for offline use, queues the submission with its photo in 待上传, keeps it over a reload,
sends it once when the network is back, and shows the server's refusal on the fields."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from fengqiao.db import db
from fengqiao.models import Attachment, Case, Submission
from fengqiao.testing.plugin import person_page, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CACHED = """async (path) => {
  const reg = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) return false;
  const hit = await caches.match(location.origin + path, {cacheName: 'fq-pages'});
  return !!hit && !!reg.active;
}"""


def _cases(app, title: str) -> list[Case]:
    with app.app_context():
        return list(db.scalars(sa.select(Case).where(Case.title == title)))


def _fill(page, summary: str, people: str, photo: bool = True) -> None:
    page.get_by_label("事件标题").fill(summary)
    page.get_by_label("事件类别").select_option("安全隐患")
    page.get_by_label("详细描述").fill("3幢2单元楼道堆放纸箱和旧家具，堵塞消防通道。")
    page.get_by_label("地址").fill("揽月花园3幢2单元")
    page.get_by_label("涉及人数").fill(people)
    if photo:
        page.get_by_label("现场照片").set_input_files(
            files=[{"name": "楼道.png", "mimeType": "image/png", "buffer": png_bytes()}])


def _installed(page, base: str, key: str = "grid-incident") -> None:
    """Open the form online once and wait until the service worker keeps it."""
    page.goto(f"{base}/forms/{key}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the worker
    page.wait_for_function(CACHED, arg=f"/forms/{key}", timeout=15000)
    page.wait_for_function(CACHED, arg="/outbox", timeout=15000)
    assert page.evaluate(CACHED, f"/forms/{key}") is True


def test_offline_queue_sends_once_when_back_online(app, demo, live_server, _chromium, screenshot_dir):
    page = person_page(_chromium, live_server, "zhangmin", phone=True)
    context = page.context
    _installed(page, live_server)
    assert page.evaluate("fetch('/manifest.webmanifest').then(r => r.json()).then(m => m.short_name)") == "枫桥"

    context.set_offline(True)
    page.reload()  # the worker answers from its cache
    expect(page.get_by_role("heading", name="网格事件上报")).to_be_visible()
    _fill(page, "离线上报：楼道堆物", "2")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".offline-notice")).to_contain_text("已保存到待上传，联网后自动提交")
    page.screenshot(path=str(screenshot_dir / "offline-queued.png"), full_page=True)
    assert _cases(app, "离线上报：楼道堆物") == []

    page.get_by_role("link", name="查看待上传").click()
    item = page.locator("[data-outbox-item]")
    expect(item).to_have_count(1)
    expect(item.locator("[data-outbox-state]")).to_have_text("待上传")
    page.reload()  # nothing is lost over a reload
    expect(item).to_have_count(1)
    expect(item).to_contain_text("网格事件上报")
    expect(item.locator(".outbox-preview")).to_have_text("离线上报：楼道堆物")  # which one it is
    expect(item.locator("time")).to_contain_text("含 1 个附件")  # the photo waits with it
    page.screenshot(path=str(screenshot_dir / "outbox.png"), full_page=True)

    context.set_offline(False)  # the "online" event sends the queue
    link = page.locator("[data-case-number]")
    expect(link).to_be_visible(timeout=15000)
    number = link.inner_text()
    assert number.startswith("WG-")
    cases = _cases(app, "离线上报：楼道堆物")
    assert [c.number for c in cases] == [number]  # once, in the community's queue
    with app.app_context():
        photos = db.scalars(sa.select(Attachment).where(Attachment.submission_id.is_not(None),
                                                        Attachment.filename == "楼道.png")).all()
        assert len(photos) == 1
    page.locator("[data-outbox-send]").click()  # sending again sends nothing twice
    page.reload()
    expect(page.locator("[data-outbox-item]")).to_have_count(0)  # the number was shown once
    assert len(_cases(app, "离线上报：楼道堆物")) == 1
    page.context.close()


def test_refused_submission_shows_its_errors_and_is_fixed(app, demo, live_server, _chromium, screenshot_dir):
    page = person_page(_chromium, live_server, "zhangmin", phone=True)
    context = page.context
    _installed(page, live_server)
    context.set_offline(True)
    page.reload()
    _fill(page, "离线上报：人数写错", "两个", photo=False)
    page.get_by_role("button", name="提交", exact=True).click()
    # the server's checks run in the browser first, with its message, and nothing is queued
    field = page.locator('[data-pointer="/people_involved"]')
    expect(field.locator(".error")).to_have_text("应填写整数")
    expect(page.locator(".offline-notice")).to_contain_text("提交的内容有 1 处需要修改")
    assert page.evaluate("FqOutbox.list(FqOffline.user).then(items => items.length)") == 0
    page.get_by_label("涉及人数").fill("2")
    # a full phone is said so, not swallowed (the store refuses as IndexedDB does when full)
    page.evaluate("""() => { window._put = FqOutbox.put;
      FqOutbox.put = () => Promise.reject(new DOMException('quota', 'QuotaExceededError')); }""")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".offline-notice")).to_contain_text("手机存储空间不足")
    assert page.get_by_label("事件标题").input_value() == "离线上报：人数写错"  # still on the page
    page.evaluate("() => { FqOutbox.put = window._put; }")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".offline-notice")).to_contain_text("已保存到待上传")
    expect(field.locator(".error")).to_have_count(0)
    # what only the server refuses (here: the queued number altered behind the page's back)
    page.evaluate("""FqOutbox.list(FqOffline.user).then(([item]) => {
      item.entries = item.entries.map(([name, value]) => [name, name === 'people_involved' ? '两个' : value]);
      return FqOutbox.put(item);
    })""")
    page.goto(f"{live_server}/outbox")
    context.set_offline(False)
    item = page.locator("[data-outbox-item]")
    expect(item.locator("[data-outbox-state]")).to_have_text("失败：内容需要修改", timeout=15000)
    expect(item.locator('[data-pointer="/people_involved"]')).to_have_text("涉及人数：应填写整数")
    page.screenshot(path=str(screenshot_dir / "outbox-refused.png"), full_page=True)
    assert _cases(app, "离线上报：人数写错") == []

    item.get_by_role("link", name="打开修改").click()
    expect(field.locator(".error")).to_have_text("应填写整数")
    assert page.get_by_label("事件标题").input_value() == "离线上报：人数写错"
    page.get_by_label("涉及人数").fill("2")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(f"{live_server}/outbox")
    expect(page.locator("[data-case-number]")).to_be_visible(timeout=15000)
    assert len(_cases(app, "离线上报：人数写错")) == 1
    page.context.close()


def test_post_failing_on_the_way_is_queued_by_the_worker(app, demo, live_server, _chromium):
    """The phone believes it is online, but the network fails under the POST: the service
    worker keeps the posted form in 待上传 instead of showing the browser's error page."""
    page = person_page(_chromium, live_server, "zhangmin", phone=True)
    context = page.context
    _installed(page, live_server)
    context.set_offline(True)
    page.goto(f"{live_server}/inbox")  # a page the worker does not keep: its offline answer
    expect(page.get_by_role("heading", name="待上传")).to_be_visible()
    page.goto(f"{live_server}/forms/grid-incident")
    page.evaluate("Object.defineProperty(navigator, 'onLine', {get: () => true})")  # a flaky network
    _fill(page, "离线上报：半路断网", "1")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(f"{live_server}/outbox?queued=1")
    expect(page.locator(".offline-notice")).to_contain_text("网络中断，已保存到待上传")
    expect(page.locator("[data-outbox-item] [data-outbox-state]")).to_have_text("待上传")
    context.set_offline(False)
    expect(page.locator("[data-case-number]")).to_be_visible(timeout=15000)
    assert len(_cases(app, "离线上报：半路断网")) == 1
    # 退出: the login page deletes this user's cached pages and form definitions
    assert page.evaluate("caches.has('fq-pages')")
    page.evaluate("() => { document.getElementById('logout-form').submit(); }")
    page.wait_for_url(f"{live_server}/login")
    page.wait_for_function("Promise.all([caches.has('fq-pages'), caches.has('fq-api')]).then(([a, b]) => !a && !b)")
    assert page.evaluate("caches.keys()") == ["fq-shell-v1"]  # the app shell holds nobody's data
    context.close()


def test_rows_of_a_repeat_group_queue_and_arrive(app, demo, live_server, _chromium):
    """A form with a repeatable group (当事人), rows added and removed offline: the queued
    pairs become the same JSON the page would have posted (rows renumbered, none empty)."""
    page = person_page(_chromium, live_server, "shenli", phone=True)
    context = page.context
    _installed(page, live_server, "dispute-registration")
    context.set_offline(True)
    page.reload()
    page.get_by_label("纠纷类型").select_option("邻里纠纷")
    page.get_by_label("纠纷标题").fill("离线登记：楼上漏水")
    page.get_by_label("纠纷简要情况").fill("5幢702卫生间漏水，602吊顶受损。")
    page.get_by_label("中", exact=True).check()
    page.get_by_role("button", name="＋ 添加一项").click()
    rows = page.locator("fieldset.group .group-row")
    expect(rows).to_have_count(3)
    for i, (name, role) in enumerate([("钱芳", "申请人"), ("路人", "第三人"), ("李志刚", "被申请人")]):
        page.locator(f"#parties-{i}-name").fill(name)
        page.locator(f"#parties-{i}-role").select_option(role)
    rows.nth(1).get_by_role("button", name="删除此项").click()  # rows 0 and 2 are left
    page.get_by_label("各方同意调解").check()
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".offline-notice")).to_contain_text("已保存到待上传")
    page.goto(f"{live_server}/outbox")
    context.set_offline(False)
    expect(page.locator("[data-case-number]")).to_be_visible(timeout=15000)
    number = page.locator("[data-case-number]").inner_text()
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        data = db.scalar(sa.select(Submission.data).where(Submission.case_id == case.id))
    assert data["parties"] == [{"name": "钱芳", "role": "申请人"}, {"name": "李志刚", "role": "被申请人"}]
    assert data["all_parties_agree"] is True and data["risk_level"] == "medium"
    context.close()
