"""The delivery list and its dead letters (issue 21): scoped to the admin's units (rows of
no unit for county admins only), filtered, paginated, targets shown by name and never by
address, and 「重新发送」 (one row or a selection; CSRF; audited) putting a dead row back in
line so it gets sent; another street's row is 404 and stays dead."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.accounts.service import create_user
from fengqiao.db import db
from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.models import AuditEntry, Delivery, OrgUnit, User, UserNotificationPrefs
from fengqiao.notifications.channels import register
from fengqiao.notifications.fanout import message_payload
from fengqiao.sdk.channels import Channel, Delivered
from fengqiao.testing.plugin import csrf_token, login

PAGE = "/admin/notifications/deliveries"
API = "/api/v1/admin/deliveries"
STREET, OTHER_STREET, COMMUNITY, VILLAGE = "339901001", "339901100", "339901001001", "339901100201"
MOBILE = "13900001111"


class Recorder(Channel):
    name, label, audience, address_field = "recorder", "短信（测试）", "personal", "mobile"

    def __init__(self):
        self.sent = []

    def send(self, recipient, message):
        self.sent.append((recipient, message))
        return Delivered(200, "ok")


@pytest.fixture
def recorder(app):
    channel = Recorder()
    register(app, None, channel)
    yield channel
    app.extensions["fengqiao.channels"].pop("recorder")


@pytest.fixture
def world(app, demo):
    """Street admins and dead rows: zhangmin's SMS in 揽月社区 (with the mobile she gave), a
    resident's SMS in 石溪村, a unit robot message of 澄湖街道 and a row tied to no unit."""
    with app.app_context():
        create_user("chenghu_admin", DEMO_PASSWORD, "admin", STREET, "澄湖街道管理员")
        create_user("shixi_admin", DEMO_PASSWORD, "admin", OTHER_STREET, "石溪镇管理员")
        units = dict(db.execute(sa.select(OrgUnit.code, OrgUnit.id)).all())
        zhangmin = db.scalar(sa.select(User.id).where(User.username == "zhangmin"))
        db.add(UserNotificationPrefs(user_id=zhangmin, mobile=MOBILE, channels=["recorder"]))
        rows = {}
        for name, target, org, kind, error in [
            ("a", f"user:{zhangmin}", units[COMMUNITY], "urge", f"号码 {MOBILE} 已停机"),
            ("village", "case:987", units[VILLAGE], "reply", "居民未同意短信"),
            ("street", f"unit:{units[STREET]}", units[STREET], "summon", "HTTP 500"),
            ("none", f"user:{zhangmin}", None, "points.claim", "HTTP 502"),
        ]:
            payload = message_payload(f"test:{name}", kind=kind, title="通知", text="测试", link="/inbox",
                                      case_number="WG-9" if name == "a" else None)
            row = Delivery(event_key=f"test:{name}", channel="recorder", target=target, org_id=org, kind=kind,
                           payload=payload, status="dead", attempts=6, last_error=error, response_code=410)
            db.add(row)
            db.flush()
            rows[name] = row.id
        db.commit()
    return rows


def _row(app, delivery_id: int) -> Delivery:
    with app.app_context():
        row = db.get(Delivery, delivery_id)
        db.expunge_all()
        return row


