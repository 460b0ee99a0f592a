"""Residents reached by SMS (issue 21 part 4): a resident who left a mobile and ticked
「同意通过短信接收办理进展」 hears of public replies and of the closure through the channels
that reach residents — once per step, masked, with the /track link — and nobody else does."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.forms.definition import check_definition
from fengqiao.models import Case, CaseEvent, Delivery, OrgUnit, UnitNotificationSettings
from fengqiao.models.audit import CaseAnonymisation
from fengqiao.notifications.channels import register
from fengqiao.notifications.residents import resident_recipient
from fengqiao.sdk.channels import Channel, Delivered
from fengqiao.testing.plugin import submit_form, walk_case

COMMUNITY, COUNTY = "339901001001", "339901"
REQUEST = {"request_type": "help", "summary": "揽月花园5幢路灯不亮", "content": "5幢门口路灯坏了一周，邻居李阿姨也反映过。",
           "caller_name": "陈德福", "caller_mobile": "13800138000", "address": "揽月花园5幢"}
REPLY = "已通知物业更换灯泡，如有问题可联系物业王经理 13912345678"


class SmsRecorder(Channel):
    """A test SMS channel: records what it was asked to send."""

    name, label, audience, address_field = "test_sms", "测试短信", "personal", "mobile"
    quiet_hours, reaches_residents = True, True

    def __init__(self):
        self.sent = []

    def send(self, recipient, message):
        self.sent.append((recipient, message))
        return Delivered(200, "ok")


class StaffMail(SmsRecorder):
    """A personal channel that does not reach residents: it must carry nothing here."""

    name, label, address_field, quiet_hours, reaches_residents = "test_mail", "测试邮件", "email", False, False


def _quiet(app, start: str, end: str) -> None:
    """The county's quiet hours (start == end: none), so the test does not depend on the clock."""
    with app.app_context():
        county = db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == COUNTY))
        settings = db.get(UnitNotificationSettings, county) or UnitNotificationSettings(org_id=county)
        settings.quiet_start, settings.quiet_end = start, end
        db.add(settings)
        db.commit()


@pytest.fixture
def sms(app, demo):
    channel, mail = SmsRecorder(), StaffMail()
    register(app, None, channel)
    register(app, None, mail)
    _quiet(app, "00:00", "00:00")
    yield channel
    app.extensions["fengqiao.channels"].pop("test_sms")
    app.extensions["fengqiao.channels"].pop("test_mail")
    assert not mail.sent


def settle(app) -> None:
    """Wait for the chain of jobs a request started (notify → resident → send): a job's own
    jobs run after it, unwaited by the request."""
    for _ in range(4):
        app.extensions["fengqiao.dispatcher"].flush()


def _deliveries(app, number: str) -> list[Delivery]:
    settle(app)
    with app.app_context():
        case_id = db.scalar(sa.select(Case.id).where(Case.number == number))
        rows = list(db.scalars(sa.select(Delivery).where(Delivery.target == f"case:{case_id}").order_by(Delivery.id)))
        db.expunge_all()
        return rows


def _reply_publicly(client, number: str, headers: dict, text: str = REPLY) -> None:
    response = client.post(f"/api/v1/cases/{number}/actions/comment", headers=headers,
                           json={"comment": text, "fields": {"public": True}})
    assert response.status_code == 200, response.get_json()


