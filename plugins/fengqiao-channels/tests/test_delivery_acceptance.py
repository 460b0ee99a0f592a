"""Issue 21 acceptance, end to end in the demo county with the plugin loaded: a 吹哨 summons
reaches the summoned departments' inboxes and their 企业微信 robots exactly once; a failing
robot is retried with backoff, dead-lettered and resent; SMS waits out quiet hours unless the
case is urgent; e-mail carries an assignment. The robots, SMS gateway and mail server are local
stand-ins; the database is real (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fengqiao.cases.jobs import notify
from fengqiao.db import LOCAL_TZ, db
from fengqiao.models import (
    Case,
    Delivery,
    JobRecord,
    Notification,
    OrgUnit,
    UnitNotificationSettings,
    User,
    UserNotificationPrefs,
)
from fengqiao.notifications import fanout, sending
from fengqiao.notifications.fanout import notify_users
from fengqiao.testing.plugin import csrf_token, login, submit_form

pytestmark = pytest.mark.plugins("channels")

WHISTLE = {"summary": "揽月花园地下车库反复渗水", "address": "揽月花园地下车库", "category": "livelihood",
           "description": "车库顶板渗水半年，物业、施工方互相推诿，社区多次协调无果，需要住建和执法部门到场。",
           "departments_wanted": "住建局、综合行政执法局"}
INCIDENT = {"summary": "揽月花园垃圾清运不及时", "category": "市容环境", "description": "5幢旁垃圾桶已满两天无人清运。",
            "location": {"address": "揽月花园5幢"}}
ENFORCEMENT, HOUSING, WATER = "339901902", "339901903", "339901906"
MOBILE = "13812345678"


def _act(client, headers, number, action, **body):
    version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
    response = client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": version, **body},
                           headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def _flush(app) -> None:
    """Wait for the inline job runner (sends queued by a job run after that job)."""
    app.extensions["fengqiao.dispatcher"].flush()


def _org_id(code: str) -> int:
    return db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))


def _robots(app, configs: dict[str, dict]) -> dict[str, int]:
    """A unit admin's robot configuration, written as the settings page would store it."""
    with app.app_context():
        ids = {}
        for code, channel_config in configs.items():
            ids[code] = _org_id(code)
            db.merge(UnitNotificationSettings(org_id=ids[code], off_kinds=[], default_channels=[],
                                              quiet_start="22:00", quiet_end="07:00", channel_config=channel_config))
        db.commit()
        return ids


def _prefs(app, username: str, **values) -> None:
    with app.app_context():
        user_id = db.scalar(sa.select(User.id).where(User.username == username))
        db.merge(UserNotificationPrefs(user_id=user_id, **values))
        db.commit()


def _deliveries(app, channel: str | None = None) -> list[tuple]:
    with app.app_context():
        stmt = sa.select(Delivery.id, Delivery.event_key, Delivery.channel, Delivery.target, Delivery.status,
                         Delivery.attempts).order_by(Delivery.id)
        return [tuple(r) for r in db.execute(stmt.where(Delivery.channel == channel) if channel else stmt)]


