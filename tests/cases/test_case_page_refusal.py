"""A refused step on the case page is said where the page opens, not only beside its field
far below; and the participants table fits a phone (it scrolls inside its card)."""

from __future__ import annotations

import re

from fengqiao.testing.plugin import csrf_token, login, submit_form

REQUEST = {"request_type": "help", "summary": "揽月花园 7 幢楼道电动车违规充电",
           "content": "楼道内私拉电线为电动车充电。", "caller_name": "陈德福", "caller_mobile": "13800138000"}


def _top(html: str) -> str:
    """The page above the first card: the heading and any alert."""
    return html.split('<div class="card">', 1)[0]


def test_a_refused_step_is_said_at_the_top_of_the_page(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "shenli")
    token = csrf_token(client, f"/cases/{number}")
    refused = client.post(f"/cases/{number}", data={
        "csrf_token": token, "action": "answer", "version": "1", "comment": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    top = re.search(r'<div class="alert alert-error step-refused" role="alert">(.*?)</div>', _top(html), re.S)
    assert top, _top(html)
    assert "未办理：请填写办理意见" in top.group(1) and 'href="#act-answer"' in top.group(1)
    assert 'id="act-answer"' in html  # the link's target: the step's own form
    assert "step-refused" not in _top(client.get(f"/cases/{number}").get_data(as_text=True))


def test_the_participants_table_scrolls_inside_its_card(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "shenli")
    token = csrf_token(client, f"/cases/{number}")
    done = client.post(f"/cases/{number}", data={
        "csrf_token": token, "action": "dispatch", "version": "1", "comment": "请网格核实",
        "field_unit": "339901001001001", "field_urgency": "normal", "field_request_type": "help"})
    assert done.status_code == 302, _top(done.get_data(as_text=True))
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    units = html.split("<h2>参与单位</h2>", 1)[1].split("</section>", 1)[0]
    assert units.lstrip().startswith('<div class="table-wrap" tabindex="0"><table')  # th/td never wrap: it scrolls (by keyboard too)