def _ids(client, query: str = "status=dead", headers=None) -> list[int]:
    response = client.get(f"{API}?{query}", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def test_each_admin_sees_the_rows_of_their_units_and_county_admins_the_unit_less_ones(client, bearer, world):
    assert sorted(_ids(client, headers=bearer("admin"))) == sorted(world.values())
    assert sorted(_ids(client, headers=bearer("chenghu_admin"))) == sorted([world["a"], world["street"]])
    assert _ids(client, headers=bearer("shixi_admin")) == [world["village"]]
    assert client.get(API, headers=bearer("shenli")).status_code == 403


def test_targets_are_names_never_addresses_and_errors_are_masked(client, bearer, world):
    body = client.get(f"{API}?status=dead", headers=bearer("admin"))
    text = body.get_data(as_text=True)
    assert MOBILE not in text and "139****1111" in text
    items = {i["id"]: i for i in body.get_json()["items"]}
    assert items[world["a"]]["target"] == "张敏" and items[world["a"]]["kind_label"] == "催办"
    assert items[world["a"]]["case_number"] == "WG-9" and items[world["a"]]["response_code"] == 410
    assert items[world["village"]]["target"] == "居民" and items[world["street"]]["target"] == "澄湖街道"
    assert items[world["none"]]["kind_label"] == "事项动态" and items[world["a"]]["status_label"] == "失败"


def test_filters_paginate_and_bad_values_are_422(app, client, bearer, world):
    headers = bearer("admin")
    assert _ids(client, "status=sent", headers) == []
    assert _ids(client, "channel=webhook", headers) == []
    first = client.get(f"{API}?status=dead&limit=3", headers=headers).get_json()
    second = client.get(f"{API}?status=dead&limit=3&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [i["id"] for i in first["items"] + second["items"]] == sorted(world.values(), reverse=True)
    assert second["next_cursor"] is None
    bad = client.get(f"{API}?status=broken&channel=%E7%9F%AD%E4%BF%A1", headers=headers)
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.get_json()["errors"]} == {"/status", "/channel"}
    assert "dead（失败）" in bad.get_data(as_text=True)
    assert client.get(f"{API}?limit=abc", headers=headers).status_code == 422
    web = app.test_client()
    login(web, "admin")
    assert web.get(f"{PAGE}?status=broken").status_code == 422
    page = web.get(f"{PAGE}?status=dead").get_data(as_text=True)
    assert "张敏" in page and "居民" in page and "重新发送" in page and MOBILE not in page


def test_resend_one_row_puts_it_back_in_line_and_it_is_sent(app, world, recorder):
    web = app.test_client()
    login(web, "chenghu_admin")
    token = csrf_token(web, PAGE)
    response = web.post(f"{PAGE}/resend", data={"csrf_token": token, "one": str(world["a"]), "status": "dead"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{PAGE}?status=dead")
    row = _row(app, world["a"])
    assert (row.status, row.attempts, row.last_error, row.response_code) == ("sent", 1, "", 200)
    [(recipient, message)] = recorder.sent
    assert recipient.address == MOBILE and message.event_id == "test:a"
    with app.app_context():
        [entry] = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "notify.resend")).all()
        assert entry.actor_name == "chenghu_admin" and entry.record == f"delivery:{world['a']}"
        assert entry.detail["was"] == "dead" and MOBILE not in str(entry.detail)
    assert _row(app, world["street"]).status == "dead"  # only the one asked for


def test_resend_a_selection(app, world, recorder):
    web = app.test_client()
    login(web, "admin")
    token = csrf_token(web, PAGE)
    response = web.post(f"{PAGE}/resend", data={"csrf_token": token, "ids": [str(world["a"]), str(world["none"])]})
    assert response.status_code == 302
    assert _row(app, world["a"]).status == _row(app, world["none"]).status == "sent"
    assert len(recorder.sent) == 2 and _row(app, world["village"]).status == "dead"


def test_another_streets_row_is_404_and_stays_dead_and_csrf_is_required(app, world, recorder):
    web = app.test_client()
    login(web, "shixi_admin")
    token = csrf_token(web, PAGE)
    assert web.post(f"{PAGE}/resend", data={"csrf_token": token, "one": str(world["a"])}).status_code == 404
    mixed = web.post(f"{PAGE}/resend", data={"csrf_token": token, "ids": [str(world["village"]), str(world["a"])]})
    assert mixed.status_code == 404  # one of them is not theirs: nothing is resent
    assert web.post(f"{PAGE}/resend", data={"one": str(world["village"])}).status_code == 400  # no token
    assert _row(app, world["a"]).status == _row(app, world["village"]).status == "dead"
    assert recorder.sent == []
    bad = web.post(f"{PAGE}/resend", data={"csrf_token": token, "one": "١٢"}, follow_redirects=True)
    assert bad.status_code == 200 and "记录编号无效" in bad.get_data(as_text=True)


def test_the_admin_home_shows_the_dead_count_of_the_admins_units(app, world):
    admin, street, worker = app.test_client(), app.test_client(), app.test_client()
    login(admin, "admin")
    login(street, "chenghu_admin")
    login(worker, "zhangmin")
    assert 'data-dead="4"' in admin.get("/").get_data(as_text=True)
    assert 'data-dead="2"' in street.get("/").get_data(as_text=True)
    assert "data-dead" not in worker.get("/").get_data(as_text=True)
