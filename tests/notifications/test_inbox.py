"""The message centre (站内信, issue 21 part 1): delivery from the outbox job, idempotent per
(event, recipient); the bell; /inbox and /api/v1/inbox scoped to the caller's own rows."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fengqiao.cases.jobs import notify
from fengqiao.db import db
from fengqiao.models import JobRecord, Notification, User
from fengqiao.notifications import service
from fengqiao.testing.plugin import csrf_token, login, submit_form

INCIDENT = {"summary": "揽月花园垃圾清运不及时", "category": "市容环境", "description": "5幢旁垃圾桶已满两天无人清运。",
            "location": {"address": "揽月花园5幢"}}
WHISTLE = {"summary": "揽月花园地下车库反复渗水", "address": "揽月花园地下车库", "category": "livelihood",
           "description": "车库顶板渗水半年，物业、施工方互相推诿，社区多次协调无果，需要住建和执法部门到场。",
           "departments_wanted": "住建局、综合行政执法局"}
MOBILE = "13812345678"
REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": f"揽月花园3幢停水一天，电话 {MOBILE}。",
           "caller_name": "陈德福", "caller_mobile": MOBILE}
ENFORCEMENT, HOUSING, WATER = "339901902", "339901903", "339901906"


def _rows(app, username: str | None = None, kind: str | None = None) -> list[Notification]:
    with app.app_context():
        stmt = sa.select(Notification).join(User, User.id == Notification.user_id).order_by(Notification.id)
        if username:
            stmt = stmt.where(User.username == username)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        rows = list(db.scalars(stmt))
        db.expunge_all()
        return rows


def _act(client, headers, number, action, **body):
    version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
    response = client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": version, **body},
                           headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.fixture
def assigned(client, bearer):
    """A grid incident of 揽月社区 that shenli assigned to zhangmin (the job ran on commit)."""
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    _act(client, bearer("shenli"), number, "assign", fields={"assignee": "zhangmin"})
    return number


# ---- delivery ------------------------------------------------------------------------------


def test_deliver_twice_writes_one_row_per_user_masked_and_skips_non_users(app, demo):
    with app.app_context():
        db.execute(sa.update(User).where(User.username == "hanzhiming").values(active=False))
        args = dict(kind="urge", title="催办：事项 WG-1", text=f"请回电 {MOBILE}", link="/cases/WG-1",
                    case_number="WG-1")
        names = ["zhangmin", "shenli", "reporter", "nobody-here", "hanzhiming"]
        assert service.deliver("test:1", names, **args) == 2
        assert service.deliver("test:1", names, **args) == 0  # ON CONFLICT DO NOTHING
        db.commit()
    rows = _rows(app)
    assert len(rows) == 2 and all(MOBILE not in r.text and "138****5678" in r.text for r in rows)


def test_the_notify_job_run_twice_delivers_once_per_recipient(app, client, bearer, assigned):
    rows = _rows(app, "zhangmin", "assign")
    assert len(rows) == 1 and rows[0].case_number == assigned and rows[0].link == f"/cases/{assigned}"
    assert rows[0].title == f"指派：事项 {assigned}" and rows[0].read_at is None
    with app.app_context():
        job = db.scalar(sa.select(JobRecord).where(JobRecord.name == "cases.notify")
                        .order_by(JobRecord.id.desc()))
        assert job.args["event_id"] and job.status == "done"
        notify(**job.args)  # RQ redelivery or the sweep running it again
        db.commit()
        legacy = {k: v for k, v in job.args.items() if k != "event_id"}  # queued before event_id existed
        notify(**legacy)
        notify(**legacy)
        db.commit()
    assert len(_rows(app, "zhangmin", "assign")) == 2  # the legacy key is its own, but once


def test_events_without_a_history_row_are_delivered_once_per_key(app, demo):
    """临期 warnings write no history row: the job's ``key`` (notify_later's) keys the inbox."""
    with app.app_context():
        for _ in range(2):
            notify("WG-1", "due_soon", "事项 WG-1 即将超期", ["zhangmin"], key="sla:1:due_soon:2026-12-08")
        notify("WG-1", "due_soon", "事项 WG-1 即将超期", ["zhangmin"], key="sla:1:due_soon:2026-12-09")
        db.commit()
    rows = _rows(app, "zhangmin", "due_soon")
    assert [r.event_key for r in rows] == ["case-key:sla:1:due_soon:2026-12-08", "case-key:sla:1:due_soon:2026-12-09"]
    assert rows[0].title == "临期：事项 WG-1"


def test_dispatch_and_summon_reach_the_units_staff(app, client, bearer):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    _act(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    assert [r.case_number for r in _rows(app, "shuiwu", "dispatch")] == [number]
    assert _rows(app, "zhifa") == []  # not dispatched to the enforcement bureau

    whistle = submit_form(client, "whistle-request", WHISTLE, headers=bearer("shenli"))["case_number"]
    _act(client, bearer("zhoujian"), whistle, "approve", fields={"units": [ENFORCEMENT, HOUSING]})
    for username in ("zhifa", "zhujian"):
        rows = _rows(app, username, "summon")
        assert [r.case_number for r in rows] == [whistle] and "报到" in rows[0].text
    assert _rows(app, "shuiwu", "summon") == []


# ---- the page ------------------------------------------------------------------------------


def test_inbox_lists_own_rows_and_opening_one_marks_it_read(app, client, assigned):
    login(client, "zhangmin")
    page = client.get("/inbox").get_data(as_text=True)
    assert f"指派：事项 {assigned}" in page and "标为已读" in page
    assert 'data-unread="1"' in page  # the bell
    row = _rows(app, "zhangmin", "assign")[0]
    opened = client.get(f"/inbox/{row.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/cases/{assigned}")
    assert _rows(app, "zhangmin", "assign")[0].read_at is not None
    assert 'data-unread="0"' in client.get("/inbox").get_data(as_text=True)
    assert "没有未读消息" in client.get("/inbox?unread=1").get_data(as_text=True)


def test_another_users_notification_is_404_on_page_and_api(app, client, assigned):
    row = _rows(app, "zhangmin", "assign")[0]
    other = app.test_client()
    login(other, "shenli")
    assert other.get(f"/inbox/{row.id}/open").status_code == 404
    token = csrf_token(other, "/inbox")
    assert other.post(f"/inbox/{row.id}/read", data={"csrf_token": token}).status_code == 404
    api = other.post("/api/v1/inbox/read", json={"ids": [row.id]}, headers={"X-CSRFToken": token})
    assert api.status_code == 200 and api.get_json()["marked"] == 0
    assert all(item["id"] != row.id for item in other.get("/api/v1/inbox").get_json()["items"])
    assert _rows(app, "zhangmin", "assign")[0].read_at is None


def test_mark_read_and_all_read_need_the_csrf_token(app, client, assigned):
    with app.app_context():
        service.deliver("test:2", ["zhangmin"], kind="urge", title="催办：事项 X", text="", link="/cases/X")
        db.commit()
    login(client, "zhangmin")
    first = _rows(app, "zhangmin")[0]
    assert client.post(f"/inbox/{first.id}/read").status_code == 400  # no token
    assert client.post("/inbox/read-all").status_code == 400
    assert client.post("/api/v1/inbox/read", json={"all": True}).status_code == 400  # cookie, no header
    assert all(r.read_at is None for r in _rows(app, "zhangmin"))
    token = csrf_token(client, "/inbox")
    assert client.post(f"/inbox/{first.id}/read", data={"csrf_token": token}).status_code == 302
    assert [r.read_at is not None for r in _rows(app, "zhangmin")] == [True, False]
    done = client.post("/inbox/read-all", data={"csrf_token": token, "unread": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/inbox?unread=1")
    assert all(r.read_at is not None for r in _rows(app, "zhangmin"))


@pytest.mark.parametrize("query,pointer", [("unread=2", "/unread"), ("kind=nope", "/kind"),
                                           ("cursor=%21%21", "/cursor"), ("limit=0", "/limit"),
                                           ("limit=%C2%B2", "/limit")])
def test_bad_parameters_are_422_in_chinese(client, bearer, demo, query, pointer):
    headers = bearer("zhangmin")
    api = client.get(f"/api/v1/inbox?{query}", headers=headers)
    assert api.status_code == 422
    problem = api.get_json()["errors"][0]
    assert problem["pointer"] == pointer and re.search(r"[\u4e00-\u9fff]", problem["message"])
    login(client, "zhangmin")
    page = client.get(f"/inbox?{query}")
    assert page.status_code == 422 and re.search(r"[\u4e00-\u9fff]", page.get_data(as_text=True))


@pytest.mark.parametrize("body", [{}, {"ids": "1"}, {"ids": [0]}, {"ids": list(range(1, 202))},
                                  {"all": "yes"}, {"ids": [1], "extra": 1}])
def test_bad_read_bodies_are_422(client, bearer, demo, body):
    response = client.post("/api/v1/inbox/read", json=body, headers=bearer("zhangmin"))
    assert response.status_code == 422
    assert re.search(r"[\u4e00-\u9fff]", response.get_json()["errors"][0]["message"])


# ---- the API -------------------------------------------------------------------------------


def test_api_lists_filters_pages_and_marks_read(app, client, bearer, assigned):
    with app.app_context():
        for i in range(3):
            service.deliver(f"test:{i}", ["zhangmin"], kind="urge", title=f"催办：事项 X{i}", text="",
                            link=f"/cases/X{i}")
        db.commit()
    headers = bearer("zhangmin")
    body = client.get("/api/v1/inbox?limit=2", headers=headers).get_json()
    assert [i["title"] for i in body["items"]] == ["催办：事项 X2", "催办：事项 X1"] and body["unread"] == 4
    first = body["items"][0]
    assert set(first) >= {"id", "kind", "title", "text", "link", "case_number", "created_at", "read"}
    # the public contract's names (docs/notifications.md: {id, title, text, link, read, at, event})
    assert (first["event"], first["at"]) == (first["kind"], first["created_at"]) == ("urge", first["at"])
    rest = client.get(f"/api/v1/inbox?limit=2&cursor={body['next_cursor']}", headers=headers).get_json()
    assert [i["title"] for i in rest["items"]] == ["催办：事项 X0", f"指派：事项 {assigned}"]
    assert rest["next_cursor"] is None
    assigns = client.get("/api/v1/inbox?kind=assign", headers=headers).get_json()["items"]
    assert [i["case_number"] for i in assigns] == [assigned]
    marked = client.post("/api/v1/inbox/read", json={"ids": [assigns[0]["id"]]}, headers=headers).get_json()
    assert marked == {"marked": 1, "unread": 3}
    unread = client.get("/api/v1/inbox?unread=1", headers=headers).get_json()["items"]
    assert len(unread) == 3 and not any(i["read"] for i in unread)
    one = client.post(f"/api/v1/inbox/{unread[0]['id']}/read", headers=headers)
    assert one.status_code == 200 and one.get_json() == {"marked": 1, "unread": 2}
    assert client.post(f"/api/v1/inbox/{unread[0]['id']}/read", headers=bearer("shenli")).status_code == 404
    assert client.post("/api/v1/inbox/read", json={"all": True}, headers=headers).get_json() == \
        {"marked": 2, "unread": 0}


# ---- the bell ------------------------------------------------------------------------------


def test_bell_is_capped_and_only_on_staff_pages(app, client, demo):
    with app.app_context():
        for i in range(105):
            service.deliver(f"test:{i}", ["zhangmin"], kind="urge", title="催办", text="", link="/cases/X")
        db.commit()
    assert "bell-count" not in client.get("/board").get_data(as_text=True)  # anonymous: no bell
    login(client, "zhangmin")
    assert 'data-unread="99+"' in client.get("/").get_data(as_text=True)
    assert "bell-count" not in client.get("/board").get_data(as_text=True)  # a public page


def test_bell_costs_one_query_per_page_and_none_when_anonymous(app, client, demo):
    seen: list[str] = []

    def _record(conn, cursor, statement, *args):
        if "notifications" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.get_bind()
    sa.event.listen(engine, "before_cursor_execute", _record)
    try:
        client.get("/login")
        assert seen == []
        login(client, "zhangmin")
        seen.clear()
        client.get("/")
        assert len(seen) == 1 and "LIMIT" in seen[0].upper()
    finally:
        sa.event.remove(engine, "before_cursor_execute", _record)
