"""A resident's rating and reopening reach whoever answers for the case (issue 21: 评价,
重办 among the events that notify): the handling unit's heads and the assignee, once."""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Notification, User
from fengqiao.testing.plugin import submit_form, walk_case

REQUEST = {"request_type": "help", "summary": "揽月花园5幢路灯不亮", "content": "5幢门口路灯坏了一周，电话 13800138000。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def _inbox(app, number):
    with app.app_context():
        return sorted(db.execute(sa.select(Notification.kind, User.username, Notification.text)
                                 .join(User, User.id == Notification.user_id)
                                 .where(Notification.case_number == number,
                                        Notification.kind.in_(("rate", "reopen")))).all())


def test_a_rating_and_a_reopening_tell_the_unit_heads_once(app, demo, client, bearer):
    receipt = submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    number, code = receipt["case_number"], receipt["tracking_code"]
    walk_case(client, number, [("answer", {"comment": "已联系物业维修"})], bearer("shenli"))
    url = f"/api/v1/track/{number}"
    assert client.post(f"{url}/rating?code={code}", json={"rating": "dissatisfied"}).status_code == 200
    assert client.post(f"{url}/rating?code={code}", json={"rating": "satisfied"}).status_code == 409
    assert client.post(f"{url}/reopen", json={"code": code, "reason": "路灯仍然不亮"}).status_code == 200
    rows = _inbox(app, number)
    assert {(kind, text) for kind, _, text in rows} == {
        ("rate", f"事项 {number} 收到居民评价：不满意"), ("reopen", f"事项 {number} 已由居民申请重办，请重新办理")}
    rated = sorted(name for kind, name, _ in rows if kind == "rate")
    assert rated and rated == sorted(name for kind, name, _ in rows if kind == "reopen")
    assert "gaojie" in rated  # 揽月社区's leader
    page = client.get("/inbox?kind=rate", headers=bearer("gaojie"))
    assert page.status_code == 200 and "居民评价" in page.get_data(as_text=True)
