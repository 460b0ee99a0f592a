"""Who hears of 临期 / 超期 / 超期升级 is declared per case type (``sla.notify``): a declared list
replaces the default, an event left out keeps it (the assignee and the handling unit's heads;
the unit escalated to), ``[]`` tells nobody, and a wrong code is refused in Chinese."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from fengqiao.bundled import bundled_folder
from fengqiao.cases import case_types
from fengqiao.cases import workflow_tables as wt
from fengqiao.cases.case_type_diff import diff_definitions
from fengqiao.cases.jobs import sla_sweep
from fengqiao.cases.workflow import check_case_type
from fengqiao.db import db, utcnow
from fengqiao.models import Case, JobRecord, Notification, OrgUnit, User
from fengqiao.testing.plugin import csrf_token, submit_form, walk_case

REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
INCIDENT = {"summary": "湖滨路路灯不亮", "category": "安全隐患", "description": "湖滨路东段三盏路灯夜间不亮。",
            "location": {"address": "湖滨路东段"}, "urgency": "normal"}
COMMUNITY, WATER = "339901001001", "339901906"  # 揽月社区 (gaojie 书记, shenli, tangmin); 水务集团 (shuiwu)


def _file(key: str) -> dict:
    return json.loads((bundled_folder("form_definitions") / f"{key}.casetype.json").read_text(encoding="utf-8"))


def _declare(app, key: str, notify: dict | None) -> None:
    """Save a version of ``key`` whose sla.notify is ``notify`` (None: the key left out)."""
    definition = _file(key)
    if notify is None:
        definition["sla"].pop("notify", None)
    else:
        definition["sla"]["notify"] = notify
    with app.app_context():
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        case_types.save_version(key, json.dumps(definition, ensure_ascii=False), "时限通知", admin)
        db.commit()


def _set(app, number, **values) -> None:
    with app.app_context():
        if "assignee" in values:
            name = values.pop("assignee")
            values["assignee_id"] = db.scalar(sa.select(User.id).where(User.username == name))
        db.execute(sa.update(Case).where(Case.number == number).values(**values))
        db.commit()


def _sweep(app) -> dict:
    with app.app_context():
        result = sla_sweep()
        db.commit()
        return result


def _job_args(app, number, event) -> list[dict]:
    with app.app_context():
        return [j.args for j in db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.notify")
                                           .order_by(JobRecord.id))
                if j.args["case_number"] == number and j.args["event"] == event]


def _inbox(app, number, kind) -> list[str]:
    with app.app_context():
        return sorted(db.scalars(sa.select(User.username).join(Notification, Notification.user_id == User.id)
                                 .where(Notification.case_number == number, Notification.kind == kind)))


def _unit_id(app, code: str) -> int:
    with app.app_context():
        return db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))


def _dispatched_overdue(app, client, bearer) -> str:
    """A 揽月社区 request the street dispatched to 水务集团, now overdue (no assignee)."""
    number = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]
    walk_case(client, number, [("dispatch", {"fields": {"unit": WATER}})], bearer("luojia"))
    _set(app, number, deadline=utcnow() - timedelta(hours=2))
    return number


def test_overdue_declared_for_the_case_unit_tells_its_staff_not_the_handling_heads(app, client, bearer, demo):
    _declare(app, "livelihood_request", {"overdue": ["case_unit"]})
    number = _dispatched_overdue(app, client, bearer)
    assert _sweep(app)["overdue"] == 1
    _sweep(app)  # once, however often the sweep runs
    jobs = _job_args(app, number, "overdue")
    assert len(jobs) == 1
    assert jobs[0]["recipients"] == ["gaojie", "shenli", "tangmin"]  # 揽月社区's staff
    assert jobs[0]["units"] == [_unit_id(app, COMMUNITY)]  # its group robot, not 水务集团's
    assert _inbox(app, number, "overdue") == ["gaojie", "shenli", "tangmin"]  # not shuiwu (水务集团's head)


@pytest.mark.parametrize("notify", [None, {"due_soon": ["assignee"]}], ids=["absent", "other-event"])
def test_an_event_left_out_keeps_the_default(app, client, bearer, demo, notify):
    _declare(app, "livelihood_request", notify)
    number = _dispatched_overdue(app, client, bearer)
    _set(app, number, assignee="shenli")
    _sweep(app)
    jobs = _job_args(app, number, "overdue")
    assert len(jobs) == 1 and jobs[0]["recipients"] == ["shenli", "shuiwu"]  # assignee + handling unit's head
    assert jobs[0]["units"] == [_unit_id(app, WATER)]


def test_an_empty_list_tells_nobody_of_due_soon(app, client, demo):
    _declare(app, "livelihood_request", {"due_soon": []})
    number = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]
    _set(app, number, assignee="shenli", deadline=utcnow() + timedelta(hours=1))
    assert _sweep(app)["due_soon"] == 1  # still marked 临期 …
    assert _job_args(app, number, "due_soon") == [] and _inbox(app, number, "due_soon") == []  # … told to nobody


def test_an_escalation_declared_for_the_unit_and_the_assignee(app, client, bearer, demo):
    _declare(app, "grid_incident", {"escalated": ["escalated_unit", "assignee"], "overdue": ["handling_unit"]})
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    _set(app, number, assignee="zhangmin", deadline=utcnow() - timedelta(hours=2))
    assert _sweep(app)["escalated"] == 1
    escalate = _job_args(app, number, "escalate")
    assert len(escalate) == 1
    assert escalate[0]["recipients"] == ["gaojie", "shenli", "tangmin", "zhangmin"]  # 揽月社区 + the grid worker
    assert escalate[0]["units"] == [_unit_id(app, COMMUNITY)]
    assert _inbox(app, number, "escalate") == ["gaojie", "shenli", "tangmin", "zhangmin"]


def test_the_shipped_types_declare_todays_defaults():
    for key in ("livelihood_request", "grid_incident"):
        assert _file(key)["sla"]["notify"] == {"due_soon": ["assignee", "unit_heads"],
                                               "overdue": ["assignee", "unit_heads"],
                                               "escalated": ["escalated_unit"]}
    for key in ("dispute_mediation", "proxy_service"):
        assert _file(key)["sla"]["notify"] == {"due_soon": ["assignee", "unit_heads"],
                                               "overdue": ["assignee", "unit_heads"]}


def test_wrong_codes_and_events_are_named_in_chinese():
    definition = _file("grid_incident")
    definition["sla"]["notify"] = {"overdue": ["case_unit", "reporter"], "late": [], "due_soon": ["assignee", "assignee"]}
    messages = {p: m for p, m, _c in check_case_type(definition)}
    assert messages["/sla/notify/overdue/1"].startswith("超期通知对象 reporter 无效（可选：assignee（承办人）")
    assert "escalated_unit（升级到的单位）" in messages["/sla/notify/overdue/1"]
    assert messages["/sla/notify/late"].startswith("时限通知 notify 的事件 late 无效（可选：due_soon（临期）")
    assert messages["/sla/notify/due_soon"] == "临期通知对象：各项不能重复"


DESIGN = "/admin/workflows/grid_incident/design"


def test_an_unknown_code_posted_as_json_is_422_in_chinese(login_as, demo):
    client = login_as("admin")
    definition = _file("grid_incident")
    definition["sla"]["notify"]["overdue"] = ["nobody_at_all"]
    response = client.post(DESIGN, data={"csrf_token": csrf_token(client, DESIGN), "source": "json",
                                         "definition": json.dumps(definition, ensure_ascii=False),
                                         "note": "超期通知"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "超期通知对象 nobody_at_all 无效（可选：" in html
    with demo.app_context():
        assert case_types.get_draft("grid_incident") is None


def test_the_designer_tables_show_edit_and_round_trip_the_declaration(login_as, demo):
    client = login_as("admin")
    html = client.get(DESIGN).get_data(as_text=True)
    assert 'name="sla-notify" value="y"' in html and "超期升级时通知" in html
    assert 'name="sla-notify_escalated" value="escalated_unit" checked' in html
    definition = _file("grid_incident")
    tables = wt.to_tables(definition)
    tables["sla"]["notify_overdue"] = ["case_unit", "assignee"]
    tables["sla"]["notify_due_soon"] = []
    posted = wt.tables_from_form(MultiDict(wt.flatten(tables)))
    out, problems = wt.from_tables(posted, definition)
    assert problems == []
    assert out["sla"]["notify"] == {"due_soon": [], "overdue": ["assignee", "case_unit"],  # kept order, new after
                                    "escalated": ["escalated_unit"]}
    # a type that declares nothing: ticks equal to the defaults add nothing; a change adds that event only
    bare = copy.deepcopy(definition)
    del bare["sla"]["notify"]
    tables = wt.to_tables(bare)
    assert tables["sla"]["notify_overdue"] == ["assignee", "unit_heads"]
    assert wt.from_tables(tables, bare) == (bare, [])
    tables["sla"]["notify_escalated"] = ["escalated_unit", "unit_heads"]
    out, _ = wt.from_tables(tables, bare)
    assert out["sla"]["notify"] == {"escalated": ["escalated_unit", "unit_heads"]}
    # a form without the pickers (no marker) leaves the declaration alone
    form = MultiDict([(k, v) for k, v in wt.flatten(wt.to_tables(definition)) if not k.startswith("sla-notify")])
    assert wt.from_tables(wt.tables_from_form(form), definition)[0]["sla"]["notify"] == definition["sla"]["notify"]
    # a wrong code posted in the tables lands on its picker
    problems = check_case_type({**definition, "sla": {**definition["sla"], "notify": {"overdue": ["bogus"]}}})
    assert [wt.cell_of(p, wt.to_tables(definition)) for p, _m, _c in problems] == ["/sla/notify_overdue"]


def test_the_version_comparison_describes_the_change():
    before = _file("grid_incident")
    after = copy.deepcopy(before)
    after["sla"]["notify"]["overdue"] = ["case_unit"]
    after["sla"]["notify"]["due_soon"] = []
    rows = {r.label: (r.old, r.new) for r in diff_definitions(before, after).basics}
    assert rows["时限：超期时通知"] == ("承办人、单位负责人", "事项所属单位")
    assert rows["时限：临期时通知"] == ("承办人、单位负责人", "不通知")
    assert "时限：超期升级时通知" not in rows  # unchanged
    implicit = copy.deepcopy(before)
    del implicit["sla"]["notify"]
    assert not any(r.label.endswith("时通知") for r in diff_definitions(implicit, before).basics)


def test_the_case_type_page_lists_who_hears_of_the_clock(app, login_as, demo):
    _declare(app, "livelihood_request", {"overdue": ["case_unit"], "due_soon": []})
    html = login_as("admin").get("/admin/workflows/livelihood_request").get_data(as_text=True)
    assert '<li data-event="overdue">超期：事项所属单位</li>' in html
    assert '<li data-event="escalated">超期升级：升级到的单位</li>' in html  # left out: the default
    assert "临期：" in html and "不通知" in html