def test_consent_and_mobile_bring_one_sms_per_public_reply_and_on_closure(app, client, sms, bearer):
    receipt = submit_form(client, "livelihood-request", {**REQUEST, "contact_consent": True}, org=COMMUNITY)
    number, code = receipt["case_number"], receipt["tracking_code"]
    staff = bearer("shenli")
    _reply_publicly(client, number, staff)
    _reply_publicly(client, number, staff, "内部讨论")  # another public reply: its own message
    client.post(f"/api/v1/cases/{number}/actions/comment", headers=staff,
                json={"comment": "内部备注，不公开", "fields": {"public": False}})
    walk_case(client, number, [("answer", {"comment": "路灯已于今日修复"})], staff)

    rows = _deliveries(app, number)
    assert [(r.channel, r.status, r.kind) for r in rows] == [
        ("test_sms", "sent", "reply"), ("test_sms", "sent", "reply"), ("test_sms", "sent", "case.closed")]
    assert len(sms.sent) == 3 and {r.address for r, _ in sms.sent} == {"13800138000"}
    assert {r.kind for r, _ in sms.sent} == {"resident"}

    first, closed = sms.sent[0][1], sms.sent[2][1]
    assert first.case_number == number and number in first.text
    assert "当前状态：待受理" in first.text and "答复：已通知物业更换灯泡" in first.text
    assert "139****5678" in first.text and "13912345678" not in first.text  # masked
    assert "当前状态：已结单" in closed.text and "答复：路灯已于今日修复" in closed.text
    link = urlparse(closed.link)
    assert link.path == "/track" and parse_qs(link.query) == {"number": [number], "code": [code]}
    everything = " ".join(f"{m.title} {m.text} {m.link}" for _, m in sms.sent)
    for private in ("陈德福", "13800138000", "李阿姨", "内部备注", "shenli", "沈丽", "揽月花园5幢"):
        assert private not in everything  # nobody's personal data, no staff names, no internal notes

    # The step is told once however often its jobs run (the inbox/notify job again).
    from fengqiao.cases.jobs import notify

    with app.app_context():
        event_id = int(rows[0].event_key.split(":")[1])
        notify(number, "reply", "x", ["reporter"], event_id=event_id)
        db.commit()
    assert len(_deliveries(app, number)) == 3


def test_a_step_with_notify_that_also_closes_sends_one_message(app, client, sms, bearer):
    """The ``notify`` effect (reporter) and the closure of one step share its history row."""
    number = submit_form(client, "livelihood-request", {**REQUEST, "contact_consent": True}, org=COMMUNITY)["case_number"]
    from fengqiao.cases.jobs import notify
    from fengqiao.notifications.resident_updates import notify_resident
    from fengqiao.notifications.residents import notify_closed

    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        event_id = db.scalar(sa.select(sa.func.max(CaseEvent.id)).where(CaseEvent.case_id == case.id))
        notify_closed(case.id, event_id)
        notify(number, "answer", "您的事项有新进展", ["reporter"], event_id=event_id)
        db.commit()
        assert notify_resident(case, f"case-event:{event_id}", "answer", event_id=event_id) == []  # already there
    rows = _deliveries(app, number)
    assert [(r.kind, r.status) for r in rows] == [("case.closed", "sent")] and len(sms.sent) == 1


def test_without_consent_nothing_is_sent_and_track_still_shows_the_reply(app, client, sms, bearer):
    receipt = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)  # box not ticked
    number, code = receipt["case_number"], receipt["tracking_code"]
    unticked = submit_form(client, "livelihood-request", {**REQUEST, "contact_consent": False}, org=COMMUNITY)
    staff = bearer("shenli")
    for case_number in (number, unticked["case_number"]):
        _reply_publicly(client, case_number, staff)
        walk_case(client, case_number, [("answer", {"comment": "路灯已于今日修复"})], staff)
        assert _deliveries(app, case_number) == []
    assert sms.sent == []
    view = client.get(f"/api/v1/track/{number}?code={code}").get_json()
    assert [r["text"] for r in view["replies"]] == ["已通知物业更换灯泡，如有问题可联系物业王经理 139****5678", "路灯已于今日修复"]
    assert view["state"] == "closed"


