"""Delivery beyond the inbox, the core (issue 21): quiet hours, the outcome of an attempt
(sent, retried with backoff, dead-lettered), per-unit off switches, a user's chosen channel and
a unit's group robot reached once per event however often the job runs."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from fengqiao.cases.jobs import notify
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.models import (
    Delivery,
    Notification,
    OrgUnit,
    UnitNotificationSettings,
    User,
    UserNotificationPrefs,
)
from fengqiao.notifications import sending
from fengqiao.notifications.channels import register
from fengqiao.notifications.fanout import hold_until, notify_users
from fengqiao.notifications.protocol import Channel, Delivered, Failed, RetryAfter
from fengqiao.testing.plugin import submit_form

INCIDENT = {"summary": "湖滨路路灯不亮", "category": "安全隐患", "description": "湖滨路东段三盏路灯夜间不亮，联系 13812345678。",
            "location": {"address": "湖滨路东段"}, "urgency": "normal"}
COMMUNITY, STREET, COUNTY = "339901001001", "339901001", "339901"


def _local(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(utcnow().tzinfo)


@pytest.mark.parametrize(("now", "window", "held_to"), [
    (_local(23), ("22:00", "07:00"), _local(7, day=8)),
    (_local(6, 59), ("22:00", "07:00"), _local(7)),
    (_local(7), ("22:00", "07:00"), None),
    (_local(12), ("22:00", "07:00"), None),
    (_local(2), ("01:00", "05:30"), _local(5, 30)),
    (_local(23), ("01:00", "05:30"), None),
    (_local(23), ("00:00", "00:00"), None),
])
def test_quiet_hours_hold_until_the_window_ends(now, window, held_to):
    assert hold_until(now, window) == held_to


class Recorder(Channel):
    """A channel that records what it was asked to send and answers from a script."""

    name, label, audience, address_field, quiet_hours = "recorder", "记录渠道", "personal", "mobile", True

    def __init__(self, answers=None):
        self.sent, self.answers = [], list(answers or [])

    def send(self, recipient, message):
        self.sent.append((recipient, message))
        answer = self.answers.pop(0) if self.answers else Delivered(200, "ok")
        if isinstance(answer, Exception):
            raise answer
        return answer


class Robot(Recorder):
    name, label, audience, address_field, quiet_hours = "robot", "群机器人", "unit", None, False


@pytest.fixture
def channels(app):
    personal, robot = Recorder(), Robot()
    register(app, None, personal)
    register(app, None, robot)
    yield personal, robot
    app.extensions["fengqiao.channels"].pop("recorder")
    app.extensions["fengqiao.channels"].pop("robot")


def _unit_id(code: str) -> int:
    return db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))


def _user_id(name: str) -> int:
    return db.scalar(sa.select(User.id).where(User.username == name))


def _prefs(username: str, channels=("recorder",), mobile="13900001111") -> None:
    db.add(UserNotificationPrefs(user_id=_user_id(username), mobile=mobile, channels=list(channels)))


def _deliveries() -> list[Delivery]:
    rows = list(db.scalars(sa.select(Delivery).order_by(Delivery.id)))
    db.expunge_all()
    return rows


def test_a_chosen_channel_and_a_unit_robot_are_reached_once_per_event(app, demo, channels, client, bearer):
    personal, robot = channels
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    with app.app_context():
        _prefs("shenli")
        db.add(UnitNotificationSettings(org_id=_unit_id(COMMUNITY), quiet_start="00:00", quiet_end="00:00",  # at any hour
                                        channel_config={"robot": {"enabled": True, "url": "http://127.0.0.1:9/x"}}))
        db.commit()
        args = dict(case_number=number, event="urge", message="请加快办理，联系人 13812345678", recipients=["shenli"],
                    key="t1", units=[_unit_id(COMMUNITY)])
        for _ in range(2):  # the job delivered twice (RQ is at-least-once)
            notify(**args)
            db.commit()
        rows = _deliveries()
    assert sorted((r.channel, r.status) for r in rows) == [("recorder", "sent"), ("robot", "sent")]
    assert len(personal.sent) == len(robot.sent) == 1
    recipient, message = personal.sent[0]
    assert recipient.address == "13900001111" and recipient.kind == "user"
    assert "13812345678" not in message.text and message.link.endswith(f"/cases/{number}")
    assert message.event_id == "case-key:t1" and message.case_number == number
    assert robot.sent[0][0].config["url"] == "http://127.0.0.1:9/x" and robot.sent[0][0].kind == "unit"


def test_a_unit_above_the_case_switching_a_kind_off_silences_it(app, demo, channels, client, bearer):
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    with app.app_context():
        _prefs("shenli")
        db.add(UnitNotificationSettings(org_id=_unit_id(STREET), off_kinds=["urge"]))
        db.commit()
        notify(case_number=number, event="urge", message="请加快办理", recipients=["shenli"], key="t2")
        notify(case_number=number, event="assign", message="已指派给您", recipients=["shenli"], key="t3")
        db.commit()
        kinds = db.scalars(sa.select(Notification.kind).where(Notification.case_number == number)).all()
        assert kinds == ["assign"]
        assert [r.kind for r in _deliveries()] == ["assign"]


def test_unit_defaults_apply_until_the_user_chooses(app, demo, channels):
    personal, _ = channels
    with app.app_context():
        db.add(UserNotificationPrefs(user_id=_user_id("shenli"), mobile="13900001111", channels=None))
        db.add(UserNotificationPrefs(user_id=_user_id("gaojie"), mobile="13900002222", channels=[]))
        db.add(UnitNotificationSettings(org_id=_unit_id(COMMUNITY), default_channels=["recorder"],
                                        quiet_start="00:00", quiet_end="00:00"))
        db.commit()
        notify_users("test:defaults", ["shenli", "gaojie"], kind="other", title="通知", text="测试",
                     link="/inbox", org_id=_unit_id(COMMUNITY))
        db.commit()
    assert [r.address for r, _ in personal.sent] == ["13900001111"]  # gaojie chose none


def test_quiet_hours_hold_a_message_unless_urgent_and_the_sweep_sends_it_later(app, demo, channels, monkeypatch):
    personal, _ = channels
    night = _local(23)
    monkeypatch.setattr("fengqiao.notifications.fanout.utcnow", lambda: night)
    monkeypatch.setattr("fengqiao.notifications.sending.utcnow", lambda: night)
    with app.app_context():
        _prefs("shenli")
        db.commit()
        notify_users("test:night", ["shenli"], kind="other", title="通知", text="夜间", link="/inbox",
                     org_id=_unit_id(COMMUNITY))
        notify_users("test:urgent", ["shenli"], kind="other", title="通知", text="紧急", link="/inbox",
                     org_id=_unit_id(COMMUNITY), urgent=True)
        db.commit()
        assert [m.text for _, m in personal.sent] == ["紧急"]
        sending.retry_due()
        db.commit()
        assert len(personal.sent) == 1  # still night
        morning = _local(7, 1, day=8)
        monkeypatch.setattr("fengqiao.notifications.sending.utcnow", lambda: morning)
        sending.retry_due()
        db.commit()
    assert [m.text for _, m in personal.sent] == ["紧急", "夜间"]


def _queue_one(app, channel="recorder") -> int:
    with app.app_context():
        _prefs("shenli")
        db.commit()
        notify_users("test:retry", ["shenli"], kind="other", title="通知", text="重试", link="/inbox",
                     org_id=_unit_id(COMMUNITY), urgent=True)
        db.commit()
        return db.scalar(sa.select(Delivery.id))


def test_a_failing_channel_backs_off_then_dead_letters_and_resend_delivers(app, demo, channels, monkeypatch):
    personal, _ = channels
    personal.answers = [RetryAfter("HTTP 500", response_code=500, excerpt="busy"), ConnectionError("refused"),
                        *[RetryAfter("HTTP 502", response_code=502)] * (sending.MAX_ATTEMPTS - 2)]
    delivery_id = _queue_one(app)
    clock = [utcnow()]
    monkeypatch.setattr("fengqiao.notifications.sending.utcnow", lambda: clock[0])
    with app.app_context():
        waits = []
        row = db.get(Delivery, delivery_id)
        while row.status == "pending":
            waits.append(round((row.next_attempt_at - clock[0]).total_seconds()))
            clock[0] = row.next_attempt_at
            sending.retry_due()
            db.commit()
            db.expire_all()
            row = db.get(Delivery, delivery_id)
        assert waits == list(sending.BACKOFF_SECONDS)
        assert (row.status, row.attempts, row.response_code) == ("dead", sending.MAX_ATTEMPTS, 502)
        assert row.last_error == "HTTP 502"
        sending.resend(row)
        db.commit()
        db.expire_all()
        row = db.get(Delivery, delivery_id)
        assert (row.status, row.attempts) == ("sent", 1)
    assert len(personal.sent) == sending.MAX_ATTEMPTS + 1


def test_a_permanent_failure_dead_letters_at_once_and_a_missing_channel_too(app, demo, channels):
    personal, _ = channels
    personal.answers = [Failed("号码无效", response_code=400)]
    delivery_id = _queue_one(app)
    with app.app_context():
        row = db.get(Delivery, delivery_id)
        assert (row.status, row.attempts, row.last_error) == ("dead", 1, "号码无效")
        app.extensions["fengqiao.channels"]["recorder_off"] = app.extensions["fengqiao.channels"].pop("recorder")
        sending.resend(row)
        db.commit()
        db.expire_all()
        row = db.get(Delivery, delivery_id)
        assert row.status == "dead" and "未安装" in row.last_error
        app.extensions["fengqiao.channels"]["recorder"] = app.extensions["fengqiao.channels"].pop("recorder_off")
