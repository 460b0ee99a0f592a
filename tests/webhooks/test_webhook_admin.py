"""``/admin/webhooks`` (issue 21 part 5): admins register endpoints of their units; the secret
is shown once; every route is scoped (another street's admin gets 404), validated per field
in Chinese, CSRF-protected and audited."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from webhook_kit import make_endpoint, settle

from fengqiao.db import db
from fengqiao.models import AuditEntry, Delivery, WebhookEndpoint
from fengqiao.testing.plugin import csrf_token, login, submit_form

STREET, OTHER_STREET, COMMUNITY = "339901001", "339901100", "339901001001"
REQUEST = {"request_type": "help", "summary": "路灯不亮", "content": "5幢门口路灯坏了一周。",
           "caller_name": "陈德福", "caller_mobile": "13812345678"}
SECRET_ON_PAGE = re.compile(r'<code id="webhook-secret">([^<]+)</code>')


@pytest.fixture
def street_admin(app, demo):
    """An admin of 石溪镇 only (the demo's admin is county-wide)."""
    from fengqiao.accounts.service import create_user

    with app.test_request_context():
        create_user("shixi_admin", "Fengqiao2026", "admin", OTHER_STREET, "石溪镇管理员")
        db.commit()
    return "shixi_admin"


def _audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        db.expunge_all()
        return rows


def _endpoint(app, endpoint_id) -> WebhookEndpoint | None:
    with app.app_context():
        found = db.get(WebhookEndpoint, endpoint_id)
        db.expunge_all()
        return found


def _create(client, **fields):
    data = {"name": "县 12345 平台", "org": STREET, "url": "http://127.0.0.1:9/hooks/fq?token=abc",
            "events": ["case.created", "case.closed"], "csrf_token": csrf_token(client, "/admin/webhooks/new"),
            **fields}
    return client.post("/admin/webhooks/new", data=data)


def test_creating_shows_the_secret_once_and_audits(app, client, demo):
    login(client, "admin")
    response = _create(client, personal="1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = html.unescape(SECRET_ON_PAGE.search(page).group(1))
    with app.app_context():
        endpoint = db.scalar(sa.select(WebhookEndpoint))
        assert endpoint.secret == secret and len(secret) >= 40 and endpoint.personal
        assert endpoint.events == ["case.created", "case.closed"]
        endpoint_id = endpoint.id
    detail = client.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert secret not in detail and secret not in listing and "县 12345 平台" in listing
    assert "只显示这一次" in page
    [created] = _audits(app, "webhook.create")
    assert created.record == f"webhook:{endpoint_id}" and created.detail["host"] == "127.0.0.1"
    assert secret not in str(created.detail) and "/hooks/fq" not in str(created.detail)
    assert [a.record for a in _audits(app, "webhook.personal_grant")] == [f"webhook:{endpoint_id}"]

    rotated = client.post(f"/admin/webhooks/{endpoint_id}/secret",
                          data={"csrf_token": csrf_token(client, f"/admin/webhooks/{endpoint_id}")})
    new_secret = html.unescape(SECRET_ON_PAGE.search(rotated.get_data(as_text=True)).group(1))
    assert rotated.status_code == 200 and new_secret != secret
    assert _endpoint(app, endpoint_id).secret == new_secret and len(_audits(app, "webhook.secret_rotate")) == 1


def test_each_bad_field_gets_its_chinese_message_and_nothing_is_saved(app, client, demo):
    login(client, "admin")
    response = _create(client, name="", org="nowhere", url="https://user:pw@127.0.0.1/x", events=[])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("请填写名称", "请选择有权限管理的单位", "地址中不能包含用户名或密码", "请至少选择一个事件"):
        assert message in page
    for url, message in (("ftp://127.0.0.1/x", "http:// 或 https://"), ("https:///x", "http:// 或 https://"),
                         ("https://127.0.0.1/a b", "空格"), ("https://127.0.0.1:99999/", "格式不正确"),
                         ("https://127.0.0.1/#frag", "片段"), ("https://" + "a" * 600 + ".cn", "500"),
                         ("http://10.1.2.3/hook", "内网或本机地址"), ("http://169.254.169.254/latest", "内网或本机地址")):
        answer = _create(client, url=url)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True), url
    assert _create(client, events=["case.created", "case.deleted"]).status_code == 422
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


def test_writes_need_the_csrf_token(app, client, demo, receiver):
    endpoint_id = make_endpoint(app, receiver, "/x", STREET, ["case.created"])
    login(client, "admin")
    assert client.post("/admin/webhooks/new", data={"name": "x", "org": STREET, "url": "http://127.0.0.1:9/",
                                                    "events": ["case.created"]}).status_code == 400
    for tail in ("", "/secret", "/delete", "/ping"):
        assert client.post(f"/admin/webhooks/{endpoint_id}{tail}", data={"name": "y"}).status_code == 400, tail
    assert _endpoint(app, endpoint_id).name == "/x" and receiver.received == []


def test_another_streets_admin_gets_404_everywhere(app, client, demo, receiver, street_admin):
    endpoint_id = make_endpoint(app, receiver, "/chenghu", STREET, ["case.created"])
    receiver.plan("/chenghu", (400, "no"))
    submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)
    settle(app)
    with app.app_context():
        delivery_id = db.scalar(sa.select(Delivery.id).where(Delivery.target == f"endpoint:{endpoint_id}"))
    login(client, street_admin)
    assert "/chenghu" not in client.get("/admin/webhooks").get_data(as_text=True)
    assert client.get(f"/admin/webhooks/{endpoint_id}").status_code == 404
    token = csrf_token(client, "/admin/webhooks/new")
    for tail in ("", "/secret", "/delete", "/ping", f"/deliveries/{delivery_id}/resend"):
        response = client.post(f"/admin/webhooks/{endpoint_id}{tail}", data={"csrf_token": token, "name": "x"})
        assert response.status_code == 404, tail
    form = client.get("/admin/webhooks/new").get_data(as_text=True)
    assert f'value="{OTHER_STREET}"' in form and f'value="{STREET}"' not in form
    refused = _create(client, org=STREET)
    assert refused.status_code == 422 and "请选择有权限管理的单位" in refused.get_data(as_text=True)
    assert _create(client, org=OTHER_STREET).status_code == 200
    after = _endpoint(app, endpoint_id)
    assert after is not None and after.name == "/chenghu" and after.secret == receiver.secrets["/chenghu"]
    assert _audits(app, "webhook.resend") == [] and _audits(app, "webhook.ping") == []


