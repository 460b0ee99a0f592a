"""回音壁: staff publish cases with a public summary; anyone reads them, nothing personal shown."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fengqiao.testing.plugin import csrf_token, login, submit_form, walk_case

REQUEST = {"request_type": "complaint", "summary": "请回电13800138000：揽月花园5幢路灯不亮",
           "content": "5幢门口路灯坏了一周，晚上很黑。", "caller_name": "陈德福",
           "caller_mobile": "13912345678", "id_card": "339901195203140111"}
INCIDENT = {"summary": "湖滨路窨井盖破损", "category": "安全隐患", "description": "井盖碎裂。",
            "location": {"address": "湖滨路与桥东路交叉口"}}


def _publish(client, number, summary):
    token = csrf_token(client, f"/cases/{number}/board")
    return client.post(f"/cases/{number}/board", data={"csrf_token": token, "summary": summary})


def _events(app, number):
    from fengqiao.db import db
    from fengqiao.models import Case, CaseEvent

    with app.app_context():
        return [(e.action, e.comment, e.internal, e.actor.username if e.actor else None) for e in db.scalars(
            sa.select(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
            .where(Case.number == number).order_by(CaseEvent.id))]


@pytest.fixture
def answered(client, bearer):
    """A 民生诉求 in 揽月社区 with a public reply, closed by 沈丽."""
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    walk_case(client, number, [
        ("dispatch", {"fields": {"unit": "339901001001"}}), ("acknowledge", {}),
        ("reply", {"comment": "内部：沈丽协调供电所王师傅", "fields": {"reply": "路灯已更换，联系电话 0571-88886666"}}),
    ], bearer("shenli"))
    walk_case(client, number, [("approve", {})], bearer("gaojie"))  # 审核: not the one who replied
    walk_case(client, number, [("follow_up", {"comment": "回访满意", "fields": {
        "reached": True, "method": "phone", "solved": "solved", "satisfied": "satisfied"}})], bearer("shenli"))
    return number


def test_board_shows_published_cases_only_without_personal_data(app, client, bearer, answered):
    other = submit_form(client, "livelihood-request", {**REQUEST, "summary": "未公开的诉求"},
                        org="339901001001")["case_number"]
    assert client.get("/board").status_code == 200
    assert answered not in client.get("/board").get_data(as_text=True)

    login(client, "shenli")
    published = _publish(client, answered, "路灯故障已由社区协调修复，身份证339901195203140111的居民已回访。")
    assert published.status_code == 302 and published.headers["Location"].endswith(f"/cases/{answered}")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    page = client.get("/board")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and answered in html and other not in html
    assert "138****8000" in html and "揽月花园5幢路灯不亮" in html  # the title, masked
    assert "路灯已更换，联系电话 0571******66" in html  # the public reply, masked
    assert "路灯故障已由社区协调修复" in html and "339901********0111" in html  # the summary, masked
    assert "揽月社区" in html and "民生诉求" in html
    for secret in ("13800138000", "13912345678", "339901195203140111", "陈德福", "0571-88886666",
                   "内部", "王师傅", "沈丽", "shenli", "回访满意", "5幢门口路灯坏了一周"):
        assert secret not in html, secret
    assert _events(app, answered)[-1] == (
        "board_publish", "路灯故障已由社区协调修复，身份证339901195203140111的居民已回访。", False, "shenli")


def test_board_names_the_community_not_the_grid(app, client, bearer):
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    walk_case(client, number, [
        ("accept", {}), ("start", {}),
        ("report_back", {"comment": "张敏到场", "fields": {"result": "已更换新井盖"}}),
        ("verify_pass", {"comment": "核查通过"}),
    ], bearer("shenli"))
    from fengqiao.cases.board import board_items, publish
    from fengqiao.db import db
    from fengqiao.models import User

    with app.test_request_context():
        publish(number, db.scalar(sa.select(User).where(User.username == "zhangmin")), "井盖已更换")
        item = board_items(None).items[0]
    assert item["number"] == number and item["unit"] == "揽月社区" and item["type_title"] == "网格事件"
    assert item["summary"] == "井盖已更换" and [r["text"] for r in item["replies"]] == ["已更换新井盖"]
    assert item["closed"] and item["closed_on"] and item["submitted_on"]
    assert "张敏" not in str(item) and "揽月花园1–8幢网格" not in str(item)


def test_publish_needs_permission_and_scope(client, demo, answered):
    assert client.post(f"/cases/{answered}/board", data={"summary": "x"}).status_code in (302, 400)
    assert client.get(f"/cases/{answered}/board").status_code == 302  # to the login page
    login(client, "lingdao")  # viewer: no cases.act
    assert client.get(f"/cases/{answered}/board").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "hanzhiming")  # staff of another community: the case is not theirs
    assert client.get(f"/cases/{answered}/board").status_code == 404
    token = csrf_token(client, "/")
    assert client.post(f"/cases/{answered}/board", data={"csrf_token": token, "summary": "x"}).status_code == 404
    assert answered not in client.get("/board").get_data(as_text=True)


def test_staff_panel_keeps_input_on_error_and_unpublishes(app, client, answered):
    login(client, "shenli")
    form = client.get(f"/cases/{answered}/board").get_data(as_text=True)
    assert 'name="summary"' in form and 'name="csrf_token"' in form and "发布到回音壁" in form
    assert client.post(f"/cases/{answered}/board", data={"summary": "无令牌"}).status_code == 400
    blank = _publish(client, answered, "   ")
    assert blank.status_code == 422 and "请填写向公众展示的办理说明" in blank.get_data(as_text=True)
    long = _publish(client, answered, "很长" * 300)
    assert long.status_code == 422 and "最多填写 500 个字" in long.get_data(as_text=True)
    assert "很长" * 300 in long.get_data(as_text=True)  # what was typed is kept
    assert _publish(client, answered, "第一版说明").status_code == 302
    assert _publish(client, answered, "更新后的说明").status_code == 302
    form = client.get(f"/cases/{answered}/board").get_data(as_text=True)
    assert "已公开" in form and "更新后的说明" in form and "从回音壁撤下" in form
    board = client.get("/board").get_data(as_text=True)
    assert "更新后的说明" in board and "第一版说明" not in board
    token = csrf_token(client, f"/cases/{answered}/board")
    off = client.post(f"/cases/{answered}/board", data={"csrf_token": token, "op": "unpublish"})
    assert off.status_code == 302 and answered not in client.get("/board").get_data(as_text=True)
    twice = client.post(f"/cases/{answered}/board", data={"csrf_token": token, "op": "unpublish"})
    assert twice.status_code == 409 and "该事项未在回音壁公开" in twice.get_data(as_text=True)
    actions = [(a, internal) for a, _c, internal, _u in _events(app, answered) if a.startswith("board")]
    assert actions == [("board_publish", False), ("board_publish", False), ("board_unpublish", True)]


def test_board_pagination_and_type_filter(app, client, bearer):
    from fengqiao.cases.board import PAGE_SIZE, board_items, publish
    from fengqiao.db import db
    from fengqiao.models import User

    staff = bearer("shenli")
    numbers = [submit_form(client, "livelihood-request", {**REQUEST, "summary": f"诉求{i}"},
                           headers=staff, org="339901001001")["case_number"] for i in range(PAGE_SIZE + 1)]
    incident = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    with app.test_request_context():
        shenli = db.scalar(sa.select(User).where(User.username == "shenli"))
        for number in [*numbers, incident]:
            publish(number, shenli, f"说明 {number}")
        first = board_items(None, limit=10)
        assert [i["number"] for i in first.items] == [incident, *reversed(numbers)][:10]
        second = board_items(first.next_cursor, limit=10)
        assert [i["number"] for i in second.items] == [incident, *reversed(numbers)][10:20]
        only = board_items(None, type="grid_incident")
        assert [i["number"] for i in only.items] == [incident] and only.next_cursor is None
        db.commit()  # as the requests that published them would

    page1 = client.get("/board").get_data(as_text=True)
    shown = re.findall(r'data-number="([^"]+)"', page1)
    assert len(shown) == PAGE_SIZE and shown[0] == incident
    next_link = re.search(r'href="(/board\?cursor=[^"]+)"', page1)
    assert next_link, "no next-page link"
    page2 = client.get(next_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    rest = re.findall(r'data-number="([^"]+)"', page2)
    assert rest == [numbers[1], numbers[0]] and "下一页" not in page2 and "回到第一页" in page2
    assert re.findall(r'data-number="([^"]+)"', client.get("/board?type=grid_incident").get_data(as_text=True)) == [incident]
    bad = client.get("/board?cursor=!!!")
    assert bad.status_code == 422 and "翻页参数无效" in bad.get_data(as_text=True)
    assert client.get("/board?type=nonsense").status_code == 200


def test_mask_text():
    from fengqiao.masking import mask_text

    assert mask_text("电话13800138000") == "电话138****8000"
    assert mask_text("+86 138-0013-8000 找我") == "138****8000 找我"
    assert mask_text("身份证33990119520314011X。") == "身份证339901********011X。"
    assert mask_text("座机 0571-88886666") == "座机 0571******66"
    assert mask_text("事项 WG-20261126-000123 已办结") == "事项 WG-20261126-000123 已办结"
    assert mask_text("3幢2单元 120 平方") == "3幢2单元 120 平方"
    assert mask_text(None) == ""
