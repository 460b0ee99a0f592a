"""The case page's layout (issue 22 §3): a summary header with the next steps, tabs that are
anchor links to sections all in the page, 关联事项 linked only within the viewer's scope, and
the print view (same scope, masked, with the unit's name and a QR code of the page)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

from case_helpers import act_ok, case_events, set_columns

from fengqiao.db import utcnow
from fengqiao.documents import qr_data_uri
from fengqiao.testing.plugin import login, submit_form, walk_case

LANYUE, QIAODONG = "339901001001", "339901001002"  # two communities of 澄湖街道
REQUEST = {"request_type": "help", "summary": "湖滨路烧烤店夜间油烟噪音扰民",
           "content": "每晚十点后油烟和噪音很大。", "caller_name": "陈德福",
           "caller_mobile": "13800138000", "id_card": "339901195203140111"}
OTHER = {**REQUEST, "summary": "桥东新村3幢楼道堆放杂物", "caller_mobile": "13900139000"}
WHISTLE = {"summary": "揽月花园地下车库反复渗水", "address": "揽月花园地下车库", "category": "livelihood",
           "description": "车库顶板渗水半年，物业、施工方互相推诿，需要住建和执法部门到场。",
           "departments_wanted": "住建局、综合行政执法局"}
ENFORCEMENT, HOUSING = "339901902", "339901903"


def _page(app, username: str, path: str):
    browser = app.test_client()
    login(browser, username)
    return browser.get(path)


def _between(html: str, start: str, end: str) -> str:
    return html[html.index(start):][:html[html.index(start):].index(end)]


def _header(html: str) -> str:
    return _between(html, '<header class="card case-head"', "</header>")


def _panel(html: str, panel: str) -> str:
    """One tab's section, up to the next tab's (the 详情 panel holds sections of its own)."""
    rest = html[html.index(f'<section id="{panel}"'):]
    ends = [i for i in (rest.find('<section id="case-', 1), rest.find('id="handle"'), rest.find("</main>")) if i > 0]
    return rest[:min(ends)]


def test_the_header_sums_the_case_up_with_its_first_actions(app, client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    html = _page(app, "shenli", f"/cases/{number}").get_data(as_text=True)
    head = _header(html)
    for words in (number, "民生诉求", "待受理", "揽月社区", "未认领", "办理期限"):
        assert words in head, words
    assert "已超期" not in head and "临期" not in head  # a fresh case is on track
    forms = re.findall(r'<form method="post" class="case-action" id="act-([a-z_]+)"', html)
    primary = re.findall(r'<a class="btn" href="#act-([a-z_]+)" data-open-action>', head)
    more = re.findall(r'<li><a href="#act-([a-z_]+)" data-open-action>', head)
    assert 1 <= len(primary) <= 2 and forms[:len(primary)] == primary  # the first steps, as buttons
    assert "更多操作" in head and sorted(primary + more) == sorted(forms)  # every other step in the menu
    assert f'href="/cases/{number}/print"' in head and 'href="#handle"' in head  # 打印, and a skip link to 办理

    set_columns(app, number, deadline=utcnow() + timedelta(hours=3), sla_status="due_soon")
    head = _header(_page(app, "shenli", f"/cases/{number}").get_data(as_text=True))
    assert 'class="badge badge-warn sla-due-soon">临期<' in head and "deadline-due_soon" in head
    set_columns(app, number, deadline=utcnow() - timedelta(hours=1), sla_status="overdue")
    head = _header(_page(app, "shenli", f"/cases/{number}").get_data(as_text=True))
    assert 'class="badge badge-off sla-overdue">已超期<' in head and "deadline-overdue" in head

    viewer = _header(_page(app, "lingdao", f"/cases/{number}").get_data(as_text=True))  # reads, may not act
    assert "data-open-action" not in viewer and "更多操作" not in viewer and 'href="#handle"' not in viewer


def test_tabs_are_links_to_sections_that_are_all_in_the_page(app, client, bearer, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    walk_case(client, number, [("answer", {"comment": "已电话答复，联系电话 13800138000"})], bearer("shenli"))
    html = _page(app, "shenli", f"/cases/{number}").get_data(as_text=True)
    tabs = _between(html, '<nav class="case-tabs"', "</nav>")
    assert re.findall(r'<a href="#([a-z-]+)" data-tab>', tabs) == ["case-detail", "case-history", "case-files",
                                                                    "case-related"]
    for label in ("详情", "流转记录", "附件", "关联事项"):
        assert label in tabs
    history = _panel(html, "case-history")
    items = re.findall(r'<li data-action="([a-z_]+)"', history)
    assert items == [e.action for e in case_events(app, number)]  # every event, oldest first
    assert "已结单" in history and "沈丽" in history and "138****8000" in history and "13800138000" not in html
    assert "339901********0111" in _panel(html, "case-detail") and "339901195203140111" not in html
    assert "暂无附件" in _panel(html, "case-files")
    assert "暂无关联事项" in _panel(html, "case-related")
    assert "<script>" not in html and ' style="' not in html.split("<main", 1)[1]  # CSP-safe


def test_merged_cases_are_linked_only_where_the_viewer_may_see_them(app, client, bearer, demo):
    ours = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    theirs = submit_form(client, "livelihood-request", OTHER, org=QIAODONG)["case_number"]
    act_ok(client, bearer("luojia"), theirs, "merge", fields={"into": ours}, comment="同一事项重复反映")

    street = _panel(_page(app, "luojia", f"/cases/{ours}").get_data(as_text=True), "case-related")
    assert f'并入本事项：<a href="/cases/{theirs}">{theirs}</a>' in street and "桥东新村3幢楼道堆放杂物" in street

    community = _page(app, "shenli", f"/cases/{ours}").get_data(as_text=True)  # 揽月社区: not 桥东's case
    related = _panel(community, "case-related")
    assert 'data-related="merged_from"' in related and "其他单位的事项（无权查看）" in related
    assert f'href="/cases/{theirs}"' not in community and "桥东新村3幢楼道堆放杂物" not in community
    assert _panel(community, "case-related").count("<li") == 1

    other = _page(app, "hanzhiming", f"/cases/{theirs}").get_data(as_text=True)  # and the other way round
    related = _panel(other, "case-related")
    assert 'data-related="merged_into"' in related and "其他单位的事项（无权查看）" in related
    assert f'href="/cases/{ours}"' not in other and "湖滨路烧烤店" not in related
    merged_into = _panel(_page(app, "luojia", f"/cases/{theirs}").get_data(as_text=True), "case-related")
    assert f'本事项已并入：<a href="/cases/{ours}">{ours}</a>' in merged_into


def test_whistle_summons_and_reopenings_are_related_items(app, client, bearer, demo):
    community = bearer("shenli")
    number = submit_form(client, "whistle-request", WHISTLE, headers=community)["case_number"]
    act_ok(client, bearer("zhoujian"), number, "approve", fields={"units": [ENFORCEMENT, HOUSING]})
    act_ok(client, bearer("zhifa"), number, "report_in", comment="执法中队已到场，联系 13800138000")
    related = _panel(_page(app, "luojia", f"/cases/{number}").get_data(as_text=True), "case-related")
    rows = re.findall(r'<li data-related="summoned">(.*?)</li>', related, re.S)
    assert len(rows) == 2
    enforcement = next(r for r in rows if "综合行政执法局" in r)
    housing = next(r for r in rows if "住建局" in r)
    assert "已报到" in enforcement and "报到说明：执法中队已到场，联系 138****8000" in enforcement
    assert "尚未报到" in housing and "已超时" not in housing

    request = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)
    walk_case(client, request["case_number"], [("answer", {"comment": "已联系物业"})], community)
    assert client.post(f"/api/v1/track/{request['case_number']}/reopen",
                       json={"code": request["tracking_code"], "reason": "仍未解决，请回电 13800138000"}).status_code == 200
    related = _panel(_page(app, "shenli", f"/cases/{request['case_number']}").get_data(as_text=True), "case-related")
    assert 'data-related="reopen"' in related and "居民申请重办" in related
    assert "理由：仍未解决，请回电 138****8000" in related and "13800138000" not in related


def test_the_print_view_has_the_unit_the_summary_the_history_and_a_qr_code(app, client, bearer, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    walk_case(client, number, [("answer", {"comment": "已电话答复，联系电话 13800138000"})], bearer("shenli"))
    shown = _page(app, "shenli", f"/cases/{number}/print")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    head = _between(html, '<header class="print-head">', "</header>")
    assert "云澜县 · 澄湖街道" in head and '<p class="print-unit">揽月社区</p>' in head and "民生诉求办理单" in head
    qr = re.search(r'<img src="(data:image/png;base64,[A-Za-z0-9+/=]+)"', head)
    assert qr and base64.b64decode(qr.group(1).split(",", 1)[1]).startswith(b"\x89PNG")
    with app.test_request_context():
        assert qr.group(1) == qr_data_uri(f"http://localhost/cases/{number}", box_size=4)  # the case page's address
    assert "<svg" not in html and "<script>" not in html and "data-print" in html
    for words in (number, "湖滨路烧烤店夜间油烟噪音扰民", "已结单", "沈丽", "339901********0111", "138****8000"):
        assert words in html, words
    assert "339901195203140111" not in html and "13800138000" not in html
    history = _between(html, '<table class="print-table print-history">', "</table>")
    assert re.findall(r'<tr data-action="([a-z_]+)"', history) == [e.action for e in case_events(app, number)]

    reported = submit_form(client, "livelihood-request", {**REQUEST, "request_type": "report"}, org=LANYUE)
    sheet = _page(app, "shenli", f"/cases/{reported['case_number']}/print").get_data(as_text=True)
    form = sheet[sheet.index("print-form"):sheet.index("print-history")]  # 举报: the reporter hidden from the unit
    assert "******" in form and "陈**" not in sheet and "138****8000" not in sheet and "0111" not in sheet

    assert _page(app, "hanzhiming", f"/cases/{number}/print").status_code == 404  # 桥东社区: not theirs
    assert _page(app, "zhifa", f"/cases/{number}/print").status_code == 404
    assert _page(app, "shenli", "/cases/CS-19990101-000001/print").status_code == 404
