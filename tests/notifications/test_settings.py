"""「我的通知」 (issue 21): a user's own e-mail, mobile and channels on the page and over
``/api/v1/me/notification-settings``: validated per field in Chinese, shown masked only,
changes audited by field name (never the values), CSRF on cookie writes, and the chosen
channel then used for the user's notifications."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import AuditEntry, Delivery, User, UserNotificationPrefs
from fengqiao.notifications import settings as svc
from fengqiao.notifications.channels import register
from fengqiao.notifications.fanout import notify_users
from fengqiao.sdk.channels import Channel, Delivered
from fengqiao.testing.plugin import csrf_token, login

PAGE = "/account/notifications"
API = "/api/v1/me/notification-settings"
MOBILE, EMAIL = "13912345678", "zhang.min@example.com"


class Recorder(Channel):
    name, label, audience, address_field = "recorder", "短信（测试）", "personal", "mobile"

    def __init__(self):
        self.sent = []

    def send(self, recipient, message):
        self.sent.append((recipient, message))
        return Delivered(200, "ok")


class Mailer(Recorder):
    name, label, address_field = "mailer", "邮件（测试）", "email"


@pytest.fixture
def channels(app):
    sms, mail = Recorder(), Mailer()
    register(app, None, sms)
    register(app, None, mail)
    yield sms, mail
    for name in ("recorder", "mailer"):
        app.extensions["fengqiao.channels"].pop(name)


def _prefs(app, username="zhangmin") -> UserNotificationPrefs | None:
    with app.app_context():
        user_id = db.scalar(sa.select(User.id).where(User.username == username))
        prefs = db.get(UserNotificationPrefs, user_id)
        db.expunge_all()
        return prefs


def _audits(app, action="notify.prefs") -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        db.expunge_all()
        return rows


def _post(client, **data):
    return client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), **data})


def test_bad_addresses_are_422_with_a_message_per_field_and_nothing_is_saved(app, client, demo, channels):
    login(client, "zhangmin")
    response = _post(client, email="zhangmin@", mobile="1281234567", mode="custom", channels=["recorder"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert svc.EMAIL_MESSAGE in page and svc.MOBILE_MESSAGE in page
    assert "zhangmin@" not in page and "1281234567" not in page  # never echoed back
    assert _prefs(app) is None and _audits(app) == []
    unknown = _post(client, mode="custom", channels=["fax"])
    assert unknown.status_code == 422 and "渠道 fax 未安装或已停用" in unknown.get_data(as_text=True)


def test_saved_addresses_show_masked_only_and_the_change_is_audited_without_values(app, client, demo, channels):
    login(client, "zhangmin")
    response = _post(client, email=EMAIL, mobile="139 1234 5678", mode="custom", channels=["recorder"])
    assert response.status_code == 302
    prefs = _prefs(app)
    assert (prefs.email, prefs.mobile, prefs.channels) == (EMAIL, MOBILE, ["recorder"])
    page = client.get(PAGE).get_data(as_text=True)
    assert "139****5678" in page and "z***@example.com" in page and "修改" in page
    assert MOBILE not in page and EMAIL not in page
    [entry] = _audits(app)
    assert entry.actor_name == "zhangmin" and entry.record == "user:zhangmin"
    assert entry.detail["changed"] == ["email", "mobile", "channels"]
    assert MOBILE not in str(entry.detail) + entry.field and EMAIL not in str(entry.detail) + entry.field


def test_blank_keeps_clear_removes_and_unit_defaults_reset_the_choice(app, client, demo, channels):
    login(client, "zhangmin")
    _post(client, email=EMAIL, mobile=MOBILE, mode="custom", channels=["recorder", "mailer"])
    assert _post(client, email="", mobile="", mode="custom", channels=["recorder", "mailer"]).status_code == 302
    assert len(_audits(app)) == 1  # nothing changed, nothing audited
    _post(client, email="", clear_email="1", mobile="", mode="default")
    prefs = _prefs(app)
    assert (prefs.email, prefs.mobile, prefs.channels) == ("", MOBILE, None)
    assert _audits(app)[-1].detail["changed"] == ["email", "channels"]
    page = client.get(PAGE).get_data(as_text=True)
    assert 'value="default" checked' in page


def test_without_personal_channels_the_page_says_so_and_keeps_a_stored_choice(app, client, demo):
    with app.app_context():
        user_id = db.scalar(sa.select(User.id).where(User.username == "zhangmin"))
        db.add(UserNotificationPrefs(user_id=user_id, mobile=MOBILE, channels=["recorder"]))
        db.commit()
    login(client, "zhangmin")
    page = client.get(PAGE).get_data(as_text=True)
    assert "当前没有安装可供个人选择的通知渠道" in page and "139****5678" in page
    assert _post(client, email=EMAIL, mode="keep").status_code == 302
    assert _prefs(app).channels == ["recorder"] and _prefs(app).email == EMAIL


def test_the_api_reads_masked_validates_per_field_and_keeps_omitted_fields(app, client, bearer, channels):
    headers = bearer("zhangmin")
    empty = client.get(API, headers=headers).get_json()
    assert empty["email"] == "" and empty["channels"] is None
    assert [c["name"] for c in empty["available_channels"]] == ["mailer", "recorder"]
    bad = client.put(API, json={"email": "no-at-sign", "mobile": "23912345678", "channels": ["fax"]}, headers=headers)
    assert bad.status_code == 422
    assert {e["pointer"]: e["message"] for e in bad.get_json()["errors"]} == {
        "/email": svc.EMAIL_MESSAGE, "/mobile": svc.MOBILE_MESSAGE, "/channels": "渠道 fax 未安装或已停用"}
    assert client.put(API, json={"mobile": 13912345678}, headers=headers).status_code == 422  # a number, not text
    saved = client.put(API, json={"mobile": MOBILE, "channels": ["recorder"]}, headers=headers)
    assert saved.status_code == 200
    body = saved.get_json()
    assert body["mobile"] == "139****5678" and body["channels"] == ["recorder"] and body["changed"] == ["mobile", "channels"]
    assert MOBILE not in saved.get_data(as_text=True)
    again = client.put(API, json={"email": EMAIL}, headers=headers).get_json()
    assert again["mobile"] == "139****5678" and again["email"] == "z***@example.com"
    reset = client.put(API, json={"channels": None}, headers=headers).get_json()
    assert reset["channels"] is None and _prefs(app).mobile == MOBILE


def test_a_cookie_put_needs_the_csrf_header(app, client, demo):
    login(client, "zhangmin")
    assert client.put(API, json={"mobile": MOBILE}).status_code == 400
    assert _prefs(app) is None
    token = csrf_token(client, PAGE)
    assert client.put(API, json={"mobile": MOBILE}, headers={"X-CSRFToken": token}).status_code == 200
    assert _prefs(app).mobile == MOBILE
    assert client.post(PAGE, data={"mobile": "13900000000"}).status_code == 400  # the form too


def test_the_chosen_channel_reaches_the_saved_address(app, client, demo, channels):
    sms, mail = channels
    login(client, "zhangmin")
    _post(client, email=EMAIL, mobile=MOBILE, mode="custom", channels=["mailer"])
    with app.app_context():
        notify_users("test:prefs", ["zhangmin"], kind="urge", title="催办", text="请处理", link="/inbox", urgent=True)
        db.commit()
        rows = db.execute(sa.select(Delivery.channel, Delivery.status)).all()
    assert rows == [("mailer", "sent")] and sms.sent == []
    assert [r.address for r, _ in mail.sent] == [EMAIL]