def _plugin_settings(client, **values) -> None:
    """Save the plugin's settings on /admin/plugins/channels, as an admin does."""
    login(client, "admin")
    token = csrf_token(client, "/admin/plugins/channels")
    response = client.post("/admin/plugins/channels", data={**values, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


# ---- acceptance 1 --------------------------------------------------------------------------


def test_a_summons_reaches_the_departments_inboxes_and_each_units_robot_once(app, client, bearer, fake_server):
    units = _robots(app, {
        ENFORCEMENT: {"wecom": {"enabled": True, "url": fake_server.url("/cgi-bin/webhook/send?key=zhifa")}},
        HOUSING: {"wecom": {"enabled": True, "url": fake_server.url("/cgi-bin/webhook/send?key=zhujian")}},
        WATER: {"wecom": {"enabled": True, "url": fake_server.url("/cgi-bin/webhook/send?key=shuiwu")}},
    })
    whistle = submit_form(client, "whistle-request", WHISTLE, headers=bearer("shenli"))["case_number"]
    _act(client, bearer("zhoujian"), whistle, "approve", fields={"units": [ENFORCEMENT, HOUSING]})
    _flush(app)

    with app.app_context():
        for username in ("zhifa", "zhujian"):
            rows = db.scalars(sa.select(Notification).join(User, User.id == Notification.user_id).where(
                User.username == username, Notification.kind == "summon")).all()
            assert [r.case_number for r in rows] == [whistle]
    summons = [r for r in fake_server.requests if whistle in r["json"]["markdown"]["content"]]
    assert sorted(r["query"]["key"][0] for r in summons) == ["zhifa", "zhujian"]  # not the water bureau
    assert all(r["json"]["msgtype"] == "markdown" and "吹哨" in r["json"]["markdown"]["content"] for r in summons)
    robots = _deliveries(app, "wecom")
    summoned = [r for r in robots if r[3] in (f"unit:{units[ENFORCEMENT]}", f"unit:{units[HOUSING]}")
                and r[1] == robots[-1][1]]
    assert len(summoned) == 2 and all(r[4] == "sent" and r[5] == 1 for r in summoned)

    # RQ redelivery or the sweep running the job again: nothing is sent twice.
    before, seen = _deliveries(app), len(fake_server.requests)
    with app.app_context():
        job = db.scalar(sa.select(JobRecord).where(JobRecord.name == "cases.notify", JobRecord.status == "done")
                        .where(JobRecord.args["event"].as_string() == "summon").order_by(JobRecord.id.desc()))
        assert job is not None and sorted(job.args["units"]) == sorted([units[ENFORCEMENT], units[HOUSING]])
        notify(**job.args)
        db.commit()
    _flush(app)
    assert _deliveries(app) == before and len(fake_server.requests) == seen


# ---- acceptance 2 --------------------------------------------------------------------------


def test_a_failing_robot_is_retried_with_backoff_dead_lettered_and_resent(app, demo, fake_server, monkeypatch):
    fake_server.answer(always=(500, "upstream down"))
    units = _robots(app, {ENFORCEMENT: {"wecom": {"enabled": True, "url": fake_server.url("/send?key=k")}}})
    with app.app_context():
        notify_users("test:retry:1", [], kind="summon", title="吹哨报到：事项 T-1", text="请到场", link="/cases/T-1",
                     units=[units[ENFORCEMENT]])
        db.commit()
    _flush(app)
    [(row_id, *_rest)] = _deliveries(app, "wecom")

    def row() -> Delivery:
        with app.app_context():
            found = db.get(Delivery, row_id)
            db.expunge(found)
            return found

    first = row()
    assert (first.status, first.attempts, first.response_code) == ("pending", 1, 500)
    assert first.last_error == "企业微信暂时不可用（HTTP 500）"
    clock = [first.next_attempt_at]
    monkeypatch.setattr(sending, "utcnow", lambda: clock[0])
    waits = [first.next_attempt_at - first.created_at]
    while (current := row()).status == "pending":
        clock[0] = current.next_attempt_at - timedelta(seconds=1)
        with app.app_context():
            assert sending.retry_due()["queued"] == 0  # not due yet
            db.commit()
        clock[0] = current.next_attempt_at
        with app.app_context():
            assert sending.retry_due()["queued"] == 1
            db.commit()
        _flush(app)
        after = row()
        assert after.attempts == current.attempts + 1
        if after.status == "pending":
            waits.append(after.next_attempt_at - clock[0])
    dead = row()
    assert [round(w.total_seconds()) for w in waits] == list(sending.BACKOFF_SECONDS)
    assert (dead.status, dead.attempts, dead.response_code) == ("dead", sending.MAX_ATTEMPTS, 500)
    assert dead.last_error == "企业微信暂时不可用（HTTP 500）" and dead.response_excerpt == "upstream down"
    assert len(fake_server.requests) == sending.MAX_ATTEMPTS
    assert len({r["json"]["markdown"]["content"] for r in fake_server.requests}) == 1  # the same message

    fake_server.answer(always=(200, {"errcode": 0, "errmsg": "ok"}))
    with app.app_context():
        sending.resend(db.get(Delivery, row_id))
        db.commit()
    _flush(app)
    resent = row()
    assert (resent.status, resent.attempts, resent.last_error, resent.response_code) == ("sent", 1, "", 200)
    assert len(fake_server.requests) == sending.MAX_ATTEMPTS + 1


# ---- quiet hours ---------------------------------------------------------------------------


def test_sms_waits_out_quiet_hours_unless_the_case_is_urgent(app, client, bearer, fake_server, monkeypatch):
    _plugin_settings(client, sms_url=fake_server.url("/sms"), sms_api_key="k-1", sms_sign="【枫桥】")
    calm = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    urgent = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    _flush(app)
    _prefs(app, "zhangmin", mobile=MOBILE, channels=["sms"])
    with app.app_context():
        db.execute(sa.update(Case).where(Case.number == urgent).values(priority="urgent"))
        db.execute(sa.update(Case).where(Case.number == calm).values(priority="normal"))
        db.commit()
    night = datetime(2026, 1, 15, 23, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    clock = [night]
    monkeypatch.setattr(fanout, "utcnow", lambda: clock[0])
    monkeypatch.setattr(sending, "utcnow", lambda: clock[0])
    with app.app_context():
        for number in (calm, urgent):
            notify(number, "urge", f"事项 {number} 请尽快处理，联系 {MOBILE}", ["zhangmin"], key=f"quiet:{number}")
        db.commit()
    _flush(app)
    sent = {r["json"]["event_id"]: r for r in fake_server.requests}
    assert list(sent) == [f"case-key:quiet:{urgent}"]  # 紧急: at 23:00 too
    assert sent[f"case-key:quiet:{urgent}"]["json"]["mobile"] == MOBILE
    assert MOBILE not in sent[f"case-key:quiet:{urgent}"]["json"]["content"]  # the text is masked

    morning = datetime(2026, 1, 16, 7, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    with app.app_context():
        held = db.scalar(sa.select(Delivery).where(Delivery.event_key == f"case-key:quiet:{calm}"))
        assert held.status == "pending" and held.attempts == 0 and held.next_attempt_at == morning
    clock[0] = morning - timedelta(minutes=1)
    with app.app_context():
        assert sending.retry_due()["queued"] == 0
        db.commit()
    clock[0] = morning
    with app.app_context():
        assert sending.retry_due()["queued"] == 1
        db.commit()
    _flush(app)
    assert [r["json"]["event_id"] for r in fake_server.requests] == [f"case-key:quiet:{urgent}",
                                                                     f"case-key:quiet:{calm}"]


# ---- e-mail --------------------------------------------------------------------------------


def test_an_assignment_is_mailed_to_a_user_who_chose_email(app, client, bearer, smtp_server):
    import email
    from email import policy

    recorder, port = smtp_server
    _plugin_settings(client, smtp_host="127.0.0.1", smtp_port=str(port), smtp_from="noreply@fq.example.cn")
    _prefs(app, "zhangmin", email="zhangmin@fq.example.cn", channels=["email"])
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    _act(client, bearer("shenli"), number, "assign", fields={"assignee": "zhangmin"})
    _flush(app)
    mails = [email.message_from_bytes(m["data"], policy=policy.default) for m in recorder.messages]
    assigned = [m for m in mails if m["Subject"] == f"指派：事项 {number}"]
    assert len(assigned) == 1 and assigned[0]["To"] == "zhangmin@fq.example.cn"
    assert f"/cases/{number}" in assigned[0].get_body(("plain",)).get_content()
    with app.app_context():
        row = db.scalar(sa.select(Delivery).where(Delivery.channel == "email", Delivery.kind == "assign"))
        assert row.status == "sent" and row.target.startswith("user:")


def test_a_switched_off_plugin_sends_nothing(app, demo, client, fake_server):
    _robots(app, {ENFORCEMENT: {"wecom": {"enabled": True, "url": fake_server.url("/send?key=k")}}})
    login(client, "admin")
    token = csrf_token(client, "/admin/plugins")
    assert client.post("/admin/plugins/channels/switch", data={"enabled": "0", "csrf_token": token}).status_code == 302
    with app.app_context():
        notify_users("test:off:1", [], kind="summon", title="吹哨报到：事项 T-2", text="", link="/cases/T-2",
                     units=[_org_id(ENFORCEMENT)])
        db.commit()
    _flush(app)
    assert _deliveries(app) == [] and fake_server.requests == []
