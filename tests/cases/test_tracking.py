"""Residents follow their case with number + code; nothing internal leaks."""

from __future__ import annotations

import json

import sqlalchemy as sa

from fengqiao.testing.plugin import submit_form, walk_case

REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def test_resident_tracks_without_staff_names_or_comments(client, bearer):
    receipt = submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    number, code = receipt["case_number"], receipt["tracking_code"]
    walk_case(client, number, [("dispatch", {"fields": {"unit": "339901001001"}}), ("acknowledge", {})],
              bearer("shenli"))
    walk_case(client, number, [("reply", {"comment": "内部：已联系水务集团张师傅",
                                          "fields": {"reply": "已恢复供水"}})], bearer("shenli"))
    response = client.get(f"/api/v1/track/{number}?code={code.lower()}")
    assert response.status_code == 200
    view = response.get_json()
    assert view["state"] == "replied" and view["state_title"] == "已办结反馈"
    assert [s["state"] for s in view["timeline"]] == ["received", "dispatched", "handling", "replied"]
    text = json.dumps(view, ensure_ascii=False)
    assert "shenli" not in text and "沈丽" not in text and "张师傅" not in text
    assert "13800138000" not in text


def test_wrong_code_and_unknown_number_look_the_same(client, demo):
    receipt = submit_form(client, "livelihood-request", REQUEST)
    wrong = client.get(f"/api/v1/track/{receipt['case_number']}?code=ZZZZZZZZ")
    unknown = client.get("/api/v1/track/GD-20990101-000001?code=ZZZZZZZZ")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json()


def test_track_page(client, demo):
    receipt = submit_form(client, "livelihood-request", REQUEST)
    page = client.get(f"/track?number={receipt['case_number']}&code={receipt['tracking_code']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "待受理" in html and "独居老人家中停水" in html
    bad = client.get(f"/track?number={receipt['case_number']}&code=WRONG123")
    assert bad.status_code == 404 and "请核对事项编号和查询码" in bad.get_data(as_text=True)
    assert client.get("/track").status_code == 200


def test_rating_once_after_closure(client, bearer):
    from fengqiao import signals

    receipt = submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    number, code = receipt["case_number"], receipt["tracking_code"]
    url = f"/api/v1/track/{number}/rating?code={code}"
    early = client.post(url, json={"rating": "satisfied"})
    assert early.status_code == 422 and early.get_json()["errors"][0]["code"] == "not_closed"
    walk_case(client, number, [("answer", {"comment": "已电话答复"})], bearer("shenli"))
    assert client.post(url, json={"rating": "great"}).status_code == 422
    heard = []

    def listen(sender, **kw):
        heard.append(kw)

    signals.case_rated.connect(listen)
    try:
        rated = client.post(url, json={"rating": "basically_satisfied"})
    finally:
        signals.case_rated.disconnect(listen)
    assert rated.status_code == 200 and rated.get_json()["rating"] == "basically_satisfied"
    assert heard == [{"case_number": number, "rating": "basically_satisfied"}]
    again = client.post(url, json={"rating": "dissatisfied"})
    assert again.status_code == 409 and again.get_json()["errors"][0]["code"] == "already_rated"
    history = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()["history"]
    assert history[-1]["action"] == "rate" and history[-1]["comment"] == "基本满意"
    assert client.post(f"/api/v1/track/{number}/rating?code=WRONG123", json={"rating": "satisfied"}).status_code == 404


def test_public_replies_on_the_timeline_but_no_notes(client, bearer):
    receipt = submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    number, code = receipt["case_number"], receipt["tracking_code"]
    staff = bearer("shenli")
    walk_case(client, number, [
        ("comment", {"comment": "内部批注：陈德福是低保户，张师傅负责", "fields": {"public": False}}),
        ("comment", {"comment": "您好，已安排人员上门查看，请保持电话13800138000畅通", "fields": {"public": True}}),
        ("dispatch", {"fields": {"unit": "339901001001"}}), ("acknowledge", {}),
        ("reply", {"comment": "内部：已联系水务集团张师傅", "fields": {"reply": "管道已修复，已恢复供水"}}),
    ], staff)
    view = client.get(f"/api/v1/track/{number}?code={code}").get_json()
    assert [r["text"] for r in view["replies"]] == ["您好，已安排人员上门查看，请保持电话138****8000畅通",
                                                    "管道已修复，已恢复供水"]
    labelled = [(s["label"], s["reply"]) for s in view["timeline"] if s["reply"]]
    assert labelled == [("回复", view["replies"][0]["text"]), ("已办结反馈", "管道已修复，已恢复供水")]
    text = json.dumps(view, ensure_ascii=False)
    for secret in ("内部", "低保户", "张师傅", "shenli", "沈丽", "13800138000", "339901001001"):
        assert secret not in text, secret
    page = client.get(f"/track?number={number}&code={code}").get_data(as_text=True)
    assert "回复：" in page and "管道已修复，已恢复供水" in page and "138****8000" in page
    assert "低保户" not in page and "张师傅" not in page and "沈丽" not in page


def test_grid_incident_result_is_the_public_reply(app, client, bearer):
    incident = {"summary": "湖滨路窨井盖破损", "category": "安全隐患", "description": "井盖碎裂。",
                "location": {"address": "湖滨路与桥东路交叉口"}}
    number = submit_form(client, "grid-incident", incident, headers=bearer("zhangmin"))["case_number"]
    walk_case(client, number, [
        ("accept", {}), ("start", {}),
        ("report_back", {"comment": "张敏现场处理", "fields": {"result": "已更换新井盖并设置警示"}}),
        ("verify_pass", {"comment": "核查通过"}),
    ], bearer("shenli"))
    from fengqiao.db import db
    from fengqiao.models import Case

    with app.app_context():
        code = db.scalar(sa.select(Case.tracking_code).where(Case.number == number))
    view = client.get(f"/api/v1/track/{number}?code={code}").get_json()
    assert view["replies"][0]["text"] == "已更换新井盖并设置警示" and view["closed"] and view["can_reopen"]
    assert "张敏" not in json.dumps(view, ensure_ascii=False)


def test_non_ascii_code_is_a_plain_404(client, demo):
    receipt = submit_form(client, "livelihood-request", REQUEST)
    assert client.get(f"/api/v1/track/{receipt['case_number']}?code=查询码").status_code == 404
    assert client.get(f"/track?number={receipt['case_number']}&code=查询码").status_code == 404
