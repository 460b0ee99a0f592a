"""A unit admin's 「通知设置」 (issue 21): event kinds switched off for the unit's subtree,
default channels, quiet hours, and the unit channels' configuration generated from their
``config_schema`` (secrets never shown back) with 「发送测试消息」; scoped to the admin's
units (another street's unit is 404) and audited."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from fengqiao.accounts.service import create_user
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.models import (
    AuditEntry,
    Delivery,
    Notification,
    OrgUnit,
    UnitNotificationSettings,
    User,
    UserNotificationPrefs,
)
from fengqiao.notifications import settings as svc
from fengqiao.notifications.channels import register
from fengqiao.sdk.channels import Channel, Delivered
from fengqiao.testing.plugin import csrf_token, login, submit_form

PAGE = "/admin/notifications"
STREET, OTHER_STREET, COMMUNITY = "339901001", "339901100", "339901001001"
ENFORCEMENT, HOUSING = "339901902", "339901903"
WHISTLE = {"summary": "揽月花园地下车库反复渗水", "address": "揽月花园地下车库", "category": "livelihood",
           "description": "车库顶板渗水半年，物业、施工方互相推诿，社区多次协调无果，需要住建和执法部门到场。",
           "departments_wanted": "住建局、综合行政执法局"}
ROBOT_SCHEMA = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "format": "uri", "title": "机器人地址", "maxLength": 300},
        "secret": {"type": "string", "title": "签名密钥", "writeOnly": True, "minLength": 8},
        "mention_all": {"type": "boolean", "title": "@所有人"},
    },
    "required": ["url"],
    "additionalProperties": False,
}
SECRET = "s3cr3t-robot-key-0042"


class Sms(Channel):
    name, label, audience, address_field, quiet_hours = "sms", "短信（测试）", "personal", "mobile", True

    def __init__(self):
        self.sent = []

    def send(self, recipient, message):
        self.sent.append((recipient, message))
        return Delivered(200, "ok")


class Robot(Sms):
    name, label, audience, address_field, quiet_hours = "robot", "群机器人（测试）", "unit", None, False
    config_schema = ROBOT_SCHEMA


@pytest.fixture
def channels(app):
    sms, robot = Sms(), Robot()
    register(app, None, sms)
    register(app, None, robot)
    yield sms, robot
    for name in ("sms", "robot"):
        app.extensions["fengqiao.channels"].pop(name)


@pytest.fixture
def street_admins(app, demo):
    """An admin of 澄湖街道 and one of 石溪镇 (the demo county has a county admin only)."""
    with app.app_context():
        create_user("chenghu_admin", DEMO_PASSWORD, "admin", STREET, "澄湖街道管理员")
        create_user("shixi_admin", DEMO_PASSWORD, "admin", OTHER_STREET, "石溪镇管理员")
        db.commit()
    return "chenghu_admin", "shixi_admin"


def _unit_id(code: str) -> int:
    return db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))


def _settings(app, code: str) -> UnitNotificationSettings | None:
    with app.app_context():
        row = db.get(UnitNotificationSettings, _unit_id(code))
        db.expunge_all()
        return row


def _audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        db.expunge_all()
        return rows


def _save(client, unit: str, on_kinds=None, **extra):
    data = {"csrf_token": csrf_token(client, PAGE + f"?unit={unit}") if unit else csrf_token(client, PAGE),
            "unit": unit, "quiet_start": "22:00", "quiet_end": "07:00",
            "on_kinds": list(svc.kind_choices()) if on_kinds is None else on_kinds, **extra}
    return client.post(PAGE, data=data)


def _act(client, headers, number, action, **body):
    version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
    response = client.post(f"/api/v1/cases/{number}/actions/{action}", json={"version": version, **body},
                           headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ---- scope ---------------------------------------------------------------------------------------


def test_the_unit_picker_offers_only_the_admins_units_and_another_street_is_404(app, client, street_admins):
    login(client, "chenghu_admin")
    page = client.get(PAGE).get_data(as_text=True)
    assert "澄湖街道" in page and "揽月社区" in page and "石溪镇" not in page and "竹坞村" not in page
    assert client.get(PAGE + f"?unit={OTHER_STREET}").status_code == 404
    assert client.get(PAGE + "?unit=339901100202").status_code == 404  # 竹坞村, below the other street
    assert client.get(PAGE + "?unit=nosuchunit").status_code == 404
    token = csrf_token(client, PAGE)
    refused = client.post(PAGE, data={"csrf_token": token, "unit": OTHER_STREET, "quiet_start": "22:00",
                                      "quiet_end": "07:00"})
    assert refused.status_code == 404 and _settings(app, OTHER_STREET) is None
    assert client.post(f"{PAGE}/channels/robot", data={"csrf_token": token, "unit": OTHER_STREET}).status_code == 404
    assert client.get(PAGE + f"?unit={COMMUNITY}").status_code == 200  # below their street
    grid_worker = app.test_client()
    login(grid_worker, "zhangmin")
    assert grid_worker.get(PAGE).status_code == 403  # not an admin


# ---- switches, default channels, quiet hours ---------------------------------------------------------


def test_bad_times_and_channels_are_422_per_field(app, client, street_admins):
    login(client, "chenghu_admin")
    response = _save(client, STREET, quiet_start="25:00", quiet_end="7点", default_channels=["fax"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count(svc.TIME_MESSAGE) == 2 and "渠道 fax 未安装或已停用" in page
    assert _settings(app, STREET) is None and _audits(app, "notify.unit_settings") == []


def test_a_save_is_stored_and_audited_and_shown_back(app, client, street_admins, channels):
    login(client, "chenghu_admin")
    on = [k for k in svc.kind_choices() if k not in ("summon", "other")]
    response = _save(client, STREET, on_kinds=on, quiet_start="21:30", quiet_end="06:45", default_channels=["sms"])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?unit={STREET}")
    row = _settings(app, STREET)
    assert (row.off_kinds, row.default_channels, row.quiet_start, row.quiet_end) == (
        ["other", "summon"], ["sms"], "21:30", "06:45")
    [entry] = _audits(app, "notify.unit_settings")
    assert entry.actor_name == "chenghu_admin" and entry.record == f"unit:{STREET}"
    assert set(entry.detail["changed"]) == {"off_kinds", "default_channels", "quiet_start", "quiet_end"}
    page = client.get(PAGE + f"?unit={STREET}").get_data(as_text=True)
    assert 'value="21:30"' in page and 'value="summon" >' in page and 'value="dispatch" checked>' in page
    community = client.get(PAGE + f"?unit={COMMUNITY}").get_data(as_text=True)
    assert "上级单位已关闭" in community  # the street's switch shows on the community's page


def _whistle(client, bearer) -> tuple[str, dict]:
    number = submit_form(client, "whistle-request", WHISTLE, headers=bearer("shenli"))["case_number"]
    headers = bearer("zhoujian")
    before = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["state"]
    after = _act(client, headers, number, "approve", fields={"units": [ENFORCEMENT, HOUSING]})
    return number, {"before": before, "after": after["state"]}


def _summoned_setup(app):
    """zhifa chose SMS; the enforcement bureau's robot is on: a summons reaches both."""
    with app.app_context():
        zhifa = db.scalar(sa.select(User.id).where(User.username == "zhifa"))
        db.add(UserNotificationPrefs(user_id=zhifa, mobile="13900001111", channels=["sms"]))
        db.add(UnitNotificationSettings(org_id=_unit_id(ENFORCEMENT), quiet_start="00:00", quiet_end="00:00",
                                        channel_config={"robot": {"enabled": True, "url": "http://127.0.0.1:9/r"}}))
        db.commit()