def test_an_anonymised_case_reaches_nobody(app, client, sms, bearer):
    number = submit_form(client, "livelihood-request", {**REQUEST, "contact_consent": True}, org=COMMUNITY)["case_number"]
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        assert resident_recipient(case.id).address == "13800138000"
        db.add(CaseAnonymisation(case_id=case.id, closed_days=1))
        db.commit()
        assert resident_recipient(case.id) is None
        case.data = {**case.data, "caller_mobile": "（已匿名化）"}
        db.query(CaseAnonymisation).delete()
        db.commit()
        assert resident_recipient(case.id) is None  # the stored value is no mobile any more
    _reply_publicly(client, number, bearer("shenli"))
    assert _deliveries(app, number) == [] and sms.sent == []


def test_a_queued_message_is_not_sent_once_the_case_is_anonymised(app, client, sms, bearer):
    local = utcnow().astimezone(LOCAL_TZ)
    _quiet(app, f"{(local - timedelta(hours=1)):%H:%M}", f"{(local + timedelta(hours=1)):%H:%M}")  # now is quiet
    number = submit_form(client, "livelihood-request", {**REQUEST, "contact_consent": True}, org=COMMUNITY)["case_number"]
    _reply_publicly(client, number, bearer("shenli"))
    [row] = _deliveries(app, number)
    assert row.status == "pending" and row.next_attempt_at > utcnow()
    assert sms.sent == []
    from fengqiao.notifications.sending import send

    with app.app_context():
        case_id = db.scalar(sa.select(Case.id).where(Case.number == number))
        db.add(CaseAnonymisation(case_id=case_id, closed_days=1))
        db.execute(sa.update(Delivery).where(Delivery.id == row.id).values(next_attempt_at=utcnow() - timedelta(1)))
        send(row.id)
        db.commit()
    [row] = _deliveries(app, number)
    assert row.status == "dead" and sms.sent == []


def test_staff_submissions_without_the_declaration_reach_nobody(app, client, sms, bearer):
    incident = {"summary": "湖滨路路灯不亮", "category": "安全隐患", "description": "三盏路灯不亮",
                "location": {"address": "湖滨路东段"}, "reporter_mobile": "13812345678"}
    number = submit_form(client, "grid-incident", incident, headers=bearer("zhangmin"))["case_number"]
    _reply_publicly(client, number, bearer("shenli"))
    assert _deliveries(app, number) == []


def _definition(contact: dict, **props) -> dict:
    return {"key": "contact-test", "title": "测试", "access": "public",
            "schema": {"type": "object", "additionalProperties": False, "properties": {
                "mobile": {"type": "string", "format": "cn-mobile"}, "ok": {"type": "boolean"},
                "name": {"type": "string"}, **props}},
            "ui": {"contact": contact}}


@pytest.mark.parametrize(("contact", "pointer", "words"), [
    ({"mobile": "mobile", "consent": "ok"}, None, None),
    ({"mobile": "phone", "consent": "ok"}, "/ui/contact/mobile", "不存在"),
    ({"mobile": "name", "consent": "ok"}, "/ui/contact/mobile", "cn-mobile"),
    ({"mobile": "mobile", "consent": "name"}, "/ui/contact/consent", "boolean"),
    ({"mobile": "mobile"}, "/ui/contact", None),
    ({"mobile": "mobile", "consent": "ok", "email": "x"}, "/ui/contact", None),
])
def test_the_contact_declaration_is_checked_with_the_form(contact, pointer, words):
    problems = check_definition(_definition(contact))
    if pointer is None:
        assert problems == []
        return
    assert any(p.pointer.startswith(pointer) and (words is None or words in p.message) for p in problems), problems


def test_the_resident_forms_ask_for_consent_and_declare_it():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "form_definitions"
    for name, mobile in (("livelihood-request", "caller_mobile"), ("proxy-service", "applicant_mobile")):
        definition = json.loads((root / f"{name}.json").read_text())
        assert check_definition(definition) == []
        assert definition["ui"]["contact"] == {"mobile": mobile, "consent": "contact_consent"}
        consent = definition["schema"]["properties"]["contact_consent"]
        assert consent["type"] == "boolean" and consent["title"] == "同意通过短信接收办理进展"
        assert "contact_consent" not in definition["schema"]["required"]