def test_ping_resend_edit_and_delete(app, client, demo, receiver):
    endpoint_id = make_endpoint(app, receiver, "/ops", STREET, ["case.created"])
    receiver.plan("/ops", (400, "暂不接收"))
    submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)
    settle(app)
    login(client, "admin")
    page = f"/admin/webhooks/{endpoint_id}"
    with app.app_context():
        dead = db.scalar(sa.select(Delivery).where(Delivery.target == f"endpoint:{endpoint_id}"))
        assert (dead.status, dead.response_code) == ("dead", 400)
        dead_id = dead.id
    shown = client.get(page).get_data(as_text=True)
    assert "失败" in shown and "HTTP 400" in shown and "暂不接收" in shown and "重新发送" in shown

    token = csrf_token(client, page)
    assert client.post(f"{page}/deliveries/{dead_id}/resend", data={"csrf_token": token}).status_code == 302
    settle(app)
    with app.app_context():
        assert db.get(Delivery, dead_id).status == "sent"
    assert [r.json["type"] for r in receiver.at("/ops")] == ["case.created", "case.created"]
    assert [r.verified for r in receiver.at("/ops")] == [True, False]  # the integrator saw the event already
    assert len(_audits(app, "webhook.resend")) == 1
    assert client.post(f"{page}/deliveries/999999/resend", data={"csrf_token": token}).status_code == 404

    assert client.post(f"{page}/ping", data={"csrf_token": token}).status_code == 302
    settle(app)
    ping = receiver.at("/ops")[-1]
    assert ping.verified and ping.json["type"] == "ping" and ping.json["data"]["endpoint"]["id"] == endpoint_id

    edited = client.post(page, data={"csrf_token": token, "name": "改名", "url": receiver.url("/ops"),
                                     "events": ["case.closed"], "personal": "1"})  # "active" unticked
    assert edited.status_code == 302
    after = _endpoint(app, endpoint_id)
    assert (after.name, after.events, after.active, after.personal) == ("改名", ["case.closed"], False, True)
    assert [a.detail["changed"] for a in _audits(app, "webhook.update")] == [["active", "events", "name"]]
    assert len(_audits(app, "webhook.personal_grant")) == 1
    client.post(page, data={"csrf_token": token, "name": "改名", "url": receiver.url("/ops"), "events": ["case.closed"],
                            "active": "1"})
    assert len(_audits(app, "webhook.personal_revoke")) == 1 and _endpoint(app, endpoint_id).active
    bad = client.post(page, data={"csrf_token": token, "name": "改名", "url": "javascript:alert(1)", "events": []})
    assert bad.status_code == 422 and "请至少选择一个事件" in bad.get_data(as_text=True)

    assert client.post(f"{page}/delete", data={"csrf_token": token}).status_code == 302
    assert _endpoint(app, endpoint_id) is None and client.get(page).status_code == 404
    assert len(_audits(app, "webhook.delete")) == 1