def _summons(app, number: str) -> tuple[list, list]:
    with app.app_context():
        inbox = db.scalars(sa.select(Notification.kind).where(Notification.case_number == number,
                                                              Notification.kind == "summon")).all()
        deliveries = db.scalars(sa.select(Delivery.channel).where(Delivery.kind == "summon")
                                .order_by(Delivery.channel)).all()
        return list(inbox), list(deliveries)


def test_summon_switched_off_by_another_street_still_reaches_the_bureaus(app, client, bearer, street_admins,
                                                                         channels):
    _summoned_setup(app)
    web = app.test_client()  # the API calls below use bearer tokens on ``client``
    login(web, "shixi_admin")
    assert _save(web, OTHER_STREET, on_kinds=[k for k in svc.kind_choices() if k != "summon"]).status_code == 302
    number, _ = _whistle(client, bearer)
    inbox, deliveries = _summons(app, number)
    assert len(inbox) == 2 and deliveries == ["robot", "sms"]


def test_summon_switched_off_by_the_street_delivers_nothing_but_the_case_moves_on(app, client, bearer,
                                                                                 street_admins, channels):
    sms, robot = channels
    _summoned_setup(app)
    web = app.test_client()  # the API calls below use bearer tokens on ``client``
    login(web, "chenghu_admin")
    assert _save(web, STREET, on_kinds=[k for k in svc.kind_choices() if k != "summon"]).status_code == 302
    number, states = _whistle(client, bearer)
    assert states["before"] != states["after"]  # the summons happened
    assert _summons(app, number) == ([], [])
    assert sms.sent == [] and robot.sent == []


