"""Notifications declared per transition (issue 21 part 2): a transition's ``notify`` list
reaches the named people's inbox once the step is written, never the actor, once per step."""

from __future__ import annotations

import copy
import json
import re

import sqlalchemy as sa

from fengqiao.bundled import bundled_folder
from fengqiao.cases import recipients
from fengqiao.cases.case_type_diff import diff_definitions
from fengqiao.cases.jobs import notify
from fengqiao.cases.workflow import check_case_type
from fengqiao.db import db
from fengqiao.models import Case, JobRecord, Notification, User
from fengqiao.testing.plugin import login, submit_form

MOBILE = "13812345678"
REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": f"揽月花园3幢停水一天，电话 {MOBILE}。",
           "caller_name": "陈德福", "caller_mobile": MOBILE}
COMMUNITY, WATER = "339901001001", "339901906"  # 揽月社区 (gaojie, shenli, tangmin); 水务集团 (shuiwu)


def _rows(app, number: str, username: str | None = None) -> list[Notification]:
    with app.app_context():
        stmt = (sa.select(Notification).join(User, User.id == Notification.user_id)
                .where(Notification.case_number == number).order_by(Notification.id))
        if username:
            stmt = stmt.where(User.username == username)
        rows = list(db.scalars(stmt))
        db.expunge_all()
        return rows


def _who(app, number: str, kind: str) -> set[str]:
    with app.app_context():
        return set(db.scalars(sa.select(User.username).join(Notification, Notification.user_id == User.id)
                              .where(Notification.case_number == number, Notification.kind == kind)))


def _act(client, headers, number, action, **body):
    version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
    response = client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": version, **body},
                           headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def _request(client) -> str:
    return submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]


def _replied(client, bearer) -> str:
    """A 12345 request of 揽月社区 the street dispatched back to the community, which signed
    (shenli, now the assignee) and replied."""
    number = _request(client)
    _act(client, bearer("luojia"), number, "dispatch", fields={"unit": COMMUNITY})
    _act(client, bearer("shenli"), number, "acknowledge")
    _act(client, bearer("shenli"), number, "reply", comment="已联系水务抢修", fields={"reply": "已恢复供水"})
    return number


def _livelihood() -> dict:
    return json.loads((bundled_folder("form_definitions") / "livelihood_request.casetype.json")
                      .read_text(encoding="utf-8"))


