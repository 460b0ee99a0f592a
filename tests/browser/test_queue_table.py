"""The staff queue's table in real Chromium (issue 22 §2): columns hide by priority as the
table narrows and are all listed in 列 (the choice remembered), the header row and 编号 stay
in view while the table scrolls, a phone gets cards without sideways scroll, and the bulk
bar's 流转 offers only what every selected case's type and state allow."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from fengqiao.db import db, utcnow
from fengqiao.models import Case
from fengqiao.testing.plugin import api_token, browser_login, person_page, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

LANYUE = "339901001001"  # 揽月社区: shenli is its staff
REQUEST = {"request_type": "help", "summary": "揽月花园3幢独居老人家中水管漏水，需要尽快上门查看维修",
           "content": "请社区帮忙联系维修。", "caller_name": "王秀英", "caller_mobile": "13912345678"}
INCIDENT = {"summary": "揽月花园5幢楼道堆放纸箱杂物，存在消防安全隐患", "category": "安全隐患",
            "description": "楼道堆放纸箱。", "location": {"address": "揽月花园5幢"}}
PROXY = {"service_item": "高龄津贴申请", "applicant_name": "王桂英", "applicant_id_card": "339901195203140111",
         "applicant_mobile": "13812345678", "address": "揽月花园5幢"}

# Every header cell on screen and the table's scroll box: a cell is clipped when it reaches
# past the box's visible edges (the box's scrollbars left out).
CLIPPED = """() => {
  const wrap = document.querySelector('#queue-region .table-wrap').getBoundingClientRect();
  const box = document.querySelector('#queue-region .table-wrap');
  const right = wrap.left + box.clientLeft + box.clientWidth;
  return [...document.querySelectorAll('#queue-region thead th[data-col]')]
    .filter(th => getComputedStyle(th).display !== 'none')
    .map(th => ({col: th.dataset.col, left: th.getBoundingClientRect().left, right: th.getBoundingClientRect().right}))
    .filter(th => th.left < wrap.left - 0.5 || th.right > right + 0.5)
    .map(th => th.col);
}"""
SHOWN = """() => [...document.querySelectorAll('#queue-region thead th[data-col]')]
  .filter(th => getComputedStyle(th).display !== 'none').map(th => th.dataset.col)"""
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def two_types(app, client):
    """Cases of 揽月社区 of two types (民生诉求, 网格事件), one overdue and one due soon."""
    zhangmin = {"Authorization": f"Bearer {api_token(client, 'zhangmin')}"}
    requests = [submit_form(client, "livelihood-request", {**REQUEST, "summary": f"{REQUEST['summary']}{i}"},
                            org=LANYUE)["case_number"] for i in range(8)]
    incidents = [submit_form(client, "grid-incident", {**INCIDENT, "summary": f"{INCIDENT['summary']}{i}"},
                             headers=zhangmin)["case_number"] for i in range(8)]
    now = utcnow()
    with app.app_context():
        for number, deadline, status in ((requests[0], now - timedelta(hours=3), "overdue"),
                                         (incidents[0], now + timedelta(hours=5), "due_soon")):
            db.execute(sa.update(Case).where(Case.number == number).values(deadline=deadline, sla_status=status))
        db.commit()
    return {"requests": requests, "incidents": incidents}


def _menu_box(page, col: str):
    return page.locator(f'#col-menu input[data-col="{col}"]')


def _th(page, col: str):
    return page.locator(f'#queue-region thead th[data-col="{col}"]')


@pytest.mark.parametrize("app_config", [{"theme": "default"}, {"theme": "elder"}], ids=["default", "elder"])
def test_columns_fit_at_1280_and_every_hidden_one_is_in_the_menu(demo, two_types, live_server, page, screenshot_dir,
                                                               app_config):
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    shown = page.evaluate(SHOWN)
    assert {"number", "title", "state", "deadline"} <= set(shown), shown
    assert page.evaluate(CLIPPED) == []
    assert page.evaluate("() => { const w = document.querySelector('#queue-region .table-wrap');"
                         " return w.scrollWidth - w.clientWidth; }") <= 0  # no sideways scroll either
    assert page.evaluate(SIDEWAYS) <= 0
    every = page.locator("#queue-region thead th[data-col]").evaluate_all("ths => ths.map(th => th.dataset.col)")
    hidden = [col for col in every if col not in shown]
    assert hidden, "at 1280 px with the sidebar the table is narrow enough to hide something"
    suffix = "" if app_config["theme"] == "default" else "-" + app_config["theme"]
    page.screenshot(path=str(screenshot_dir / f"queue-desktop{suffix}.png"))

    page.locator("#col-menu > summary").click()  # 列
    menu = page.locator("#col-menu")
    expect(menu).to_have_attribute("open", "")
    for col in every:  # each column listed, ticked exactly when it is on screen
        box = _menu_box(page, col)
        expect(box).to_have_count(1)
        assert box.is_checked() == (col in shown), col
    for col in hidden:
        expect(menu.locator("label", has=page.locator(f'input[data-col="{col}"]'))).to_contain_text("屏幕较窄，已隐藏")
        _menu_box(page, col).check()
        expect(_th(page, col)).to_be_visible()
    _menu_box(page, "state").uncheck()  # and one shown by default goes
    expect(_th(page, "state")).to_be_hidden()
    expect(page.locator('#queue-region tbody td.col-state').first).to_be_hidden()

    page.reload()  # remembered in this browser
    for col in hidden:
        expect(_th(page, col)).to_be_visible()
        assert _menu_box(page, col).is_checked()
    expect(_th(page, "state")).to_be_hidden()
    assert not _menu_box(page, "state").is_checked()
    page.locator("#col-menu > summary").click()
    page.get_by_role("button", name="恢复默认").click()
    assert page.evaluate(SHOWN) == shown
    page.reload()
    assert page.evaluate(SHOWN) == shown


def test_a_narrower_desk_hides_more_and_lists_it(demo, two_types, live_server, page):
    page.set_viewport_size({"width": 1024, "height": 768})
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    shown = page.evaluate(SHOWN)
    assert {"number", "title", "state", "deadline"} <= set(shown) and len(shown) < 7, shown
    assert page.evaluate(CLIPPED) == []
    page.locator("#col-menu > summary").click()
    for col in {"type", "org", "assignee", "created"} - set(shown):
        assert not _menu_box(page, col).is_checked()
        _menu_box(page, col).check()
        expect(_th(page, col)).to_be_visible()


def test_the_header_row_and_the_number_stay_in_view(demo, two_types, live_server, page):
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    # a table that fits scrolls with the page: its header row sticks below the top bar
    expect(page.locator("#queue-region .table-wrap")).to_have_class(re.compile(r"\bfits\b"))
    stuck = page.evaluate("""() => { window.scrollTo(0, 700);
      const th = document.querySelector('#queue-region thead th[data-col="title"]').getBoundingClientRect();
      const table = document.querySelector('#queue-region table').getBoundingClientRect();
      return {y: window.scrollY, th: th.top, bar: document.querySelector('.topbar').getBoundingClientRect().bottom,
              table: table.top}; }""")
    assert stuck["y"] >= 700 and stuck["table"] < 0, stuck  # the table's top is scrolled away…
    assert abs(stuck["th"] - stuck["bar"]) <= 2, stuck  # …its header row is not
    expect(page.locator("#queue-region thead th[data-col='title']")).to_be_in_viewport()

    # a wider one (every column at 900 px) scrolls in its own box, header row and 编号 stuck in it
    page.set_viewport_size({"width": 900, "height": 600})
    page.goto(f"{live_server}/queues")
    page.locator("#col-menu > summary").click()
    for col in ("type", "org", "assignee", "created"):  # more than fits: the table scrolls sideways
        _menu_box(page, col).check()
    page.keyboard.press("Escape")
    wrap = page.locator("#queue-region .table-wrap")
    expect(wrap).not_to_have_class(re.compile(r"\bfits\b"))
    geometry = """w => { w.scrollTop = 400; w.scrollLeft = 300;
      const box = w.getBoundingClientRect(), th = w.querySelector('thead th[data-col="number"]').getBoundingClientRect();
      const cell = w.querySelector('tbody tr:nth-child(10) td.col-number').getBoundingClientRect();
      return {scrolled: [w.scrollTop, w.scrollLeft], box: [box.top, box.left], th: [th.top, th.left],
              cell: cell.left, pick: w.querySelector('th.pick').getBoundingClientRect().left}; }"""
    g = wrap.evaluate(geometry)
    assert g["scrolled"][0] > 0 and g["scrolled"][1] > 0, g  # it did scroll both ways
    assert abs(g["th"][0] - g["box"][0]) <= 2, g  # the header row at the top of the box
    assert abs(g["pick"] - g["box"][1]) <= 2 and abs(g["th"][1] - g["box"][1] - 44) <= 2, g  # 编号 after the box
    assert abs(g["cell"] - g["th"][1]) <= 1, g  # the body's 编号 cells stick with it
    number = page.locator("#queue-region tbody tr").nth(9).get_by_role("link")
    expect(number).to_be_visible()
    expect(page.locator("#queue-region thead th[data-col='number']")).to_be_in_viewport()


def test_a_phone_gets_cards_without_sideways_scroll(demo, two_types, live_server, _chromium, screenshot_dir):
    phone = person_page(_chromium, live_server, "shenli", phone=True)
    phone.goto(f"{live_server}/queues")
    assert phone.evaluate(SIDEWAYS) <= 0
    assert phone.evaluate(SHOWN) == []  # no header row of columns
    overdue = phone.locator(f'tr[data-number="{two_types["requests"][0]}"]')
    assert overdue.evaluate("tr => getComputedStyle(tr).display") == "grid"
    card = overdue.bounding_box()
    assert card["x"] >= 0 and card["x"] + card["width"] <= 390
    for cell in ("col-number", "col-title", "col-state", "col-deadline", "col-org"):
        expect(overdue.locator(f"td.{cell}")).to_be_visible()
    for cell in ("col-type", "col-assignee", "col-created"):
        expect(overdue.locator(f"td.{cell}")).to_be_hidden()
    expect(overdue.locator("td.col-title")).to_contain_text("独居老人家中水管漏水")
    red = overdue.locator("td.col-deadline .when").evaluate("e => getComputedStyle(e).color")
    assert red == "rgb(180, 35, 24)", red  # --bad
    amber = phone.locator(f'tr[data-number="{two_types["incidents"][0]}"] td.col-deadline .when')
    assert amber.evaluate("e => getComputedStyle(e).color") == "rgb(138, 83, 0)"
    expect(phone.locator(f'tr[data-number="{two_types["requests"][1]}"] td.col-deadline')).not_to_have_class(
        "col-deadline deadline-overdue")
    expect(phone.locator("#col-menu > summary")).to_be_hidden()
    jump = phone.get_by_role("link", name="去批量办理")
    expect(jump).to_be_hidden()
    phone.get_by_label(f"选择 {two_types['incidents'][2]}").check()  # bulk still works from a card
    expect(phone.locator("#picked-count")).to_have_text("1")
    expect(jump).to_be_in_viewport()  # the bar is far below: a link to it stays in view
    expect(jump).to_contain_text("已选 1 件")
    jump.click()
    expect(phone.get_by_role("button", name="批量认领")).to_be_in_viewport()
    phone.evaluate("window.scrollTo(0, 0)")
    phone.get_by_label(f"选择 {two_types['incidents'][2]}").uncheck()
    expect(jump).to_be_hidden()
    phone.get_by_label(f"选择 {two_types['requests'][0]}").check()
    phone.get_by_label("全选本页").check()
    expect(phone.locator("#picked-count")).to_have_text("16")
    assert phone.evaluate(SIDEWAYS) <= 0
    phone.screenshot(path=str(screenshot_dir / "queue-phone.png"))
    phone.context.close()


def _offered(page) -> list[tuple[str, str]]:
    """The 流转 choices on screen: (group label, option text)."""
    return [tuple(o) for o in page.locator("#bulk-transition option").evaluate_all(
        "os => os.filter(o => o.value && !o.hidden && !o.disabled && !(o.parentNode.hidden))"
        ".map(o => [o.parentNode.label || '', o.textContent.trim()])")]


def test_bulk_transitions_follow_the_selected_cases_type(demo, two_types, live_server, page, screenshot_dir):
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    transition = page.get_by_label("流转")
    expect(transition.locator("option").first).to_have_text("请先选择事项")
    assert _offered(page) == []
    request, incident = two_types["requests"][1], two_types["incidents"][1]

    page.get_by_label(f"选择 {incident}").check()
    incident_offers = _offered(page)
    assert incident_offers and {group for group, _ in incident_offers} == {"网格事件"}, incident_offers
    assert "受理" in {title for _, title in incident_offers}
    assert not {"派单", "撤单（需填意见）"} & {title for _, title in incident_offers}
    expect(transition.locator("option").first).to_have_text("请选择操作")
    transition.select_option(label="受理")
    urgency = page.locator('.bulk-field[data-field="urgency"]')
    expect(urgency).to_be_visible()  # 受理 asks for the urgency: its field shows
    expect(page.get_by_role("button", name="批量流转")).to_be_enabled()

    page.get_by_label(f"选择 {incident}").uncheck()
    page.get_by_label(f"选择 {request}").check()
    request_offers = _offered(page)
    assert request_offers and {group for group, _ in request_offers} == {"民生诉求"}, request_offers
    assert "派单" in {title for _, title in request_offers} and "受理" not in {t for _, t in request_offers}
    assert transition.input_value() == ""  # 受理 went with the incident, and its field
    expect(urgency).to_be_hidden()
    expect(page.get_by_role("button", name="批量流转")).to_be_disabled()

    page.get_by_label(f"选择 {incident}").check()  # two types, no transition in common
    assert _offered(page) == []
    expect(transition.locator("option").first).to_have_text("所选事项没有共同的流转操作")
    expect(page.get_by_role("button", name="批量认领")).to_be_enabled()  # claiming both is fine
    page.screenshot(path=str(screenshot_dir / "queue-bulk-types.png"), full_page=True)


def test_two_types_naming_a_step_alike_share_one_choice(demo, two_types, client, live_server, page):
    """受理 of a grid incident and 材料齐全，开始办理 of 便民代办 are both ``accept``: selecting one case
    of each offers it once, saying what it means for each type."""
    proxy = submit_form(client, "proxy-service", PROXY, org=LANYUE)["case_number"]
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    page.get_by_label(f"选择 {proxy}").check()
    assert _offered(page)[0] == ("便民代办", "材料齐全，开始办理")
    page.get_by_label(f"选择 {two_types['incidents'][1]}").check()
    offered = _offered(page)
    assert len(offered) == 1 and offered[0][0] == "所选 2 种类型共有", offered
    assert set(offered[0][1].split(" / ")) == {"受理（网格事件）", "材料齐全，开始办理（便民代办）"}, offered
    expect(page.locator("#bulk-transition-hint")).to_have_text("所选事项含 2 种类型，只列出每件都可办理的操作")
    page.get_by_label("流转").select_option(label=offered[0][1])
    expect(page.locator('.bulk-field[data-field="urgency"]')).to_be_visible()  # the incident's 受理 asks for it
    page.get_by_role("button", name="批量流转").click()
    page.wait_for_url(f"{live_server}/queues/bulk")
    expect(page.get_by_text("成功 2 件，失败 0 件")).to_be_visible()  # one action name, each case by its type


def test_the_menu_checkboxes_and_bulk_bar_work_by_keyboard(demo, two_types, live_server, page):
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    summary = page.locator("#col-menu summary")
    summary.focus()
    assert summary.evaluate("e => getComputedStyle(e).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("#col-menu")).to_have_attribute("open", "")
    page.keyboard.press("Tab")  # 编号 is always shown (disabled): 标题 comes first
    expect(_menu_box(page, "title")).to_be_focused()
    page.keyboard.press("Space")
    expect(_th(page, "title")).to_be_hidden()
    page.keyboard.press("Space")
    expect(_th(page, "title")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#col-menu")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()

    first = page.get_by_label(f"选择 {two_types['incidents'][1]}")
    first.focus()
    page.keyboard.press("Space")
    expect(page.locator("#picked-count")).to_have_text("1")
    assert first.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    transition = page.get_by_label("流转")
    transition.focus()
    transition.select_option(label="受理")  # a select picks by keyboard natively
    expect(page.get_by_role("button", name="批量流转")).to_be_enabled()



def test_the_menu_works_without_javascript(demo, two_types, live_server, _chromium):
    context = _chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    browser_login(page, live_server, "shenli")
    page.goto(f"{live_server}/queues")
    expect(page.locator("#queue-region.cols-js")).to_have_count(0)  # queue.js did not run
    page.locator("#col-menu > summary").click()  # a <details>: opens by itself
    expect(page.locator("#col-menu")).to_have_attribute("open", "")
    expect(_th(page, "type")).to_be_visible()
    _menu_box(page, "type").uncheck()  # the unticked box hides its column (CSS :has)
    expect(_th(page, "type")).to_be_hidden()
    expect(page.locator("#queue-region tbody td.col-type").first).to_be_hidden()
    expect(_th(page, "created")).to_be_hidden()  # hidden by width: the menu says so
    expect(page.locator(".col-note-created")).to_be_visible()
    context.close()