def test_quiet_hours_saved_on_the_page_hold_sms_until_they_end(app, client, bearer, street_admins, channels,
                                                             monkeypatch):
    sms, _ = channels
    _summoned_setup(app)
    web = app.test_client()  # the API calls below use bearer tokens on ``client``
    login(web, "chenghu_admin")
    assert _save(web, STREET, quiet_start="12:00", quiet_end="13:00").status_code == 302
    noon = datetime(2030, 1, 7, 12, 30, tzinfo=LOCAL_TZ).astimezone(utcnow().tzinfo)
    monkeypatch.setattr("fengqiao.notifications.fanout.utcnow", lambda: noon)
    number, _ = _whistle(client, bearer)
    with app.app_context():
        row = db.scalar(sa.select(Delivery).where(Delivery.kind == "summon", Delivery.channel == "sms"))
        assert row.status == "pending" and row.attempts == 0
        assert row.next_attempt_at == datetime(2030, 1, 7, 13, 0, tzinfo=LOCAL_TZ)
        robot = db.scalar(sa.select(Delivery).where(Delivery.kind == "summon", Delivery.channel == "robot"))
        assert robot.next_attempt_at == noon  # a group robot ignores quiet hours
    assert sms.sent == []


# ---- unit channels ---------------------------------------------------------------------------------


def _channel_post(client, unit=STREET, name="robot", **data):
    token = csrf_token(client, PAGE + f"?unit={unit}")
    return client.post(f"{PAGE}/channels/{name}", data={"csrf_token": token, "unit": unit, **data})


def test_the_channel_form_follows_its_schema_and_validates(app, client, street_admins, channels):
    login(client, "chenghu_admin")
    page = client.get(PAGE + f"?unit={STREET}").get_data(as_text=True)
    assert "群机器人（测试）" in page and "机器人地址" in page and "签名密钥" in page and "@所有人" in page
    missing = _channel_post(client, enabled="1")
    assert missing.status_code == 422 and "启用前请填写「机器人地址」" in missing.get_data(as_text=True)
    wrong = _channel_post(client, enabled="1", url="ftp://robot.example/x", secret="short")
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "http:// 或 https://" in text
    for inside in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.8:6379/"):  # SSRF targets
        internal = _channel_post(client, enabled="1", url=inside, secret="SEC" + "x" * 20)
        assert internal.status_code == 422 and "内网或本机地址" in internal.get_data(as_text=True), inside
    short = _channel_post(client, enabled="1", url="https://robot.example/hook", secret="short")
    assert short.status_code == 422 and 'value="short"' not in short.get_data(as_text=True)
    assert _settings(app, STREET) is None
    assert _channel_post(client, name="nosuch", enabled="1").status_code == 404


def test_a_secret_is_never_shown_back_and_blank_keeps_it(app, client, street_admins, channels):
    login(client, "chenghu_admin")
    saved = _channel_post(client, enabled="1", url="https://robot.example/hook", secret=SECRET, mention_all="1")
    assert saved.status_code == 302
    assert _settings(app, STREET).channel_config["robot"] == {
        "enabled": True, "url": "https://robot.example/hook", "secret": SECRET, "mention_all": True}
    page = client.get(PAGE + f"?unit={STREET}").get_data(as_text=True)
    assert SECRET not in page and "已设置，留空则保持不变" in page and "https://robot.example/hook" in page
    assert _channel_post(client, enabled="1", url="https://robot.example/v2", secret="").status_code == 302
    config = _settings(app, STREET).channel_config["robot"]
    assert config["secret"] == SECRET and config["url"] == "https://robot.example/v2" and config["mention_all"] is False
    entries = _audits(app, "notify.channel_config")
    assert len(entries) == 2 and entries[1].detail["changed"] == ["mention_all", "url"]
    assert all(SECRET not in str(e.detail) for e in entries)