def test_dispatch_tells_the_handling_units_staff_once_and_not_the_dispatcher(app, client, bearer):
    number = _request(client)
    _act(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    rows = _rows(app, number, "shuiwu")
    # the dispatch effect's own 请签收 message; the declared handling_unit adds no second row
    assert [r.kind for r in rows] == ["dispatch"] and "请签收办理" in rows[0].text
    assert _rows(app, number, "luojia") == []


def test_send_back_tells_the_case_unit(app, client, bearer):
    number = _request(client)
    _act(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    _act(client, bearer("shuiwu"), number, "send_back", comment=f"非本单位职责，联系人 {MOBILE}")
    assert _who(app, number, "send_back") == {"gaojie", "shenli", "tangmin"}
    row = _rows(app, number, "gaojie")[0]
    assert row.text.startswith(f"事项 {number}：退单，当前状态：")
    assert MOBILE not in row.text and "非本单位职责" not in row.text  # never the comment
    assert row.link == f"/cases/{number}" and row.title == f"事项动态：事项 {number}"


def test_reply_tells_the_case_unit_but_not_the_one_who_replied(app, client, bearer):
    number = _replied(client, bearer)
    assert _who(app, number, "reply") == {"gaojie", "tangmin"}  # shenli replied: not told of her own step
    assert "办结反馈" in _rows(app, number, "gaojie")[-1].text


def test_redo_tells_the_assignee_and_the_handling_unit_without_the_actor(app, client, bearer):
    number = _replied(client, bearer)
    _act(client, bearer("gaojie"), number, "redo", comment="答复不完整，请补充")
    assert _who(app, number, "redo") == {"shenli", "tangmin"}  # gaojie took the step
    redo = [r for r in _rows(app, number, "shenli") if r.kind == "redo"]
    assert len(redo) == 1  # assignee and handling-unit member: one row


def test_the_step_job_run_twice_delivers_once(app, client, bearer):
    number = _replied(client, bearer)
    with app.app_context():
        job = db.scalar(sa.select(JobRecord).where(JobRecord.name == "cases.notify", JobRecord.status == "done")
                        .order_by(JobRecord.id.desc()))
        assert job.args["event"] == "reply" and job.args["key"].startswith("step:")
        notify(**job.args)
        notify(**job.args)
        db.commit()
    assert [r.kind for r in _rows(app, number, "gaojie")] == ["dispatch", "reply"]


def test_resolve_names_each_code_and_leaves_the_actor_out(app, client, bearer):
    number = _replied(client, bearer)
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        shenli = db.scalar(sa.select(User).where(User.username == "shenli"))
        gaojie = db.scalar(sa.select(User).where(User.username == "gaojie"))
        names = recipients.resolve(case, ("assignee", "submitter", "reporter"), actor=gaojie,
                                   assignee_id=case.assignee_id)
        assert names == ["shenli", "reporter"]  # a resident submitted: no submitter account
        assert recipients.resolve(case, ("unit_heads",), actor=shenli, assignee_id=None) == ["gaojie"]
        assert "shenli" not in recipients.resolve(case, ("case_unit", "assignee"), actor=shenli,
                                                  assignee_id=shenli.id)


def test_an_unknown_recipient_is_refused_in_chinese_naming_the_valid_ones():
    data = _livelihood()
    data["workflow"]["transitions"][0]["notify"] = ["assignee", "everyone"]
    problems = check_case_type(data)
    assert len(problems) == 1
    pointer, message, code = problems[0]
    assert pointer == "/workflow/transitions/0/notify/1" and code == "enum"
    assert "通知对象 everyone 无效" in message and "handling_unit（承办单位）" in message
    assert re.search(r"第 1 条流转「即时答复结单」", message)


def test_the_shipped_types_declare_valid_notifications():
    data = _livelihood()
    assert check_case_type(data) == []
    declared = {t["name"]: t.get("notify") for t in data["workflow"]["transitions"]}
    assert declared["reply"] == ["case_unit"] and declared["redo"] == ["assignee", "handling_unit"]
    duplicate = copy.deepcopy(data)
    duplicate["workflow"]["transitions"][0]["notify"] = ["assignee", "assignee"]
    assert [m for _p, m, _c in check_case_type(duplicate)] == ["第 1 条流转「即时答复结单」的 通知对象 notify：各项不能重复"]


def test_the_case_type_page_shows_the_recipients_in_chinese(app, client, demo):
    login(client, "admin")
    page = client.get("/admin/workflows/livelihood_request").get_data(as_text=True)
    row = re.search(r'<tr data-transition="redo">.*?</tr>', page, re.S).group(0)
    assert re.search(r"<td[^>]*data-notify>承办人、承办单位</td>", row)


def test_comparing_versions_shows_a_changed_notify_list_in_chinese():
    old = _livelihood()
    new = copy.deepcopy(old)
    reply = next(t for t in new["workflow"]["transitions"] if t["name"] == "reply")
    reply["notify"] = ["case_unit", "unit_heads"]
    change = next(c for c in diff_definitions(old, new).transitions if c.key == "reply")
    assert [(r.label, r.old, r.new) for r in change.rows] == [("通知", "事项所属单位", "事项所属单位、单位负责人")]


def test_the_designer_tables_carry_and_edit_the_notify_list():
    from werkzeug.datastructures import MultiDict

    from fengqiao.cases import workflow_tables as wt

    data = _livelihood()
    tables = wt.to_tables(data)
    posted = wt.tables_from_form(MultiDict(wt.flatten(tables)))
    assert wt.from_tables(posted, data) == (data, [])  # unchanged through the posted form
    redo = next(i for i, t in enumerate(data["workflow"]["transitions"]) if t["name"] == "redo")
    assert posted["transitions"][redo]["notify"] == ["assignee", "handling_unit"]
    posted["transitions"][redo]["notify"] = ["unit_heads", "assignee"]
    posted["transitions"][0]["notify"] = []
    changed, problems = wt.from_tables(posted, data)
    assert problems == []
    assert changed["workflow"]["transitions"][redo]["notify"] == ["assignee", "unit_heads"]  # base order kept
    assert "notify" not in changed["workflow"]["transitions"][0]