def test_a_test_message_is_queued_sent_and_listed(app, client, street_admins, channels):
    _, robot = channels
    login(client, "chenghu_admin")
    token = csrf_token(client, PAGE + f"?unit={STREET}")
    refused = client.post(f"{PAGE}/channels/robot/test", data={"csrf_token": token, "unit": STREET})
    assert refused.status_code == 422 and "请先启用并保存「群机器人（测试）」的配置" in refused.get_data(as_text=True)
    _channel_post(client, enabled="1", url="https://robot.example/hook")
    sent = client.post(f"{PAGE}/channels/robot/test", data={"csrf_token": token, "unit": STREET})
    assert sent.status_code == 302 and "/admin/notifications/deliveries" in sent.headers["Location"]
    assert len(robot.sent) == 1
    recipient, message = robot.sent[0]
    assert recipient.kind == "unit" and recipient.config["url"] == "https://robot.example/hook"
    assert message.kind == "test" and message.event_id.startswith("test:")
    with app.app_context():
        row = db.scalar(sa.select(Delivery))
        assert (row.status, row.target, row.org_id) == ("sent", f"unit:{_unit_id(STREET)}", _unit_id(STREET))
    listing = client.get("/admin/notifications/deliveries?channel=robot").get_data(as_text=True)
    assert "测试消息" in listing and "澄湖街道" in listing and "已发送" in listing
    assert len(_audits(app, "notify.test")) == 1


class Dingbot(Sms):
    """A schema shaped like the bundled robots': ``enabled`` declared, no extra keys, a pattern."""

    name, label, audience, address_field, quiet_hours = "dingbot", "钉钉（测试）", "unit", None, False
    config_schema = {"type": "object", "required": ["url"], "additionalProperties": False, "properties": {
        "enabled": {"type": "boolean", "title": "启用"},
        "url": {"type": "string", "title": "Webhook 地址", "maxLength": 2000, "pattern": r"^https?://[^\s/?#]+[^\s]*$"},
        "secret": {"type": "string", "title": "加签密钥", "maxLength": 200, "writeOnly": True}}}


def test_a_schema_declaring_enabled_and_no_extra_keys_is_saved(app, client, street_admins):
    register(app, None, Dingbot())
    try:
        login(client, "chenghu_admin")
        page = client.get(PAGE + f"?unit={STREET}").get_data(as_text=True)
        assert 'type="url" id="c-dingbot-url"' in page and 'maxlength="2000"' in page
        url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
        assert _channel_post(client, name="dingbot", enabled="1", url=url, secret="SECabc").status_code == 302
        assert _settings(app, STREET).channel_config["dingbot"] == {"enabled": True, "url": url, "secret": "SECabc"}
        off = _channel_post(client, name="dingbot", url="")
        assert off.status_code == 302  # switched off: the URL may be left out
        assert _settings(app, STREET).channel_config["dingbot"] == {"enabled": False, "secret": "SECabc"}
    finally:
        app.extensions["fengqiao.channels"].pop("dingbot")


def test_a_unit_follows_the_quiet_hours_above_until_it_sets_its_own(app, client, street_admins, channels):
    from fengqiao.notifications.fanout import quiet_window

    login(client, "chenghu_admin")
    assert _save(client, STREET, quiet_start="23:00", quiet_end="06:00").status_code == 302
    page = client.get(PAGE + f"?unit={COMMUNITY}").get_data(as_text=True)
    assert "当前沿用 23:00–06:00" in page and 'name="quiet_start" value=""' in page
    assert _channel_post(client, unit=COMMUNITY, enabled="1", url="https://robot.example/c").status_code == 302
    row = _settings(app, COMMUNITY)
    assert (row.quiet_start, row.quiet_end) == (None, None)  # its own row, still following the street
    assert row.channel_config["robot"]["url"] == "https://robot.example/c"
    assert _save(client, STREET, quiet_start="21:00", quiet_end="08:00").status_code == 302
    with app.app_context():
        assert quiet_window(_unit_id(COMMUNITY)) == ("21:00", "08:00")  # the street's change reaches it
    half = _save(client, COMMUNITY, quiet_start="22:30", quiet_end="")
    assert half.status_code == 422 and "请同时填写开始和结束时间" in half.get_data(as_text=True)
    assert _save(client, COMMUNITY, quiet_start="22:30", quiet_end="06:30").status_code == 302
    with app.app_context():
        assert quiet_window(_unit_id(COMMUNITY)) == ("22:30", "06:30")
    assert _save(client, COMMUNITY, quiet_start="", quiet_end="").status_code == 302
    with app.app_context():
        assert quiet_window(_unit_id(COMMUNITY)) == ("21:00", "08:00")  # back to following


def test_other_switched_off_silences_kinds_without_a_label(app, street_admins):
    from fengqiao.notifications.fanout import kind_enabled

    with app.app_context():
        db.add(UnitNotificationSettings(org_id=_unit_id(STREET), off_kinds=["other"]))
        db.commit()
        assert kind_enabled("dispatch", _unit_id(COMMUNITY))
        assert not kind_enabled("mediation.accepted", _unit_id(COMMUNITY))
